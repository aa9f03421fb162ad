package fluxinv

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/pdediff/pdediff/datasets/flux"
	"github.com/pdediff/pdediff/lib/experiment"
	"github.com/pdediff/pdediff/lib/physics"
	"github.com/pdediff/pdediff/lib/plots"
)

// Figure names of the registry and of WriteFigures.
const (
	Fig7Name        = "fig7-ve-ode-posteriors"
	Fig8Name        = "fig8-ve-error"
	Fig9Name        = "fig9-vp-error"
	Fig10Name       = "fig10-ve-std"
	Fig11Name       = "fig11-vp-std"
	CalibrationVE   = "calibration-ve"
	CalibrationVP   = "calibration-vp"
	figTitlePadding = 5
)

// Series colours (one per noise level) and the fixed ones.
var (
	levelColors = []color.Color{
		color.NRGBA{R: 31, G: 119, B: 180, A: 255},
		color.NRGBA{R: 255, G: 127, B: 14, A: 255},
		color.NRGBA{R: 44, G: 160, B: 44, A: 255},
		color.NRGBA{R: 214, G: 39, B: 40, A: 255},
		color.NRGBA{R: 148, G: 103, B: 189, A: 255},
		color.NRGBA{R: 140, G: 86, B: 75, A: 255},
		color.NRGBA{R: 227, G: 119, B: 194, A: 255},
		color.NRGBA{R: 23, G: 190, B: 207, A: 255},
	}
	modelColor = color.NRGBA{R: 31, G: 119, B: 180, A: 255}
	exactColor = color.NRGBA{R: 230, G: 110, B: 0, A: 255}
	truthColor = color.Black
	greyColor  = color.Gray{Y: 120}
	bandColor  = color.Gray{Y: 220}
)

func levelColor(i int) color.Color { return levelColors[i%len(levelColors)] }

// niceTicks labels a linear axis with lib/plots' 1–2–5 ticks.
type niceTicks struct{}

// Ticks implements plot.Ticker.
func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if t := plots.NiceTicks(lo, hi, -1); len(t) > 0 {
		return t
	}
	return plot.DefaultTicks{}.Ticks(lo, hi)
}

// segmentTicks labels the segment axis 1, 3, 5, …, 15.
type segmentTicks struct{}

// Ticks implements plot.Ticker.
func (segmentTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for k := 1; k <= physics.SegmentsPerWall; k++ {
		t := plot.Tick{Value: float64(k)}
		if k%2 == 1 {
			t.Label = fmt.Sprint(k)
		}
		out = append(out, t)
	}
	return out
}

// panel returns a plot styled like lib/plots' figures.
func panel(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Title.Padding = vg.Points(figTitlePadding)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(12)
		a.Tick.Label.Font.Size = vg.Points(11)
		a.Tick.Length = vg.Points(6)
		a.Tick.Marker = niceTicks{}
	}
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = color.Gray{Y: 225}, color.Gray{Y: 225}
	p.Add(g)
	return p
}

// segmentPanel is a panel over the 15 segments of one wall.
func segmentPanel(title, yLabel string) *plot.Plot {
	p := panel(title, "segment (left to right)", yLabel)
	p.X.Tick.Marker = segmentTicks{}
	p.X.Min, p.X.Max = 0.5, float64(physics.SegmentsPerWall)+0.5
	return p
}

// pow10 returns m·10^k with the shortest exact decimal form (1/10^-k for k < 0).
func pow10(m float64, k int) float64 {
	if k < 0 {
		return m / math.Pow(10, float64(-k))
	}
	return m * math.Pow(10, float64(k))
}

// log10Ticks labels an axis that carries log10 of the data: a labelled
// tick at every decade, minors at 2..9 × 10^k, and labels at 2 and 5 × 10^k
// when fewer than three decades are shown.
type log10Ticks struct{}

