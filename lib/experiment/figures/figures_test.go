package figures

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/pdediff/pdediff/lib/experiment"
)

// The registry lists every figure once, and Select keeps All's order and
// refuses unknown names.
func TestRegistry(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range All() {
		if seen[f.Name] || f.Make == nil || f.Summary == "" {
			t.Errorf("figure %q: duplicate, or no maker or summary", f.Name)
		}
		seen[f.Name] = true
	}
	for _, want := range []string{"fig1-vp-family", "fig2-joint-densities", "fig3-ve-sde-histograms", "fig4-vp-sde-histograms", "fig5-setup", "fig6-prior-draws", "fig12-masked", "fig15-nonlinear", "nfe-accuracy", "demo-forward", "demo-reverse"} {
		if !seen[want] {
			t.Errorf("figure %s missing from the registry", want)
		}
	}
	sel, err := Select([]string{"fig5-setup", "fig1-vp-family"})
	if err != nil || len(sel) != 2 || sel[0].Name != "fig1-vp-family" {
		t.Errorf("Select: %v %v", sel, err)
	}
	if _, err := Select([]string{"fig99"}); err == nil {
		t.Error("unknown figure accepted")
	}
}

// Same seed, same bytes: the cheap figures made twice into two folders are
// byte-identical, PNG and SVG (fig2 covers the contour plots, whose path
// order once depended on map iteration).
func TestDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("renders figures")
	}
	names := []string{"fig1-vp-family", "fig2-joint-densities", "fig5-setup", "demo-forward"}
	sel, err := Select(names)
	if err != nil {
		t.Fatal(err)
	}
	var outs [2]map[string][]byte
	for k := range outs {
		env := experiment.Env{Preset: experiment.Quick, Out: t.TempDir(), Seed: 3}
		outs[k] = map[string][]byte{}
		for _, f := range sel {
			paths, err := f.Make(env)
			if err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
			for _, p := range paths {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				outs[k][filepath.Base(p)] = b
			}
		}
	}
	if len(outs[0]) < 2*len(names) {
		t.Errorf("only %d files made", len(outs[0]))
	}
	for name, b := range outs[0] {
		if !bytes.Equal(b, outs[1][name]) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
}
