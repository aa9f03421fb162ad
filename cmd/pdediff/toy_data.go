package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/pdediff/pdediff/datasets/toy"
	"github.com/pdediff/pdediff/lib/buildinfo"
)

func init() {
	toyCommands["data"] = command{name: "data", summary: "sample a joint density (tanh, bimodal, spiral) to FILE.npz (x, y) + FILE.json", runCtx: runToyData}
}

// sidecarPath returns FILE.json for FILE.npz (or FILE + ".json").
func sidecarPath(npz string) string { return toy.SidecarPath(npz) }

// toyDataBytes is the peak memory of `toy data --n n`: the samples and 25% for
// the archive and the run-id hash.
func toyDataBytes(n int) float64 { return 1.25 * toy.SampleBytes(n) }

func runToyData(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("toy data", "sample (x, y) pairs from a joint density of paper Section 6.1 (theory eqs. 72, 74, 76)", stderr)
	name := fs.String("case", "", "joint density: tanh, bimodal or spiral (required)")
	n := fs.Int("n", 10000, "number of (x, y) pairs (paper: 10,000 for training; 1e4 notation accepted)")
	seed := fs.Uint64("seed", 1, "random seed (same seed, same arrays, same bytes)")
	out := fs.String("out", "", "output .npz file (required); a JSON sidecar is written beside it, both with the same run_id")
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
	side := sidecarPath(*out)
	if err := checkOutFile("--out", *out); err != nil {
		return err
	}
	if err := checkOutFile("--out (its sidecar)", side); err != nil {
		return err
	}
	if err := checkMemory(fmt.Sprintf("toy data with --n %d", *n), toyDataBytes(*n), "lower --n"); err != nil {
		return err
	}
	x, y, err := toy.Sample(c, *n, *seed)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped before writing %s (nothing written): %w", *out, context.Cause(ctx))
	}
	if err := toy.SaveData(*out, toy.DataMeta{Case: string(c), Seed: *seed, Version: buildinfo.Version,
		Arrays: "x: inferred variable, y: conditioning variable; float64, shape (n, 1); run_id: content hash shared with the sidecar"}, x, y); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n%s\n", *out, side)
	return nil
}