// Ticks implements plot.Ticker.
func (log10Ticks) Ticks(lo, hi float64) []plot.Tick {
	few := math.Floor(hi+1e-9)-math.Ceil(lo-1e-9)+1 < 3
	var out []plot.Tick
	for k := int(math.Floor(lo)); k <= int(math.Ceil(hi)); k++ {
		for m := 1; m <= 9; m++ {
			v := float64(k) + math.Log10(float64(m))
			if v < lo-1e-9 || v > hi+1e-9 {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || (few && (m == 2 || m == 5)) {
				x := pow10(float64(m), k)
				if k >= -4 && k <= 4 {
					t.Label = strconvF(x)
				} else {
					t.Label = fmt.Sprintf("%ge%d", float64(m), k)
				}
			}
			out = append(out, t)
		}
	}
	return out
}

// strconvF formats a power of ten (times 1, 2 or 5) without trailing zeros.
func strconvF(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// logRange returns the decade range [10^a, 10^b] shown for positive values
// in [lo, hi]: at most maxDecades decades below the top (values under the
// floor are drawn on it), and at least two.
func logRange(lo, hi float64, maxDecades int) (a, b int) {
	b = int(math.Ceil(math.Log10(hi) - 1e-9))
	a = int(math.Floor(math.Log10(lo) + 1e-9))
	if b-a > maxDecades {
		a = b - maxDecades
	}
	if b-a < 2 {
		a = b - 2
	}
	return a, b
}

// line adds a polyline with the given colour and dash pattern.
func line(p *plot.Plot, xy plotter.XYs, c color.Color, width float64, dashes ...vg.Length) (*plotter.Line, error) {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return nil, err
	}
	l.Color, l.Width, l.Dashes = c, vg.Points(width), dashes
	p.Add(l)
	return l, nil
}

// thumb is a legend thumbnail: a line sample with optional dashes and glyph.
type thumb struct {
	c      color.Color
	dashes []vg.Length
	glyph  bool
	noLine bool
}

// Thumbnail implements plot.Thumbnailer.
func (t thumb) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	if !t.noLine {
		c.StrokeLine2(draw.LineStyle{Color: t.c, Width: vg.Points(1.5), Dashes: t.dashes}, c.Min.X, y, c.Max.X, y)
	}
	if t.glyph {
		c.StrokeLine2(draw.LineStyle{Color: t.c, Width: vg.Points(1.2)}, c.Center().X, c.Min.Y, c.Center().X, c.Max.Y)
		c.DrawGlyph(draw.GlyphStyle{Color: t.c, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}, c.Center())
	}
}

var (
	dashed = []vg.Length{vg.Points(6), vg.Points(3)}
	dotted = []vg.Length{vg.Points(1.5), vg.Points(2.5)}
)

func wallName(w int) string { return []string{"bottom", "top"}[w] }

