// Package nbshow holds everything the GoNB notebooks share, so that no
// notebook redefines a helper:
//
//   - display: ShowPlot (a figure of an experiment package, the same one
//     `pdediff figures` saves), Show / ShowSVG (any lib/plots Figure),
//     ShowPNGFile (a committed PNG), Markdown;
//   - small line plots for didactic cells: Lines, Paths, Color;
//   - errors: Must, Get, Get2 (panic on error, which fails the cell);
//   - checks: Check, CheckRel, CheckBelow, CheckAbove, CheckIn, CheckTrue print
//     "check <name>: ... OK" or panic with "... FAILED";
//   - numbers: Linspace, MaxAbsDiff, MaxAbs, MeanStd, Trapezoid;
//   - environment: PresetName (PDEDIFF_PRESET), Env, RepoRoot, RepoPath.
//
// Outside a GoNB kernel (plain `go run`, tests) the Show functions still
// render, and so still report rendering errors, but display nothing.
package nbshow

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"os"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/pdediff/pdediff/lib/experiment"
	"github.com/pdediff/pdediff/lib/plots"
	"gonum.org/v1/plot/vg"
)

// displayPNG and displaySVG are the sinks; tests replace them.
// Both flush (gonbui.Sync) after displaying: a cell's program may exit right
// after showing its last figure, and without the flush that figure can be lost.
var (
	displayPNG      = func(b []byte) { gonbui.DisplayPNG(b); gonbui.Sync() }
	displaySVG      = func(s string) { gonbui.DisplaySVG(s); gonbui.Sync() }
	displayMarkdown = func(s string) { gonbui.DisplayMarkdown(s); gonbui.Sync() }
)

// InNotebook reports whether the program runs inside a GoNB kernel cell.
func InNotebook() bool { return gonbui.IsNotebook }

func checkSize(w, h vg.Length) error {
	for _, v := range []struct {
		name string
		l    vg.Length
	}{{"width", w}, {"height", h}} {
		if math.IsNaN(float64(v.l)) || math.IsInf(float64(v.l), 0) || v.l <= 0 {
			return fmt.Errorf("nbshow: figure %s %v must be finite and > 0", v.name, v.l)
		}
		if v.l > 100*vg.Inch {
			return fmt.Errorf("nbshow: figure %s %v is larger than 100 inches", v.name, v.l)
		}
	}
	return nil
}

// Show renders fig at w × h (e.g. 16*vg.Centimeter) as a PNG (plots.DPI) and
// displays it inline in the notebook.
func Show(fig plots.Figure, w, h vg.Length) error {
	if fig == nil {
		return fmt.Errorf("nbshow: nil figure")
	}
	if err := checkSize(w, h); err != nil {
		return err
	}
	b, err := plots.PNG(fig, w, h)
	if err != nil {
		return err
	}
	displayPNG(b)
	return nil
}

// ShowSVG renders fig at w × h as SVG and displays it inline (GoNB wraps SVG
// in HTML so it survives HTML export).
func ShowSVG(fig plots.Figure, w, h vg.Length) error {
	if fig == nil {
		return fmt.Errorf("nbshow: nil figure")
	}
	if err := checkSize(w, h); err != nil {
		return err
	}
	b, err := plots.SVG(fig, w, h)
	if err != nil {
		return err
	}
	displaySVG(string(b))
	return nil
}

// ShowPlot displays a figure of an experiment package (lib/experiment/...)
// inline as a PNG at the size it is saved at by `pdediff figures`.
func ShowPlot(p experiment.Plot) error {
	return Show(p.Fig, p.Width, p.Height)
}

// ShowPNGFile displays a PNG file inline, e.g. a committed figure of another
// preset: nbshow.ShowPNGFile(nbshow.RepoPath("figures/paper/nfe-accuracy.png")).
func ShowPNGFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("nbshow: %w", err)
	}
	if _, err := png.DecodeConfig(bytes.NewReader(b)); err != nil {
		return fmt.Errorf("nbshow: %s is not a PNG: %w", path, err)
	}
	displayPNG(b)
	return nil
}

// Markdown displays Markdown text inline (e.g. a table read from a file).
func Markdown(md string) {
	displayMarkdown(md)
}

// Must panics on a non-nil error; GoNB reports the panic in the cell output,
// which makes a headless notebook run fail. Use it for one-line cells:
// nbshow.Must(nbshow.Show(fig, w, h)). Get and Get2 do the same for calls
// that also return values.
func Must(err error) {
	if err != nil {
		panic(err)
	}
}
