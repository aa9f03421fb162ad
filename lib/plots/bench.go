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

// benchColors are the series colours of the benchmark figures (the ten
// "tab10" colours, so that up to ten solvers have distinct colours).
var benchColors = []color.Color{
	color.NRGBA{R: 31, G: 119, B: 180, A: 255},
	color.NRGBA{R: 255, G: 127, B: 14, A: 255},
	color.NRGBA{R: 44, G: 160, B: 44, A: 255},
	color.NRGBA{R: 214, G: 39, B: 40, A: 255},
	color.NRGBA{R: 148, G: 103, B: 189, A: 255},
	color.NRGBA{R: 140, G: 86, B: 75, A: 255},
	color.NRGBA{R: 227, G: 119, B: 194, A: 255},
	color.NRGBA{R: 127, G: 127, B: 127, A: 255},
	color.NRGBA{R: 188, G: 189, B: 34, A: 255},
	color.NRGBA{R: 23, G: 190, B: 207, A: 255},
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
// samples of x | y (filled) and of the reference conditional (line), with a
// legend above the data area.
func ConditionalHistogramPlot(title string, gen, ref []float64, bins int) (*plot.Plot, error) {
	p, entries, err := conditionalHistogram(title, gen, ref, bins)
	if err != nil {
		return nil, err
	}
	l := addLegend(p, 1)
	l.entries = entries
	return p, nil
}

// conditionalHistogram is ConditionalHistogramPlot without the legend, whose
// entries it returns.
func conditionalHistogram(title string, gen, ref []float64, bins int) (*plot.Plot, []LegendEntry, error) {
	if len(gen) == 0 || len(ref) == 0 || bins < 1 {
		return nil, nil, fmt.Errorf("plots: conditional histogram %q needs samples and bins ≥ 1", title)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range [][]float64{gen, ref} {
		for _, v := range s {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("plots: conditional histogram %q: non-finite sample", title)
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	pad := 0.05*(hi-lo) + 1e-9
	lo, hi = lo-pad, hi+pad
	p := newPlot(title, "x", "density p(x | y)")
	g, err := plotter.NewPolygon(append(plotter.XYs{{X: lo, Y: 0}}, append(densityHistogram(gen, lo, hi, bins), plotter.XY{X: hi, Y: 0})...))
	if err != nil {
		return nil, nil, err
	}
	g.Color = color.NRGBA{R: 31, G: 119, B: 180, A: 110}
	g.LineStyle.Width = 0
	r, err := plotter.NewLine(densityHistogram(ref, lo, hi, bins))
	if err != nil {
		return nil, nil, err
	}
	r.Color = color.NRGBA{R: 214, G: 39, B: 40, A: 255}
	r.Width = vg.Points(1.2)
	p.Add(g, r)
	p.Y.Min, p.Y.Max = 0, 1.08*p.Y.Max // headroom above the tallest bar
	return p, []LegendEntry{
		{Label: "generated samples", Thumbs: []plot.Thumbnailer{g}},
		{Label: "band reference: joint samples with |y′ − y| ≤ 0.05 (the paper's)", Thumbs: []plot.Thumbnailer{r}},
	}, nil
}

// ConditionalHistogramGrid is Figures 3–4: one row per case, one column per y
// value, generated vs reference histograms. gen[i][j] and ref[i][j] are the
// samples of case i at ys[i][j]. The legend is drawn once, above the panels.
func ConditionalHistogramGrid(prefix string, cases []string, ys [][]float64, gen, ref [][][]float64) (Grid, error) {
	var g Grid
	if len(ys) < len(cases) || len(gen) < len(cases) || len(ref) < len(cases) {
		return g, fmt.Errorf("plots: conditional histogram grid: %d cases, %d y rows, %d gen rows, %d ref rows", len(cases), len(ys), len(gen), len(ref))
	}
	for i, c := range cases {
		if len(gen[i]) < len(ys[i]) || len(ref[i]) < len(ys[i]) {
			return g, fmt.Errorf("plots: conditional histogram grid: case %s has %d y values, %d gen and %d ref sample sets", c, len(ys[i]), len(gen[i]), len(ref[i]))
		}
		var row []*plot.Plot
		for j, y := range ys[i] {
			p, entries, err := conditionalHistogram(fmt.Sprintf("%s%s, y = %g", prefix, c, y), gen[i][j], ref[i][j], 40)
			if err != nil {
				return g, err
			}
			if g.Legend == nil {
				g.Legend = entries
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
// log–log axes (a labelled tick at every decade, at least three per axis),
// one curve per solver, with an optional horizontal reference level (e.g. the
// accuracy of RK45 at the paper's tolerance) and a legend above the data
// area. In a Grid of NFEPlot panels with one title, the title is drawn once
// over the figure; NFEFigure draws one shared legend as well.
func NFEPlot(title, yLabel string, series []NFESeries, refLevel float64, refLabel string) (*plot.Plot, error) {
	p, entries, err := nfePlot(title, yLabel, series, refLevel, refLabel)
	if err != nil {
		return nil, err
	}
	l := addLegend(p, 3) // in a Grid of NFE panels, one legend is drawn for all
	l.entries = entries
	return p, nil
}

// NFEFigure lays out one NFEPlot panel per error measure in a row under one
// title, with one legend for all of them (the solvers must be the same in
// every panel). yLabels[k], series[k] and refLevels[k] describe panel k.
func NFEFigure(title string, yLabels []string, series [][]NFESeries, refLevels []float64, refLabel string) (Grid, error) {
	if len(yLabels) == 0 || len(series) != len(yLabels) || len(refLevels) != len(yLabels) {
		return Grid{}, fmt.Errorf("plots: NFE figure: %d labels, %d series sets, %d reference levels", len(yLabels), len(series), len(refLevels))
	}
	g := Grid{Title: title, Plots: [][]*plot.Plot{make([]*plot.Plot, len(yLabels))}}
	for k, lab := range yLabels {
		p, entries, err := nfePlot("", lab, series[k], refLevels[k], refLabel)
		if err != nil {
			return Grid{}, err
		}
		if len(entries) > len(g.Legend) {
			g.Legend = entries
		}
		g.Plots[0][k] = p
	}
	return g, nil
}

// nfePlot is NFEPlot without the legend, whose entries it returns.
func nfePlot(title, yLabel string, series []NFESeries, refLevel float64, refLabel string) (*plot.Plot, []LegendEntry, error) {
	p := newPlot(title, "score evaluations (NFE)", yLabel)
	p.Add(lightGrid())
	var entries []LegendEntry
	xmin, xmax := math.Inf(1), math.Inf(-1)
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for k, s := range series {
		if len(s.NFE) != len(s.Err) || len(s.NFE) == 0 {
			return nil, nil, fmt.Errorf("plots: NFE series %q: %d NFE values, %d errors", s.Name, len(s.NFE), len(s.Err))
		}
		xy := make(plotter.XYs, 0, len(s.NFE))
		for i := range s.NFE {
			if !(s.NFE[i] > 0) || !(s.Err[i] > 0) || math.IsInf(s.NFE[i], 0) || math.IsInf(s.Err[i], 0) {
				continue // log axes
			}
			xy = append(xy, plotter.XY{X: math.Log10(s.NFE[i]), Y: math.Log10(s.Err[i])})
			xmin, xmax = math.Min(xmin, s.NFE[i]), math.Max(xmax, s.NFE[i])
			ymin, ymax = math.Min(ymin, s.Err[i]), math.Max(ymax, s.Err[i])
		}
		if len(xy) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, nil, err
		}
		c := benchColors[k%len(benchColors)]
		l.Color, pts.Color = c, c
		l.Width = vg.Points(1.2)
		pts.Shape = draw.CircleGlyph{}
		pts.Radius = vg.Points(2.5)
		p.Add(l, pts)
		entries = append(entries, LegendEntry{Label: s.Name, Thumbs: []plot.Thumbnailer{l, pts}})
	}
	var ref *plotter.Line
	if refLevel > 0 && !math.IsInf(refLevel, 0) && xmax >= xmin {
		ymin, ymax = math.Min(ymin, refLevel), math.Max(ymax, refLevel)
		ly := math.Log10(refLevel)
		l, err := plotter.NewLine(plotter.XYs{{X: math.Log10(xmin), Y: ly}, {X: math.Log10(xmax), Y: ly}})
		if err != nil {
			return nil, nil, err
		}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		l.Color = color.Gray{Y: 90}
		p.Add(l)
		entries = append(entries, LegendEntry{Label: refLabel, Thumbs: []plot.Thumbnailer{l}})
		ref = l
	}
	if xmax >= xmin {
		setLog10Axis(&p.X, xmin, xmax)
		setLog10Axis(&p.Y, ymin, ymax)
		if ref != nil { // across the whole (widened) axis
			ref.XYs[0].X, ref.XYs[1].X = p.X.Min, p.X.Max
		}
	}
	return p, entries, nil
}