// Figure7 builds Figure 7 (Figure 13 for the masked problem) from a learnt
// and an exact posterior of the same observations: for each case, the true
// flux, the learnt posterior mean ± 2 std per segment and the exact
// posterior's beside it, on the bottom and top walls. masks (k×30, 1 = on)
// may be nil; otherwise each panel's title lists the wall's sensors that are
// off.
func Figure7(model, exact *Posterior, truths, masks []float64, cases []int, modelLabel, exactLabel, title string) (experiment.Plot, error) {
	if len(cases) == 0 {
		return experiment.Plot{}, fmt.Errorf("fluxinv: Figure 7 needs at least one case")
	}
	n := physics.SegmentsPerWall
	var rows [][]*plot.Plot
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, j := range cases {
		if j < 0 || j >= model.K || j >= exact.K || (j+1)*D > len(truths) {
			return experiment.Plot{}, fmt.Errorf("fluxinv: Figure 7 case %d is not in the posteriors", j)
		}
		var row []*plot.Plot
		for w := 0; w < 2; w++ {
			pt := fmt.Sprintf("test case %d, %s wall", j+1, wallName(w))
			if masks != nil && (j+1)*D <= len(masks) {
				var off []string
				for k := 0; k < n; k++ {
					if masks[j*D+w*n+k] == 0 {
						off = append(off, strconv.Itoa(k+1))
					}
				}
				if len(off) == 0 {
					pt += ", every sensor on"
				} else {
					pt += ", sensors off: " + strings.Join(off, " ")
				}
			}
			p := segmentPanel(pt, "flux q")
			var truth plotter.XYs
			for k := 0; k < n; k++ {
				v := truths[j*D+w*n+k]
				truth = append(truth, plotter.XY{X: float64(k) + 0.5, Y: v}, plotter.XY{X: float64(k) + 1.5, Y: v})
			}
			if _, err := line(p, truth, truthColor, 1.5); err != nil {
				return experiment.Plot{}, err
			}
			for i, post := range []*Posterior{model, exact} {
				c := []color.Color{modelColor, exactColor}[i]
				off := []float64{-0.15, 0.15}[i]
				var pts plotter.XYs
				var errs plotter.YErrors
				for k := 0; k < n; k++ {
					m, s := post.Mean[j*D+w*n+k], post.Std[j*D+w*n+k]
					pts = append(pts, plotter.XY{X: float64(k+1) + off, Y: m})
					errs = append(errs, struct{ Low, High float64 }{2 * s, 2 * s})
					lo, hi = math.Min(lo, m-2*s), math.Max(hi, m+2*s)
				}
				eb := &plotter.YErrorBars{XYs: pts, YErrors: errs, LineStyle: draw.LineStyle{Color: c, Width: vg.Points(1.2)}, CapWidth: vg.Points(4)}
				sc, err := plotter.NewScatter(pts)
				if err != nil {
					return experiment.Plot{}, err
				}
				sc.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
				p.Add(eb, sc)
			}
			for k := 0; k < D; k++ {
				lo, hi = math.Min(lo, truths[j*D+k]), math.Max(hi, truths[j*D+k])
			}
			row = append(row, p)
		}
		rows = append(rows, row)
	}
	pad := 0.05 * (hi - lo)
	for _, r := range rows {
		for _, p := range r {
			p.Y.Min, p.Y.Max = math.Min(0, lo-pad), hi+pad
		}
	}
	legend := []plots.LegendEntry{
		{Label: "true flux", Thumbs: []plot.Thumbnailer{thumb{c: truthColor}}},
		{Label: modelLabel + ": mean ± 2 std", Thumbs: []plot.Thumbnailer{thumb{c: modelColor, glyph: true, noLine: true}}},
		{Label: exactLabel + ": mean ± 2 std", Thumbs: []plot.Thumbnailer{thumb{c: exactColor, glyph: true, noLine: true}}},
	}
	return experiment.Plot{Fig: plots.Grid{Plots: rows, Title: title, Legend: legend},
		Width: 13 * vg.Inch, Height: vg.Length(1.0+2.9*float64(len(cases))) * vg.Inch}, nil
}

// segmentCurve is one per-segment curve of logWallPanels: 30 values (bottom
// wall, then top), its colour, width and dashes (nil: solid).
type segmentCurve struct {
	v      []float64
	col    color.Color
	width  float64
	dashes []vg.Length
}

