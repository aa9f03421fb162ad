package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/pdediff/pdediff/datasets/toy"
	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/buildinfo"
)

func init() {
	toyCommands["data"] = command{name: "data", summary: "sample a joint density (tanh, bimodal, spiral) to FILE.npz (x, y) + FILE.json", run: runToyData}
}

// toyDataMeta is the JSON sidecar of `pdediff toy data`.
type toyDataMeta struct {
	Case    string `json:"case"`
	N       int    `json:"n"`
	Seed    uint64 `json:"seed"`
	Version string `json:"version"`
	Arrays  string `json:"arrays"`
}

// sidecarPath returns FILE.json for FILE.npz (or FILE + ".json").
func sidecarPath(npz string) string {
	return strings.TrimSuffix(npz, ".npz") + ".json"
}

func runToyData(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("toy data", "sample (x, y) pairs from a joint density of paper Section 6.1 (SPEC Eqs 47-49)", stderr)
	name := fs.String("case", "", "joint density: tanh, bimodal or spiral (required)")
	n := fs.Int("n", 10000, "number of (x, y) pairs (paper: 10,000 for training)")
	seed := fs.Uint64("seed", 1, "random seed (same seed, same arrays)")
	out := fs.String("out", "", "output .npz file (required); a JSON sidecar is written beside it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return usageErrorf("--case is required (tanh, bimodal or spiral)")
	}
	c, err := toy.ParseCase(*name)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if *n <= 0 {
		return usageErrorf("--n must be > 0, got %d", *n)
	}
	if *out == "" || !strings.HasSuffix(*out, ".npz") {
		return usageErrorf("--out must name a .npz file, got %q", *out)
	}
	x, y, err := toy.Sample(c, *n, *seed)
	if err != nil {
		return err
	}
	if err := arrayio.WriteNPZ(*out, map[string]arrayio.Array{"x": arrayio.Matrix(*n, 1, x), "y": arrayio.Matrix(*n, 1, y)}); err != nil {
		return err
	}
	side := sidecarPath(*out)
	if err := arrayio.WriteJSON(side, toyDataMeta{Case: string(c), N: *n, Seed: *seed, Version: buildinfo.Version,
		Arrays: "x: inferred variable, y: conditioning variable; float64, shape (n, 1)"}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n%s\n", *out, side)
	return nil
}
