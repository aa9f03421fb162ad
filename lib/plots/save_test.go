package plots

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

func TestSaveWritesPNGAndSVG(t *testing.T) {
	p := plot.New()
	l, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	p.Add(l)
	g := Grid{Plots: [][]*plot.Plot{{p, p}}}
	paths, err := Save(g, 6*vg.Inch, 3*vg.Inch, filepath.Join(t.TempDir(), "fig"))
	if err != nil || len(paths) != 2 {
		t.Fatal(paths, err)
	}
	b, _ := os.ReadFile(paths[0])
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if w := img.Bounds().Dx(); w != 6*DPI {
		t.Errorf("PNG width %d, want %d", w, 6*DPI)
	}
	s, _ := os.ReadFile(paths[1])
	if !bytes.Contains(s, []byte("<svg")) {
		t.Error("SVG output lacks <svg")
	}
}