// logWallPanels draws the curves on a bottom-wall and a top-wall panel with
// a log y axis spanning their positive values (logRange, 3 decades at
// least); values below the axis (zero included) are drawn at its floor, and
// clipped says whether any was. off, when non-nil, is a sensor mask whose
// off sensors (0) get grey bars over the whole height, under the curves.
// The curves are drawn in order.
func logWallPanels(curves []segmentCurve, yLabel string, off []float64) (panels []*plot.Plot, floor float64, clipped bool, err error) {
	n := physics.SegmentsPerWall
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range curves {
		if len(c.v) != D {
			return nil, 0, false, fmt.Errorf("fluxinv: a per-segment curve has %d values, want %d", len(c.v), D)
		}
		for _, v := range c.v {
			if v > 0 && !math.IsInf(v, 0) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 0) {
		return nil, 0, false, fmt.Errorf("fluxinv: no positive value to draw on a log axis")
	}
	a, b := logRange(lo, hi, 3)
	floor = pow10(1, a)
	for w := 0; w < 2; w++ {
		p := segmentPanel(wallName(w)+" wall", yLabel)
		p.Y.Tick.Marker = log10Ticks{}
		p.Y.Min, p.Y.Max = float64(a), float64(b)
		for k := 0; k < n && off != nil; k++ {
			if off[w*n+k] == 0 {
				if _, err := line(p, plotter.XYs{{X: float64(k + 1), Y: float64(a)}, {X: float64(k + 1), Y: float64(b)}}, bandColor, 9); err != nil {
					return nil, 0, false, err
				}
			}
		}
		for _, c := range curves {
			var xy plotter.XYs
			for k := 0; k < n; k++ {
				y := c.v[w*n+k]
				if !(y >= floor) {
					y, clipped = floor, true
				}
				xy = append(xy, plotter.XY{X: float64(k + 1), Y: math.Log10(y)})
			}
			if _, err := line(p, xy, c.col, c.width, c.dashes...); err != nil {
				return nil, 0, false, err
			}
		}
		panels = append(panels, p)
	}
	return panels, floor, clipped, nil
}

// SegmentSeries is one curve of Figures 8–11: per-segment values of a
// learnt posterior and of the exact posterior at one noise level.
type SegmentSeries struct {
	// Level is the noise level of the curve.
	Level float64
	Model []float64 // 30 values
	Exact []float64 // 30 values (nil: none)
}

// SegmentFigure builds Figures 8–11: per-segment values (error or std, log
// scale) of the learnt posterior at each noise level (solid), the exact
// posterior's (dashed for errors, dotted for stds) and, when prior is
// non-nil, the prior std (black dashed), on the bottom and top walls.
func SegmentFigure(series []SegmentSeries, prior []float64, yLabel, modelLabel, exactLabel, title string) (experiment.Plot, error) {
	if len(series) == 0 {
		return experiment.Plot{}, fmt.Errorf("fluxinv: %s: no series", title)
	}
	exactDash := dashed
	if prior != nil {
		exactDash = dotted
	}
	check := func(v []float64) error {
		for k, y := range v {
			if !(y > 0) || math.IsInf(y, 0) {
				return fmt.Errorf("fluxinv: %s: value %v at segment %d cannot be drawn on a log axis", title, y, k+1)
			}
		}
		return nil
	}
	for _, s := range series {
		if len(s.Model) != D || (s.Exact != nil && len(s.Exact) != D) {
			return experiment.Plot{}, fmt.Errorf("fluxinv: %s: series of level %g has %d values", title, s.Level, len(s.Model))
		}
		for _, v := range [][]float64{s.Model, s.Exact, prior} {
			if err := check(v); err != nil {
				return experiment.Plot{}, err
			}
		}
	}
	var curves []segmentCurve
	if prior != nil {
		curves = append(curves, segmentCurve{prior, truthColor, 1.5, dashed})
	}
	for i, s := range series {
		if s.Exact != nil {
			curves = append(curves, segmentCurve{s.Exact, levelColor(i), 1.3, exactDash})
		}
		curves = append(curves, segmentCurve{s.Model, levelColor(i), 1.8, nil})
	}
	panels, floor, clipped, err := logWallPanels(curves, yLabel, nil)
	if err != nil {
		return experiment.Plot{}, err
	}
	var legend []plots.LegendEntry
	for i, s := range series {
		legend = append(legend, plots.LegendEntry{Label: "noise level " + LevelLabel(s.Level), Thumbs: []plot.Thumbnailer{thumb{c: levelColor(i)}}})
	}
	legend = append(legend,
		plots.LegendEntry{Label: "solid: " + modelLabel, Thumbs: []plot.Thumbnailer{thumb{c: greyColor}}},
		plots.LegendEntry{Label: map[bool]string{false: "dashed: ", true: "dotted: "}[prior != nil] + exactLabel,
			Thumbs: []plot.Thumbnailer{thumb{c: greyColor, dashes: exactDash}}})
	if prior != nil {
		legend = append(legend, plots.LegendEntry{Label: "prior std", Thumbs: []plot.Thumbnailer{thumb{c: truthColor, dashes: dashed}}})
	}
	if clipped {
		title += fmt.Sprintf(" (values below %s drawn at the bottom edge)", strconvF(floor))
	}
	return experiment.Plot{Fig: plots.Grid{Plots: [][]*plot.Plot{panels}, Title: title, Legend: legend},
		Width: 13 * vg.Inch, Height: 5.2 * vg.Inch}, nil
}

// CalibrationSeries is one noise level of the calibration figure.
type CalibrationSeries struct {
	// Level is the noise level of the curves.
	Level float64
	// Model and Exact are the coverage curves and pooled SBC histograms of
	// the learnt and the exact posterior (Exact may be zero).
	Model, Exact Coverage
	// ModelSBC and ExactSBC are the pooled SBC rank histograms.
	ModelSBC, ExactSBC []int
}

// CalibrationFigure builds the calibration figure (beyond the paper):
// coverage of central intervals against their nominal level (left; the
// diagonal is perfect calibration) and the pooled SBC rank histograms,
// normalised so that a uniform histogram is 1 (right; theory eq. 119), for
// the learnt posterior (solid) and the exact one (dotted) at each level.
func CalibrationFigure(series []CalibrationSeries, modelLabel, exactLabel, title string) (experiment.Plot, error) {
	if len(series) == 0 {
		return experiment.Plot{}, fmt.Errorf("fluxinv: %s: no series", title)
	}
	cov := panel("coverage of central intervals", "nominal level", "observed coverage")
	cov.X.Min, cov.X.Max, cov.Y.Min, cov.Y.Max = 0, 1, 0, 1
	if _, err := line(cov, plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}}, greyColor, 1); err != nil {
		return experiment.Plot{}, err
	}
	sbc := panel("SBC rank histogram (all segments)", "normalised rank", "frequency / uniform")
	sbc.X.Min, sbc.X.Max = 0, 1
	hmax := 1.0
	var bins, total int
	for i, s := range series {
		c := levelColor(i)
		for k, cv := range []Coverage{s.Model, s.Exact} {
			if len(cv.Nominal) == 0 {
				continue
			}
			xy := plotter.XYs{{X: 0, Y: 0}}
			for q := range cv.Nominal {
				xy = append(xy, plotter.XY{X: cv.Nominal[q], Y: cv.Observed[q]})
			}
			if _, err := line(cov, xy, c, []float64{1.8, 1.3}[k], [][]vg.Length{nil, dotted}[k]...); err != nil {
				return experiment.Plot{}, err
			}
		}
		for k, h := range [][]int{s.ModelSBC, s.ExactSBC} {
			if len(h) == 0 {
				continue
			}
			sum := 0
			for _, v := range h {
				sum += v
			}
			if sum == 0 {
				continue
			}
			bins, total = len(h), sum
			var xy plotter.XYs
			for b, v := range h {
				f := float64(v) * float64(len(h)) / float64(sum)
				hmax = math.Max(hmax, f)
				xy = append(xy, plotter.XY{X: float64(b) / float64(len(h)), Y: f}, plotter.XY{X: float64(b+1) / float64(len(h)), Y: f})
			}
			if _, err := line(sbc, xy, c, []float64{1.8, 1.3}[k], [][]vg.Length{nil, dotted}[k]...); err != nil {
				return experiment.Plot{}, err
			}
		}
	}
	// The uniform level and its ±2σ binomial band for one histogram.
	if _, err := line(sbc, plotter.XYs{{X: 0, Y: 1}, {X: 1, Y: 1}}, greyColor, 1); err != nil {
		return experiment.Plot{}, err
	}
	if bins > 0 && total > 0 {
		pb := 1 / float64(bins)
		band := 2 * math.Sqrt(float64(total)*pb*(1-pb)) / (float64(total) * pb)
		for _, y := range []float64{1 - band, 1 + band} {
			if _, err := line(sbc, plotter.XYs{{X: 0, Y: y}, {X: 1, Y: y}}, greyColor, 0.8, dashed...); err != nil {
				return experiment.Plot{}, err
			}
		}
		hmax = math.Max(hmax, 1+band)
	}
	sbc.Y.Min, sbc.Y.Max = 0, 1.1*hmax
	var legend []plots.LegendEntry
	for i, s := range series {
		legend = append(legend, plots.LegendEntry{Label: "noise level " + LevelLabel(s.Level), Thumbs: []plot.Thumbnailer{thumb{c: levelColor(i)}}})
	}
	legend = append(legend,
		plots.LegendEntry{Label: "solid: " + modelLabel, Thumbs: []plot.Thumbnailer{thumb{c: greyColor}}},
		plots.LegendEntry{Label: "dotted: " + exactLabel, Thumbs: []plot.Thumbnailer{thumb{c: greyColor, dashes: dotted}}},
		plots.LegendEntry{Label: "grey: perfect calibration (dashed: ±2σ of a uniform histogram)", Thumbs: []plot.Thumbnailer{thumb{c: greyColor}}})
	return experiment.Plot{Fig: plots.Grid{Plots: [][]*plot.Plot{{cov, sbc}}, Title: title, Legend: legend},
		Width: 13 * vg.Inch, Height: 5.6 * vg.Inch}, nil
}

