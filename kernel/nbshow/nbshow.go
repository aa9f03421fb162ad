// Package nbshow displays the project's figures inline in GoNB notebooks: it
// renders a lib/plots Figure (a *plot.Plot or a plots.Grid) to PNG or SVG and
// hands the bytes to gonbui. It also builds the simple line plots the
// notebooks need (curves and sample paths), so notebooks stay thin.
//
// Outside a GoNB kernel (plain `go run`, tests) the Show functions still
// render, and so still report rendering errors, but display nothing.
package nbshow

import (
	"fmt"
	"math"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/pdediff/pdediff/lib/plots"
	"gonum.org/v1/plot/vg"
)

// displayPNG and displaySVG are the sinks; tests replace them.
// Both flush (gonbui.Sync) after displaying: a cell's program may exit right
// after showing its last figure, and without the flush that figure can be lost.
var (
	displayPNG = func(b []byte) { gonbui.DisplayPNG(b); gonbui.Sync() }
	displaySVG = func(s string) { gonbui.DisplaySVG(s); gonbui.Sync() }
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

// Must panics on a non-nil error; GoNB reports the panic in the cell output,
// which makes a headless notebook run fail. Use it for one-line cells:
// nbshow.Must(nbshow.Show(fig, w, h)).
func Must(err error) {
	if err != nil {
		panic(err)
	}
}
