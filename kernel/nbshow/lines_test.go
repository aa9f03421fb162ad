package nbshow

import (
	"math"
	"testing"

	"gonum.org/v1/plot/vg"
)

func TestLinesFigure(t *testing.T) {
	pngs, _ := capture(t)
	fig, err := LinesFigure("title", "x", "y",
		Series{Name: "a", X: []float64{0, 1}, Y: []float64{0, 1}},
		Series{X: []float64{0, 1}, Y: []float64{1, 0}, Dashed: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(fig.Plots) != 1 || len(fig.Plots[0]) != 1 || fig.Title != "title" || len(fig.Legend) != 1 || fig.Legend[0].Label != "a" {
		t.Errorf("LinesFigure: %d rows, title %q, legend %+v; want one panel, the title and one legend entry", len(fig.Plots), fig.Title, fig.Legend)
	}
	if fig.Plots[0][0].Title.Text != "" {
		t.Errorf("the panel repeats the title %q", fig.Plots[0][0].Title.Text)
	}
	if err := Show(fig, 4*vg.Inch, 3*vg.Inch); err != nil || len(*pngs) != 1 {
		t.Errorf("Show(LinesFigure): %v", err)
	}
	if _, err := LinesFigure("t", "x", "y"); err == nil {
		t.Error("LinesFigure without series did not fail")
	}
}

func TestMatrix(t *testing.T) {
	pngs, _ := capture(t)
	p, err := Matrix("m", "column", "row", "value", 2, 3, []float64{0, 1, 2, 3, 4, 5})
	if err != nil {
		t.Fatal(err)
	}
	if p.X.Min > 1 || p.X.Max < 3 || p.Y.Min > 1 || p.Y.Max < 2 {
		t.Errorf("ranges x [%v, %v] y [%v, %v] do not cover columns 1-3 and rows 1-2", p.X.Min, p.X.Max, p.Y.Min, p.Y.Max)
	}
	if err := Show(p, 4*vg.Inch, 3*vg.Inch); err != nil || len(*pngs) != 1 {
		t.Errorf("Show(Matrix): %v", err)
	}
	for _, c := range []struct {
		rows, cols int
		z          []float64
	}{{2, 2, []float64{1, 2, 3}}, {0, 1, nil}, {1, 2, []float64{1, math.NaN()}}} {
		if _, err := Matrix("", "", "", "", c.rows, c.cols, c.z); err == nil {
			t.Errorf("Matrix(%d, %d, %v) did not fail", c.rows, c.cols, c.z)
		}
	}
	if _, err := Matrix("", "", "", "", 1, 2, []float64{3, 3}); err != nil {
		t.Errorf("constant matrix: %v", err)
	}
}