// exactLabel describes the reference of a level set.
func exactLabelOf(res *Results, levels []float64) string {
	if res.Preset.Problem == physics.ProblemNonlinear {
		return fmt.Sprintf("reference posterior (ESS, nonlinear likelihood; level %s, first %d cases)", LevelLabel(res.Preset.RefLevel), res.Preset.RefCases)
	}
	hasZero := false
	for _, l := range levels {
		hasZero = hasZero || l == 0
	}
	if hasZero {
		return "exact posterior (ESS; Gaussian at zero noise)"
	}
	return "exact posterior (ESS)"
}

// odeCells returns the ODE cells of a process present in res, by level.
func odeCells(res *Results, process string) []*CellResult {
	var out []*CellResult
	for _, l := range res.Preset.Levels {
		if c := res.Cell(Cell{Level: l, Process: process, Sampler: "ode"}.Name()); c != nil {
			out = append(out, c)
		}
	}
	return out
}

// BuildFigure builds the named figure of a run folder out from its results
// (see FigureNames). When a cell it needs is not in res it fails with an
// error for which IsMissingInputs is true.
func BuildFigure(out string, res *Results, name string) (experiment.Plot, error) {
	proc := "ve"
	if strings.Contains(name, "-vp-") || strings.HasSuffix(name, "-vp") {
		proc = "vp"
	}
	P := strings.ToUpper(proc)
	cells := odeCells(res, proc)
	var levels []float64
	for _, c := range cells {
		levels = append(levels, c.Level)
	}
	modelLabel := P + " model, ODE sampler"
	exLabel := exactLabelOf(res, levels)
	k, nd := res.Preset.Cases, res.Preset.Draws
	switch name {
	case Fig7Name:
		level := res.Preset.Fig7Level
		mf, ef, ref, truths, err := cellFiles(out, res, Cell{Level: level, Process: "ve", Sampler: "ode"})
		if err != nil {
			return experiment.Plot{}, err
		}
		exLabel := "exact posterior (" + ref.Method + ")"
		switch {
		case res.Preset.Masks():
			exLabel = "exact posterior of the case's mask (" + ref.Method + ")"
		case res.Preset.Problem == physics.ProblemNonlinear:
			exLabel = "reference posterior (ESS, nonlinear likelihood)"
		}
		return Figure7(mf.Post, ef.Post, truths, mf.Obs.Mask, res.Preset.Fig7Cases, "VE model, ODE sampler", exLabel,
			fmt.Sprintf("%s: posterior of three test cases%s, noise level %s (%d draws each)", figLabel(res.Preset, name),
				map[bool]string{true: " with their sensor masks", false: ""}[res.Preset.Masks()], LevelLabel(level), nd))
	case Fig8Name, Fig9Name, Fig10Name, Fig11Name:
		if len(cells) == 0 {
			return experiment.Plot{}, missingError{"every " + proc + "-ode cell"}
		}
		isStd := name == Fig10Name || name == Fig11Name
		var series []SegmentSeries
		var prior []float64
		for _, c := range cells {
			s := SegmentSeries{Level: c.Level, Model: c.Metrics.Error}
			if isStd {
				s.Model = c.Metrics.Std
				prior = c.Metrics.PriorStd
			}
			if r := c.Metrics.Reference; r != nil {
				s.Exact = r.Error
				if isStd {
					s.Exact = r.Std
				}
			}
			series = append(series, s)
		}
		label := figLabel(res.Preset, name)
		if isStd {
			return SegmentFigure(series, prior, "mean posterior std", modelLabel, exLabel,
				fmt.Sprintf("%s: %s mean posterior std per segment (%d test cases)", label, P, k))
		}
		return SegmentFigure(series, nil, "normalised error of the posterior mean", modelLabel, exLabel,
			fmt.Sprintf("%s: %s normalised error per segment (%d test cases)", label, P, k))
	case SensorsOnName:
		return sensorsOnFigure(out, res)
	case CalibrationVE, CalibrationVP:
		if len(cells) == 0 {
			return experiment.Plot{}, missingError{"every " + proc + "-ode cell"}
		}
		var series []CalibrationSeries
		for _, c := range cells {
			s := CalibrationSeries{Level: c.Level, Model: c.Coverage, ModelSBC: c.Metrics.SBC.PooledHist}
			if ref := res.Cell(c.Reference); ref != nil {
				s.Exact, s.ExactSBC = ref.Coverage, ref.Metrics.SBC.PooledHist
			}
			series = append(series, s)
		}
		return CalibrationFigure(series, modelLabel, exLabel,
			fmt.Sprintf("Calibration of the %s posterior (%d test cases × %d draws)", P, k, nd))
	}
	return experiment.Plot{}, fmt.Errorf("fluxinv: unknown figure %q (want one of %s)", name, strings.Join(FigureNamesFor(res.Preset), ", "))
}

