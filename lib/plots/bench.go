package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// benchColors are the series colours of the benchmark figures.
var benchColors = []color.Color{
	color.NRGBA{R: 31, G: 119, B: 180, A: 255},
	color.NRGBA{R: 255, G: 127, B: 14, A: 255},
	color.NRGBA{R: 44, G: 160, B: 44, A: 255},
	color.NRGBA{R: 214, G: 39, B: 40, A: 255},
	color.NRGBA{R: 148, G: 103, B: 189, A: 255},
}

// densityHistogram returns a step line of the normalised histogram of v on
// [lo, hi] with bins bins.
func densityHistogram(v []float64, lo, hi float64, bins int) plotter.XYs {
	counts := make([]float64, bins)
	w := (hi - lo) / float64(bins)
	for _, x := range v {
		if x < lo || x >= hi {
			continue
		}
		counts[int((x-lo)/w)]++
	}
	xy := make(plotter.XYs, 0, 2*bins)
	for i, c := range counts {
		d := c / (float64(len(v)) * w)
		xy = append(xy, plotter.XY{X: lo + float64(i)*w, Y: d}, plotter.XY{X: lo + float64(i+1)*w, Y: d})
	}
	return xy
}

// ConditionalHistogramPlot overlays the density histograms of generated
// samples of x | y (filled) and of the reference conditional (line).
func ConditionalHistogramPlot(title string, gen, ref []float64, bins int) (*plot.Plot, error) {
	if len(gen) == 0 || len(ref) == 0 || bins < 1 {
		return nil, fmt.Errorf("plots: conditional histogram %q needs samples and bins ≥ 1", title)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range [][]float64{gen, ref} {
		for _, v := range s {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("plots: conditional histogram %q: non-finite sample", title)
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	pad := 0.05*(hi-lo) + 1e-9
	lo, hi = lo-pad, hi+pad
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "x"
	p.Y.Label.Text = "density"
	g, err := plotter.NewPolygon(append(plotter.XYs{{X: lo, Y: 0}}, append(densityHistogram(gen, lo, hi, bins), plotter.XY{X: hi, Y: 0})...))
	if err != nil {
		return nil, err
	}
	g.Color = color.NRGBA{R: 31, G: 119, B: 180, A: 110}
	g.LineStyle.Width = 0
	r, err := plotter.NewLine(densityHistogram(ref, lo, hi, bins))
	if err != nil {
		return nil, err
	}
	r.Color = color.NRGBA{R: 214, G: 39, B: 40, A: 255}
	r.Width = vg.Points(1.2)
	p.Add(g, r)
	p.Legend.Add("generated", g)
	p.Legend.Add("reference", r)
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(7)
	return p, nil
}

// ConditionalHistogramGrid is Figures 3–4: one row per case, one column per y
// value, generated vs reference histograms. gen[i][j] and ref[i][j] are the
// samples of case i at ys[i][j].
func ConditionalHistogramGrid(prefix string, cases []string, ys [][]float64, gen, ref [][][]float64) (Grid, error) {
	var g Grid
	for i, c := range cases {
		var row []*plot.Plot
		for j, y := range ys[i] {
			p, err := ConditionalHistogramPlot(fmt.Sprintf("%s%s, y = %g", prefix, c, y), gen[i][j], ref[i][j], 40)
			if err != nil {
				return g, err
			}
			row = append(row, p)
		}
		g.Plots = append(g.Plots, row)
	}
	return g, nil
}

// NFESeries is one solver's curve in the accuracy-vs-NFE figure.
type NFESeries struct {
	Name string
	NFE  []float64
	Err  []float64
}

// NFEPlot plots an error measure against the number of score evaluations on
// log–log axes, one curve per solver, with an optional horizontal reference
// level (e.g. the accuracy of RK45 at the paper's tolerance).
func NFEPlot(title, yLabel string, series []NFESeries, refLevel float64, refLabel string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "score evaluations (NFE)"
	p.Y.Label.Text = yLabel
	p.X.Scale = plot.LogScale{}
	p.Y.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for k, s := range series {
		if len(s.NFE) != len(s.Err) || len(s.NFE) == 0 {
			return nil, fmt.Errorf("plots: NFE series %q: %d NFE values, %d errors", s.Name, len(s.NFE), len(s.Err))
		}
		xy := make(plotter.XYs, 0, len(s.NFE))
		for i := range s.NFE {
			if !(s.NFE[i] > 0) || !(s.Err[i] > 0) {
				continue // log axes
			}
			xy = append(xy, plotter.XY{X: s.NFE[i], Y: s.Err[i]})
			xmin, xmax = math.Min(xmin, s.NFE[i]), math.Max(xmax, s.NFE[i])
		}
		if len(xy) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, err
		}
		c := benchColors[k%len(benchColors)]
		l.Color, pts.Color = c, c
		pts.Shape = draw.CircleGlyph{}
		p.Add(l, pts)
		p.Legend.Add(s.Name, l, pts)
	}
	if refLevel > 0 && xmax > xmin {
		l, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: refLevel}, {X: xmax, Y: refLevel}})
		if err != nil {
			return nil, err
		}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		l.Color = color.Gray{Y: 90}
		p.Add(l)
		p.Legend.Add(refLabel, l)
	}
	p.Legend.Top = true
	return p, nil
}
