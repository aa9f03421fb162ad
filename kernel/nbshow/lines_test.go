package nbshow

import (
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