// cellFiles reads a learnt cell's posterior file, its reference's, the
// reference's record and the true fluxes of the cell's test cases; a cell
// not in res is a missingError.
func cellFiles(out string, res *Results, cell Cell) (model, exact *PosteriorFile, ref *CellResult, truths []float64, err error) {
	c := res.Cell(cell.Name())
	if c == nil {
		return nil, nil, nil, nil, missingError{"cell " + cell.Name()}
	}
	if ref = res.Cell(c.Reference); ref == nil {
		return nil, nil, nil, nil, missingError{"cell " + c.Reference}
	}
	if model, err = ReadPosteriorFile(filepath.Join(out, c.Posterior)); err != nil {
		return nil, nil, nil, nil, err
	}
	if exact, err = ReadPosteriorFile(filepath.Join(out, ref.Posterior)); err != nil {
		return nil, nil, nil, nil, err
	}
	if truths, err = readTruths(out, cell.Level, res.Preset.Cases); err != nil {
		return nil, nil, nil, nil, err
	}
	return model, exact, ref, truths, nil
}

// missingError marks a figure whose cells are not in the results.
type missingError struct{ what string }

// Error implements error.
func (e missingError) Error() string {
	return "fluxinv: the run lacks " + e.what + ", which this figure needs"
}

// IsMissingInputs reports whether err (from BuildFigure) says that a cell the
// figure needs is not in the results.
func IsMissingInputs(err error) bool {
	var m missingError
	return errors.As(err, &m)
}

