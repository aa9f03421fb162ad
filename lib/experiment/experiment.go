package experiment

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"path/filepath"
	"strings"

	"github.com/gomlx/compute"
	"gonum.org/v1/plot/vg"

	"github.com/pdediff/pdediff/lib/backend"
	"github.com/pdediff/pdediff/lib/plots"
)

// PresetName names an experiment size.
type PresetName string

// The preset names. Every experiment has Quick and Paper; the flux
// inversions add Standard.
const (
	// Quick runs in minutes: tests, CI, notebooks.
	Quick PresetName = "quick"
	// Standard is the largest grid that finishes in about 90 minutes on 2 cores.
	Standard PresetName = "standard"
	// Paper uses the paper's sizes.
	Paper PresetName = "paper"
)

// ParsePreset returns the preset called s if it is one of allowed (all three
// when allowed is empty), or an error naming the valid ones.
func ParsePreset(s string, allowed ...PresetName) (PresetName, error) {
	if len(allowed) == 0 {
		allowed = []PresetName{Quick, Standard, Paper}
	}
	var names []string
	for _, a := range allowed {
		if string(a) == s {
			return a, nil
		}
		names = append(names, string(a))
	}
	return "", fmt.Errorf("unknown preset %q (want %s)", s, strings.Join(names, " or "))
}

// Env is what a figure maker or experiment stage runs with.
type Env struct {
	// Ctx cancels long work (nil means context.Background()).
	Ctx context.Context
	// Preset is the experiment size.
	Preset PresetName
	// Out is the output folder of figures and run products.
	Out string
	// Seed is the run's seed; parts derive theirs with SubSeed.
	Seed uint64
	// Log receives progress lines (nil discards them).
	Log io.Writer
}

// Context returns e.Ctx or context.Background().
func (e Env) Context() context.Context {
	if e.Ctx == nil {
		return context.Background()
	}
	return e.Ctx
}

// Logger returns e.Log or io.Discard.
func (e Env) Logger() io.Writer {
	if e.Log == nil {
		return io.Discard
	}
	return e.Log
}

// Backend returns the process-wide GoMLX backend (GOMLX_BACKEND, default the
// pure-Go one).
func (e Env) Backend() (compute.Backend, error) { return backend.Shared() }

// Path joins name to the output folder.
func (e Env) Path(name string) string { return filepath.Join(e.Out, name) }

// Save writes fig as name.png and name.svg into the output folder at the
// given size and returns the paths.
func (e Env) Save(fig plots.Figure, w, h vg.Length, name string) ([]string, error) {
	return plots.Save(fig, w, h, e.Path(name))
}

// Figure is one entry of a figure registry.
type Figure struct {
	// Name is the file stem, e.g. "fig3-ve-sde-histograms".
	Name string
	// Summary says what the figure shows, in one line.
	Summary string
	// Make writes the figure (PNG + SVG and any data file) and returns the paths.
	Make func(env Env) ([]string, error)
}

// SubSeed derives a reproducible seed for one part of a run (e.g. the
// training of one case × process) from the run's seed.
func SubSeed(seed uint64, parts ...string) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", seed, strings.Join(parts, "/"))
	return h.Sum64()
}

// Plot is a built figure with the size it is saved at; notebooks show it
// inline, Save writes it.
type Plot struct {
	Fig           plots.Figure
	Width, Height vg.Length
}

// Save writes the plot as name.png and name.svg into env's output folder.
func (p Plot) Save(env Env, name string) ([]string, error) {
	return env.Save(p.Fig, p.Width, p.Height, name)
}
