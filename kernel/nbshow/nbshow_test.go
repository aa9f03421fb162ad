package nbshow

import (
	"bytes"
	"image/png"
	"math"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/lib/plots"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// capture replaces the display sinks for one test.
func capture(t *testing.T) (pngs *[][]byte, svgs *[]string) {
	t.Helper()
	var p [][]byte
	var s []string
	oldP, oldS := displayPNG, displaySVG
	displayPNG = func(b []byte) { p = append(p, b) }
	displaySVG = func(x string) { s = append(s, x) }
	t.Cleanup(func() { displayPNG, displaySVG = oldP, oldS })
	return &p, &s
}

func TestShowPNGSize(t *testing.T) {
	pngs, _ := capture(t)
	fig, err := Lines("t", "x", "y", Series{X: []float64{0, 1}, Y: []float64{0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ w, h vg.Length }{{2 * vg.Inch, 1 * vg.Inch}, {10 * vg.Centimeter, 5 * vg.Centimeter}} {
		if err := Show(fig, c.w, c.h); err != nil {
			t.Fatal(err)
		}
		b := (*pngs)[len(*pngs)-1]
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("displayed bytes are not a PNG: %v", err)
		}
		wantW := int(math.Round(float64(c.w/vg.Inch) * plots.DPI))
		wantH := int(math.Round(float64(c.h/vg.Inch) * plots.DPI))
		if got := img.Bounds().Size(); got.X != wantW || got.Y != wantH {
			t.Errorf("PNG %v×%v: got %d×%d pixels, want %d×%d", c.w, c.h, got.X, got.Y, wantW, wantH)
		}
	}
	if len(*pngs) != 2 {
		t.Errorf("displayed %d PNGs, want 2", len(*pngs))
	}
}

func TestShowSVG(t *testing.T) {
	_, svgs := capture(t)
	fig, err := Lines("t", "x", "y", Series{Name: "curve-name", X: []float64{0, 1}, Y: []float64{0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ShowSVG(plots.Grid{Plots: [][]*plot.Plot{{fig, fig}}}, 4*vg.Inch, 2*vg.Inch); err != nil {
		t.Fatal(err)
	}
	if len(*svgs) != 1 || !strings.Contains((*svgs)[0], "<svg") || strings.Count((*svgs)[0], "curve-name") != 2 {
		t.Errorf("want one SVG with two legends naming the curve, got %d SVGs", len(*svgs))
	}
}

func TestShowErrors(t *testing.T) {
	pngs, svgs := capture(t)
	fig := plot.New()
	for _, c := range []struct {
		name string
		fig  plots.Figure
		w, h vg.Length
		want string
	}{
		{"nil", nil, vg.Inch, vg.Inch, "nil figure"},
		{"zero width", fig, 0, vg.Inch, "width"},
		{"negative height", fig, vg.Inch, -vg.Inch, "height"},
		{"NaN width", fig, vg.Length(math.NaN()), vg.Inch, "width"},
		{"Inf height", fig, vg.Inch, vg.Length(math.Inf(1)), "height"},
		{"huge", fig, 200 * vg.Inch, vg.Inch, "100 inches"},
	} {
		for name, show := range map[string]func(plots.Figure, vg.Length, vg.Length) error{"Show": Show, "ShowSVG": ShowSVG} {
			err := show(c.fig, c.w, c.h)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s(%s): got %v, want an error containing %q", name, c.name, err, c.want)
			}
		}
	}
	if len(*pngs)+len(*svgs) != 0 {
		t.Errorf("bad input displayed %d images", len(*pngs)+len(*svgs))
	}
}

func TestLinesRanges(t *testing.T) {
	p, err := Lines("title", "x", "y",
		Series{Name: "a", X: []float64{-1, 0, 2}, Y: []float64{3, -4, 5}},
		Series{Name: "b", X: []float64{0.5, 3}, Y: []float64{0, 7}, Dashed: true},
		Series{X: []float64{0, 1}, Y: []float64{-6, 0}, Points: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.X.Min != -1 || p.X.Max != 3 {
		t.Errorf("x range [%v, %v], want [-1, 3]", p.X.Min, p.X.Max)
	}
	// The scatter's glyph radius widens nothing on the data axis range.
	if p.Y.Min != -6 || p.Y.Max != 7 {
		t.Errorf("y range [%v, %v], want [-6, 7]", p.Y.Min, p.Y.Max)
	}
	if p.Title.Text != "title" {
		t.Errorf("title %q", p.Title.Text)
	}
}

func TestLinesErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		s    []Series
		want string
	}{
		{"none", nil, "at least one series"},
		{"mismatch", []Series{{X: []float64{0, 1}, Y: []float64{0}}}, "2 x values but 1 y values"},
		{"short", []Series{{X: []float64{0}, Y: []float64{0}}}, "need at least 2"},
		{"NaN", []Series{{X: []float64{0, 1}, Y: []float64{0, math.NaN()}}}, "point 1"},
		{"Inf", []Series{{Name: "bad", X: []float64{math.Inf(-1), 1}, Y: []float64{0, 0}}}, `("bad") point 0`},
	} {
		_, err := Lines("", "", "", c.s...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

func TestPaths(t *testing.T) {
	tt := []float64{0, 0.5, 1}
	p, err := Paths("paths", "t", "x", tt, []float64{0, 1, 2, 0, -1, -3})
	if err != nil {
		t.Fatal(err)
	}
	if p.X.Min != 0 || p.X.Max != 1 || p.Y.Min != -3 || p.Y.Max != 2 {
		t.Errorf("ranges x [%v,%v] y [%v,%v], want [0,1] and [-3,2]", p.X.Min, p.X.Max, p.Y.Min, p.Y.Max)
	}
	for _, c := range []struct {
		name  string
		t, xs []float64
		want  string
	}{
		{"one time", []float64{0}, []float64{1}, "at least 2 time points"},
		{"ragged", tt, []float64{0, 1, 2, 3}, "not a positive multiple of 3"},
		{"empty", tt, nil, "not a positive multiple"},
		{"NaN", tt, []float64{0, 1, 2, 0, math.NaN(), 1}, "path 1 point 1"},
	} {
		_, err := Paths("", "", "", c.t, c.xs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

func TestColorWraps(t *testing.T) {
	if Color(0) != Color(len(palette)) || Color(-1) != Color(len(palette)-1) {
		t.Error("Color does not wrap around the palette")
	}
}

func TestMust(t *testing.T) {
	Must(nil)
	defer func() {
		if recover() == nil {
			t.Error("Must(err) did not panic")
		}
	}()
	Must(errTest{})
}

type errTest struct{}

func (errTest) Error() string { return "test" }

func TestInNotebookOutsideKernel(t *testing.T) {
	if InNotebook() {
		t.Skip("running inside a GoNB kernel")
	}
	// Outside a kernel the real sinks are no-ops: Show still renders and returns nil.
	if err := Show(plot.New(), vg.Inch, vg.Inch); err != nil {
		t.Fatal(err)
	}
}
