package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// figureMaker regenerates one figure (or a family of figures) into outDir at a
// preset ("quick" or "paper") and returns the paths it wrote.
type figureMaker struct {
	name    string // e.g. "fig1-vp-family"
	summary string
	make    func(preset, outDir string, seed uint64, log io.Writer) ([]string, error)
}

// figureMakers is filled by init functions in figures_*.go files.
var figureMakers []figureMaker

func registerFigure(f figureMaker) { figureMakers = append(figureMakers, f) }

func init() {
	register(command{name: "figures", summary: "regenerate the paper's figures (PNG + SVG) into a folder", run: runFigures})
}

func runFigures(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("figures", "regenerate figures (PNG + SVG)", stderr)
	preset := fs.String("preset", "quick", "experiment size: quick (minutes) or paper (the paper's sizes)")
	out := fs.String("out", "figures", "output folder")
	only := fs.String("only", "", "comma-separated figure names to make (default: all); see --list")
	list := fs.Bool("list", false, "list the figures and exit")
	seed := fs.Uint64("seed", 1, "random seed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	sort.SliceStable(figureMakers, func(i, j int) bool { return figureMakers[i].name < figureMakers[j].name })
	if *list {
		for _, f := range figureMakers {
			fmt.Fprintf(stdout, "%-28s %s\n", f.name, f.summary)
		}
		return nil
	}
	if *preset != "quick" && *preset != "paper" {
		return usageErrorf("unknown --preset %q (want quick or paper)", *preset)
	}
	want := map[string]bool{}
	if *only != "" {
		known := map[string]bool{}
		for _, f := range figureMakers {
			known[f.name] = true
		}
		for _, n := range strings.Split(*only, ",") {
			n = strings.TrimSpace(n)
			if !known[n] {
				return usageErrorf("unknown figure %q (see pdediff figures --list)", n)
			}
			want[n] = true
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	for _, f := range figureMakers {
		if len(want) > 0 && !want[f.name] {
			continue
		}
		start := time.Now()
		fmt.Fprintf(stderr, "figure %s ...\n", f.name)
		paths, err := f.make(*preset, *out, *seed, stderr)
		if err != nil {
			return fmt.Errorf("figure %s: %w", f.name, err)
		}
		for _, p := range paths {
			fmt.Fprintln(stdout, p)
		}
		fmt.Fprintf(stderr, "figure %s done in %s\n", f.name, time.Since(start).Round(time.Millisecond))
	}
	return nil
}
