package nbshow

import (
	"fmt"
	"image/color"
	"math"

	"github.com/pdediff/pdediff/lib/plots"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Series is one curve of a line plot.
type Series struct {
	// Name is the legend entry ("" for none).
	Name string
	// X and Y are the points, of equal length >= 2, all finite.
	X, Y []float64
	// Dashed draws the curve dashed (e.g. a reference or exact solution).
	Dashed bool
	// Points draws markers instead of a line.
	Points bool
	// Color overrides the colour (nil: the i-th colour of the cycle), e.g. to
	// draw a numerical solution and its reference in the same colour.
	Color color.Color
}

// palette is a colour-blind-safe cycle (Okabe–Ito).
var palette = []color.Color{
	color.NRGBA{0, 114, 178, 255}, color.NRGBA{213, 94, 0, 255}, color.NRGBA{0, 158, 115, 255},
	color.NRGBA{204, 121, 167, 255}, color.NRGBA{230, 159, 0, 255}, color.NRGBA{86, 180, 233, 255},
	color.NRGBA{0, 0, 0, 255},
}

// Color returns the i-th colour of the plots' cycle (wrapping around).
func Color(i int) color.Color { return palette[((i%len(palette))+len(palette))%len(palette)] }

func pick(c color.Color, i int) color.Color {
	if c != nil {
		return c
	}
	return Color(i)
}

func checkXY(what string, x, y []float64) error {
	if len(x) != len(y) {
		return fmt.Errorf("nbshow: %s has %d x values but %d y values", what, len(x), len(y))
	}
	if len(x) < 2 {
		return fmt.Errorf("nbshow: %s has %d points, need at least 2", what, len(x))
	}
	for i := range x {
		if math.IsNaN(x[i]) || math.IsInf(x[i], 0) || math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			return fmt.Errorf("nbshow: %s point %d = (%v, %v) is not finite", what, i, x[i], y[i])
		}
	}
	return nil
}

func xys(x, y []float64) plotter.XYs {
	pts := make(plotter.XYs, len(x))
	for i := range x {
		pts[i].X, pts[i].Y = x[i], y[i]
	}
	return pts
}

// Lines builds a line plot of the series with the given title and axis
// labels; the legend is drawn inside the data area (top right). LinesFigure
// draws it outside.
func Lines(title, xlabel, ylabel string, series ...Series) (*plot.Plot, error) {
	p, legend, err := lines(title, xlabel, ylabel, series)
	if err != nil {
		return nil, err
	}
	p.Legend.Top = true
	for _, e := range legend {
		p.Legend.Add(e.Label, e.Thumbs...)
	}
	return p, nil
}

// LinesFigure is Lines with the title and the legend outside the data area,
// as in the figures of lib/plots: a one-panel plots.Grid whose legend rows sit
// under the title. Set axis ranges on fig.Plots[0][0].
func LinesFigure(title, xlabel, ylabel string, series ...Series) (plots.Grid, error) {
	p, legend, err := lines("", xlabel, ylabel, series)
	if err != nil {
		return plots.Grid{}, err
	}
	return plots.Grid{Plots: [][]*plot.Plot{{p}}, Title: title, Legend: legend}, nil
}

func lines(title, xlabel, ylabel string, series []Series) (*plot.Plot, []plots.LegendEntry, error) {
	if len(series) == 0 {
		return nil, nil, fmt.Errorf("nbshow: Lines needs at least one series")
	}
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xlabel, ylabel
	var legend []plots.LegendEntry
	for i, s := range series {
		if err := checkXY(fmt.Sprintf("series %d (%q)", i, s.Name), s.X, s.Y); err != nil {
			return nil, nil, err
		}
		var thumb plot.Thumbnailer
		if s.Points {
			sc, err := plotter.NewScatter(xys(s.X, s.Y))
			if err != nil {
				return nil, nil, fmt.Errorf("nbshow: series %d: %w", i, err)
			}
			sc.Color = pick(s.Color, i)
			sc.Radius = vg.Points(1.5)
			p.Add(sc)
			thumb = sc
		} else {
			l, err := plotter.NewLine(xys(s.X, s.Y))
			if err != nil {
				return nil, nil, fmt.Errorf("nbshow: series %d: %w", i, err)
			}
			l.Color = pick(s.Color, i)
			l.Width = vg.Points(1.5)
			if s.Dashed {
				l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			}
			p.Add(l)
			thumb = l
		}
		if s.Name != "" {
			legend = append(legend, plots.LegendEntry{Label: s.Name, Thumbs: []plot.Thumbnailer{thumb}})
		}
	}
	return p, legend, nil
}

// Paths builds a plot of sample paths over a common time axis: t has K
// values and paths holds P = len(paths)/K paths row-major (path i is
// paths[i*K:(i+1)*K]). Paths are drawn thin and translucent.
func Paths(title, xlabel, ylabel string, t, paths []float64) (*plot.Plot, error) {
	k := len(t)
	if k < 2 {
		return nil, fmt.Errorf("nbshow: Paths needs at least 2 time points, got %d", k)
	}
	if len(paths) == 0 || len(paths)%k != 0 {
		return nil, fmt.Errorf("nbshow: Paths got %d values, not a positive multiple of %d time points", len(paths), k)
	}
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xlabel, ylabel
	for i := 0; i < len(paths)/k; i++ {
		row := paths[i*k : (i+1)*k]
		if err := checkXY(fmt.Sprintf("path %d", i), t, row); err != nil {
			return nil, err
		}
		l, err := plotter.NewLine(xys(t, row))
		if err != nil {
			return nil, fmt.Errorf("nbshow: path %d: %w", i, err)
		}
		r, g, b, _ := Color(i).RGBA()
		l.Color = color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 140}
		l.Width = vg.Points(0.7)
		p.Add(l)
	}
	return p, nil
}
