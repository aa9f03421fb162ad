package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/pdediff/pdediff/lib/experiment"
	"github.com/pdediff/pdediff/lib/experiment/figures"
)

func init() {
	register(command{name: "figures", summary: "regenerate the paper's figures (PNG + SVG) into a folder", runCtx: runFigures})
}

func runFigures(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("figures", "regenerate figures (PNG + SVG)", stderr)
	preset := fs.String("preset", "quick", "experiment size: quick (minutes) or paper (the paper's sizes)")
	out := fs.String("out", "figures", "output folder")
	only := fs.String("only", "", "comma-separated figure names to make (default: all); see --list")
	list := fs.Bool("list", false, "list the figures and exit")
	seed := fs.Uint64("seed", 1, "random seed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *list {
		for _, f := range figures.All() {
			fmt.Fprintf(stdout, "%-24s %s\n", f.Name, f.Summary)
		}
		return nil
	}
	p, err := experiment.ParsePreset(*preset, experiment.Quick, experiment.Paper)
	if err != nil {
		return usageErrorf("--preset: %v", err)
	}
	var names []string
	if *only != "" {
		names = strings.Split(*only, ",")
	}
	sel, err := figures.Select(names)
	if err != nil {
		return usageErrorf("--only: %v", err)
	}
	if err := checkOutDir("--out", *out); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	env := experiment.Env{Ctx: ctx, Preset: p, Out: *out, Seed: *seed, Log: stderr}
	for _, f := range sel {
		start := time.Now()
		fmt.Fprintf(stderr, "figure %s ...\n", f.Name)
		paths, err := f.Make(env)
		if err != nil {
			return fmt.Errorf("figure %s: %w", f.Name, err)
		}
		for _, p := range paths {
			fmt.Fprintln(stdout, p)
		}
		fmt.Fprintf(stderr, "figure %s done in %s\n", f.Name, time.Since(start).Round(time.Millisecond))
	}
	return nil
}
