package plots

import (
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Font sizes of every figure, in points, chosen for the saved sizes of the
// CLI figures (6–16 inches wide at DPI).
const (
	titleSize  = 13
	labelSize  = 12
	tickSize   = 11
	legendSize = 11
	// figTitleSize is the overall title of a Grid.
	figTitleSize = 15
)

// newPlot returns a plot with the package's fonts and tick markers: linear
// axes with NiceTicks (one decimal count per axis), so that every builder
// looks the same.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(titleSize)
	p.Title.Padding = vg.Points(5)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(labelSize)
		a.Tick.Label.Font.Size = vg.Points(tickSize)
		a.Tick.Length = vg.Points(6)
		a.Tick.Marker = linearTicks{decimals: -1}
	}
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	p.Add(topMargin{})
	return p
}

// topMargin reserves room above the data area for half a tick label, so
// that every panel has the same top margin whether or not a tick label sits
// at the top of its y axis (plot.Align then puts sibling titles level).
type topMargin struct{}

// Plot implements plot.Plotter (it draws nothing).
func (topMargin) Plot(draw.Canvas, *plot.Plot) {}

// GlyphBoxes implements plot.GlyphBoxer.
func (topMargin) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	e := p.Y.Tick.Label.FontExtents()
	return []plot.GlyphBox{{X: 0, Y: 1, Rectangle: vg.Rectangle{Max: vg.Point{Y: e.Height/2 + vg.Points(2)}}}}
}

// niceStep returns the step of the major ticks of [lo, hi]: the largest
// 1, 2 or 5 × 10^k step that gives 4 to 6 ticks, or if none does, the
// largest that gives at least 3.
func niceStep(lo, hi float64) float64 {
	span := hi - lo
	if !(span > 0) || math.IsInf(span, 0) {
		return 0
	}
	step := 10 * math.Pow(10, math.Ceil(math.Log10(span))) // one tick at most
	fallback := 0.0
	for range 12 {
		n := countTicks(lo, hi, step)
		if n >= 4 && n <= 6 {
			return step
		}
		if n >= 3 && fallback == 0 {
			fallback = step
		}
		if n > 6 && fallback != 0 {
			return fallback
		}
		step = smallerStep(step)
	}
	if fallback != 0 {
		return fallback
	}
	return step
}

// smallerStep is the next smaller step of the 1–2–5 sequence.
func smallerStep(step float64) float64 {
	e := math.Floor(math.Log10(step) + 1e-9)
	m := math.Round(step / math.Pow(10, e))
	switch m {
	case 5:
		return 2 * math.Pow(10, e)
	case 2:
		return math.Pow(10, e)
	default:
		return 5 * math.Pow(10, e-1)
	}
}

// tickIndexRange returns the first and last k with k·step in [lo, hi]
// (with a relative tolerance of 1e-9 of the step at both ends).
func tickIndexRange(lo, hi, step float64) (int, int) {
	return int(math.Ceil(lo/step - 1e-9)), int(math.Floor(hi/step + 1e-9))
}

func countTicks(lo, hi, step float64) int {
	a, b := tickIndexRange(lo, hi, step)
	return b - a + 1
}

// stepDecimals is the number of decimals that labels a multiple of step
// exactly (steps of the 1–2–5 sequence).
func stepDecimals(step float64) int {
	if !(step > 0) {
		return 0
	}
	return max(0, -int(math.Floor(math.Log10(step)+1e-9)))
}