// readTruths returns the first k true test fluxes of a level's data set.
func readTruths(out string, level float64, k int) ([]float64, error) {
	ds, err := flux.Load(DataDir(out, level))
	if err != nil {
		return nil, err
	}
	a := ds.Test.Q
	if len(a) < k*D {
		return nil, fmt.Errorf("fluxinv: data of level %s has fewer than %d test cases", LevelLabel(level), k)
	}
	return a[:k*D], nil
}

// figLabel is the paper's figure number of a figure of p's problem ("Fig.
// 7"; masked: "Fig. 13", "Fig. 14", or "Masked sensors" where the paper has
// no such figure).
func figLabel(p Preset, name string) string {
	if p.Problem == physics.ProblemNonlinear {
		if n, ok := map[string]string{Fig7Name: "16", Fig8Name: "17", Fig9Name: "18", Fig10Name: "19", Fig11Name: "20"}[name]; ok {
			return "Fig. " + n + " (nonlinear)"
		}
		return "Nonlinear"
	}
	if p.Masks() {
		if n, ok := map[string]string{Fig7Name: "13", Fig8Name: "14"}[name]; ok {
			return "Fig. " + n + " (masked sensors)"
		}
		return "Masked sensors"
	}
	return "Fig. " + map[string]string{Fig7Name: "7", Fig8Name: "8", Fig9Name: "9", Fig10Name: "10", Fig11Name: "11"}[name]
}

// FigureFile is the file name (without extension) of a figure of p's
// problem: the figure name for the linear problem; for the masked problem
// the paper's numbers (fig13-…, fig14-…) or a "masked-" prefix; for the
// nonlinear problem the paper's Figs 16–20 or a "nonlinear-" prefix.
func FigureFile(p Preset, name string) string {
	if p.Problem == physics.ProblemNonlinear {
		if f, ok := map[string]string{Fig7Name: "fig16-ve-ode-posteriors", Fig8Name: "fig17-ve-error", Fig9Name: "fig18-vp-error",
			Fig10Name: "fig19-ve-std", Fig11Name: "fig20-vp-std"}[name]; ok {
			return f
		}
		return "nonlinear-" + name
	}
	if !p.Masks() {
		return name
	}
	switch name {
	case Fig7Name:
		return "fig13-ve-ode-posteriors"
	case Fig8Name:
		return "fig14-ve-error"
	case Fig9Name, Fig10Name, Fig11Name:
		return "masked-" + name[strings.Index(name, "-")+1:]
	}
	return name
}

// FigureNames lists the linear problem's figures in display order.
func FigureNames() []string {
	return []string{Fig7Name, Fig8Name, Fig9Name, Fig10Name, Fig11Name, CalibrationVE, CalibrationVP}
}

// FigureNamesFor lists the figures of p's problem (the masked problem adds
// SensorsOnName).
func FigureNamesFor(p Preset) []string {
	if p.Masks() {
		return append(FigureNames(), SensorsOnName)
	}
	return FigureNames()
}

// WriteFigures builds every figure whose inputs are in res into
// FiguresDir(out) (PNG + SVG) and returns the paths; missing inputs are
// reported to log and skipped.
func WriteFigures(out string, res *Results, log io.Writer) ([]string, error) {
	dir := FiguresDir(out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	env := experiment.Env{Out: dir}
	var paths []string
	for _, name := range FigureNamesFor(res.Preset) {
		f, err := BuildFigure(out, res, name)
		if err != nil {
			if IsMissingInputs(err) {
				fmt.Fprintf(log, "fluxinv: %s skipped: %v\n", name, err)
				continue
			}
			return nil, fmt.Errorf("fluxinv: %s: %w", name, err)
		}
		ps, err := f.Save(env, FigureFile(res.Preset, name))
		if err != nil {
			return nil, err
		}
		paths = append(paths, ps...)
	}
	return paths, nil
}

// Figures returns the figure registry of the flux inversion (paper Figs.
// 7–11 and the calibration figures), each running or reusing the run of
// env's preset in RunDir(env.Out, preset).
func Figures() []experiment.Figure {
	summaries := map[string]string{
		Fig7Name:      "Fig 7: VE + ODE posterior of three test cases at a mid noise level: true flux, mean ± 2 std, exact posterior beside it",
		Fig8Name:      "Fig 8: VE normalised error per segment, one curve per noise level; dashed: exact posterior",
		Fig9Name:      "Fig 9: VP normalised error per segment, one curve per noise level; dashed: exact posterior",
		Fig10Name:     "Fig 10: VE mean posterior std per segment per noise level; dashed: prior std; dotted: exact std",
		Fig11Name:     "Fig 11: VP mean posterior std per segment per noise level; dashed: prior std; dotted: exact std",
		CalibrationVE: "beyond the paper: VE coverage vs nominal level and SBC rank histograms, with the exact posterior's",
		CalibrationVP: "beyond the paper: VP coverage vs nominal level and SBC rank histograms, with the exact posterior's",
	}
	var out []experiment.Figure
	for _, name := range FigureNames() {
		name := name
		out = append(out, experiment.Figure{Name: name, Summary: summaries[name], Make: func(env experiment.Env) ([]string, error) {
			dir := RunDir(env.Out, env.Preset)
			res, err := Ensure(env, dir)
			if err != nil {
				return nil, err
			}
			f, err := BuildFigure(dir, res, name)
			if err != nil {
				return nil, err
			}
			return f.Save(env, name)
		}})
	}
	return out
}