// formatTick formats v with dec decimals; very large or small magnitudes
// (|v| ≥ 1e6, or a step below 1e-4) use scientific notation with the
// mantissa digits the step needs.
func formatTick(v, step float64, dec int, scale float64) string {
	if v == 0 || math.Abs(v) < 1e-12*step {
		v = 0
	}
	if scale >= 1e6 || (step < 1e-4 && scale > 0) {
		e := math.Floor(math.Log10(scale))
		prec := max(0, int(e-math.Floor(math.Log10(step)+1e-9)))
		return strconv.FormatFloat(v, 'e', prec, 64)
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}

// NiceTicks returns the major ticks of [lo, hi] (steps of 1, 2 or 5 × 10^k,
// 4 to 7 of them) labelled with one number of decimals (the step's, or
// decimals when that is larger).
func NiceTicks(lo, hi float64, decimals int) []plot.Tick {
	step := niceStep(lo, hi)
	if step == 0 {
		return nil
	}
	dec := max(decimals, stepDecimals(step))
	a, b := tickIndexRange(lo, hi, step)
	scale := math.Max(math.Abs(lo), math.Abs(hi))
	ticks := make([]plot.Tick, 0, b-a+1)
	for k := a; k <= b; k++ {
		v := snap(float64(k)*step, lo, hi)
		ticks = append(ticks, plot.Tick{Value: v, Label: formatTick(v, step, dec, scale)})
	}
	return ticks
}

// linearTicks is the package's linear tick marker: NiceTicks majors plus
// unlabelled minors (5 per interval, 4 for a step of 2 × 10^k). decimals < 0
// is automatic; Grid sets it so that sibling axes share one format.
type linearTicks struct{ decimals int }

// Ticks implements plot.Ticker.
func (t linearTicks) Ticks(lo, hi float64) []plot.Tick {
	major := NiceTicks(lo, hi, t.decimals)
	if len(major) == 0 {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	step := niceStep(lo, hi)
	n := 5
	if m := math.Round(step / math.Pow(10, math.Floor(math.Log10(step)+1e-9))); m == 2 {
		n = 4
	}
	minor := step / float64(n)
	a, b := tickIndexRange(lo, hi, minor)
	ticks := major
	for k := a; k <= b; k++ {
		if k%n != 0 {
			ticks = append(ticks, plot.Tick{Value: snap(float64(k)*minor, lo, hi)})
		}
	}
	return ticks
}

// snap moves a tick value that is within rounding of an end of [lo, hi]
// onto it: gonum drops the glyph box of a tick label whose normalised
// position exceeds 1 by an ulp, and the label would then be clipped.
func snap(v, lo, hi float64) float64 {
	tol := 1e-9 * math.Max(hi-lo, math.Max(math.Abs(lo), math.Abs(hi)))
	switch {
	case math.Abs(v-lo) <= tol:
		return lo
	case math.Abs(v-hi) <= tol:
		return hi
	}
	return v
}

// autoDecimals is the number of decimals linearTicks uses for [lo, hi].
func autoDecimals(lo, hi float64) int { return stepDecimals(niceStep(lo, hi)) }

// log10Ticks marks a linear axis that carries log10 of the data (see
// setLog10Axis): a labelled major tick (10^k, drawn with a superscript by
// powText) at every integer k and minors at log10(m·10^k), m = 2..9; when
// fewer than three decades lie in the range, the minors 2·10^k and 5·10^k
// are labelled too, so that an axis always has at least three labels.
type log10Ticks struct{}

// Ticks implements plot.Ticker.
func (log10Ticks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi >= lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) || hi-lo > 300 {
		return nil
	}
	few := math.Floor(hi+1e-9)-math.Ceil(lo-1e-9)+1 < 3
	var ticks []plot.Tick
	for e := math.Floor(lo); e <= math.Ceil(hi); e++ {
		for m := 1; m <= 9; m++ {
			v := e + math.Log10(float64(m))
			if v < lo-1e-9 || v > hi+1e-9 {
				continue
			}
			t := plot.Tick{Value: snap(v, lo, hi)}
			switch {
			case m == 1:
				t.Label = powLabel(int(e))
			case few && (m == 2 || m == 5):
				t.Label = strconv.Itoa(m) + "×" + powLabel(int(e))
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// powLabel is the label of 10^e understood by powText.
func powLabel(e int) string {
	return "10^" + strings.Replace(strconv.Itoa(e), "-", "\u2212", 1)
}

// logDecadeRange widens [lo, hi] (lo > 0) to whole decades so that the
// axis has decade ticks: to three decades inside when that widens the range
// by at most one decade in all, else to two (log10Ticks then labels 2 and
// 5 × 10^k too). Each step extends the side that costs less in log units
// (the upper side on ties).
func logDecadeRange(lo, hi float64) (float64, float64) {
	if !(lo > 0) || !(hi >= lo) || math.IsInf(hi, 0) {
		return lo, hi
	}
	widen := func(need int) (float64, float64) {
		l, h := lo, hi
		for range 8 {
			a, b := math.Ceil(math.Log10(l)-1e-9), math.Floor(math.Log10(h)+1e-9)
			if int(b-a)+1 >= need {
				break
			}
			down := math.Log10(l) - math.Floor(math.Log10(l)-1e-9)
			if down < 1e-9 {
				down = 1
			}
			up := math.Ceil(math.Log10(h)+1e-9) - math.Log10(h)
			if up < 1e-9 {
				up = 1
			}
			if up <= down {
				h = math.Pow(10, math.Round(math.Log10(h)+up))
			} else {
				l = math.Pow(10, math.Round(math.Log10(l)-down))
			}
		}
		return l, h
	}
	if l, h := widen(3); math.Log10(lo/l)+math.Log10(h/hi) <= 1+1e-9 {
		return l, h
	}
	return widen(2)
}

// setLog10Axis makes a, which carries log10 of positive data over the raw
// range [lo, hi], a log axis: range widened to whole decades until at least
// two decades are inside (logDecadeRange), a labelled tick at each decade
// (and at 2 and 5 × 10^k on short axes) and minors in between. The data stay on a linear scale in log10 units:
// gonum's LogScale places the axis-label glyph box at the arithmetic mean of
// the range, which pads log panels by a different amount than their
// siblings, so that plot.Align cannot line them up.
func setLog10Axis(a *plot.Axis, lo, hi float64) {
	a.Tick.Marker = log10Ticks{}
	a.Tick.Label.Handler = powText{Plain: text.Plain{Fonts: font.DefaultCache}}
	if lo > 0 && hi >= lo && !math.IsInf(hi, 0) {
		lo, hi = logDecadeRange(lo, hi)
		a.Min, a.Max = math.Log10(lo), math.Log10(hi)
	}
}

// powText is a text handler that draws "B^E" as B with a raised, smaller E
// (the exponent of a log-axis label); other text is plain.
type powText struct{ text.Plain }

const (
	powScale = 0.7  // exponent size relative to the base
	powRaise = 0.45 // exponent baseline above the base's, in base ascents
)

func splitPow(txt string) (base, exp string, ok bool) {
	i := strings.IndexByte(txt, '^')
	if i <= 0 || i == len(txt)-1 || strings.ContainsRune(txt, '\n') {
		return "", "", false
	}
	return txt[:i], txt[i+1:], true
}

func powFont(fnt font.Font) font.Font {
	f := fnt
	f.Size = fnt.Size * powScale
	return f
}

// Box implements text.Handler.
func (h powText) Box(txt string, fnt font.Font) (width, height, depth vg.Length) {
	base, exp, ok := splitPow(txt)
	if !ok {
		return h.Plain.Box(txt, fnt)
	}
	bw, bh, bd := h.Plain.Box(base, fnt)
	ew, eh, _ := h.Plain.Box(exp, powFont(fnt))
	return bw + ew, max(bh, powRaise*bh+eh), bd
}

// Draw implements text.Handler (rotated text is drawn plain).
func (h powText) Draw(c vg.Canvas, txt string, sty text.Style, pt vg.Point) {
	base, exp, ok := splitPow(txt)
	if !ok || sty.Rotation != 0 {
		h.Plain.Draw(c, txt, sty, pt)
		return
	}
	w, ht, dp := h.Box(txt, sty.Font)
	face := h.Fonts.Lookup(sty.Font, sty.Font.Size)
	small := h.Fonts.Lookup(powFont(sty.Font), sty.Font.Size*powScale)
	asc := face.Extents().Ascent
	// Baseline: the box (height ht above, dp below) aligned like plain text.
	x := pt.X + vg.Length(sty.XAlign)*w
	y := pt.Y + vg.Length(sty.YAlign)*(ht+dp) + dp
	c.SetColor(sty.Color)
	c.FillString(face, vg.Point{X: x, Y: y}, base)
	c.FillString(small, vg.Point{X: x + face.Width(base), Y: y + powRaise*asc}, exp)
}

// lightGrid is a light grid at the major ticks, to be added before the data.
func lightGrid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 220}
	g.Horizontal.Color = color.Gray{Y: 220}
	return g
}
