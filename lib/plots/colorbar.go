package plots

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ColorBar is a vertical colour bar drawn to the right of a plot's data
// area: the palette over [Min, Max] mapped as plotter.HeatMap maps it, major
// ticks with labels (NiceTicks, one decimal count) and a rotated label that
// names the quantity and its unit. Add it to a plot with AddColorBar; it
// reserves its width through GlyphBoxes, so the data area shrinks to make
// room and plot.Align keeps sibling panels aligned.
type ColorBar struct {
	Palette  palette.Palette
	Min, Max float64
	Label    string
	// Decimals is the least number of decimals of the tick labels (−1:
	// the step's); set it on sibling bars to make them share one format.
	Decimals int
	// Marks are values marked across the bar (e.g. contour levels) with
	// MarkColors (one per mark; nil: black).
	Marks      []float64
	MarkColors []color.Color
}

// Colour-bar sizes, in points.
const (
	cbGap      = 8  // data area to bar
	cbWidth    = 11 // bar width
	cbTick     = 4  // tick length (outside the bar)
	cbTickGap  = 2  // tick to label
	cbLabelGap = 5  // tick labels to the quantity label
)

// AddColorBar adds a colour bar for the palette pal over [min, max] to p
// and returns it.
func AddColorBar(p *plot.Plot, pal palette.Palette, min, max float64, label string) *ColorBar {
	cb := &ColorBar{Palette: pal, Min: min, Max: max, Label: label, Decimals: -1}
	p.Add(cb)
	return cb
}

func cbTickStyle() text.Style {
	return text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(tickSize-1)),
		XAlign: draw.XLeft, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler}
}

func cbLabelStyle() text.Style {
	return text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(labelSize-1)),
		XAlign: draw.XCenter, YAlign: draw.YTop, Rotation: math.Pi / 2, Handler: plot.DefaultTextHandler}
}

// Ticks returns the labelled ticks of the bar.
func (cb *ColorBar) Ticks() []plot.Tick {
	return NiceTicks(cb.Min, cb.Max, cb.Decimals)
}

// autoDecimals is the decimal count the bar's ticks need on their own.
func (cb *ColorBar) autoDecimals() int { return autoDecimals(cb.Min, cb.Max) }

// width is the room the bar takes right of the data area.
func (cb *ColorBar) width() vg.Length {
	ts := cbTickStyle()
	var lw vg.Length
	for _, t := range cb.Ticks() {
		lw = max(lw, ts.Width(t.Label))
	}
	w := vg.Points(cbGap+cbWidth+cbTick+cbTickGap) + lw
	if cb.Label != "" {
		e := cbLabelStyle().FontExtents()
		w += vg.Points(cbLabelGap) + e.Ascent + e.Descent
	}
	return w
}

// GlyphBoxes implements plot.GlyphBoxer: it reserves the bar's width.
func (cb *ColorBar) GlyphBoxes(*plot.Plot) []plot.GlyphBox {
	return []plot.GlyphBox{{X: 1, Y: 0.5, Rectangle: vg.Rectangle{Max: vg.Point{X: cb.width()}}}}
}

// Plot implements plot.Plotter.
func (cb *ColorBar) Plot(c draw.Canvas, _ *plot.Plot) {
	cols := cb.Palette.Colors()
	if len(cols) == 0 || !(cb.Max > cb.Min) {
		return
	}
	x0 := c.Max.X + vg.Points(cbGap)
	x1 := x0 + vg.Points(cbWidth)
	y := func(v float64) vg.Length {
		f := (v - cb.Min) / (cb.Max - cb.Min)
		return c.Min.Y + vg.Length(math.Max(0, math.Min(1, f)))*(c.Max.Y-c.Min.Y)
	}
	// Colour k covers the values that plotter.HeatMap maps to it:
	// [Min + (k−½)/s, Min + (k+½)/s] with s = (n−1)/(Max−Min). Each
	// rectangle overlaps the next by a hair so that no seam shows.
	n := len(cols)
	s := float64(n-1) / (cb.Max - cb.Min)
	for k, col := range cols {
		lo, hi := cb.Min+(float64(k)-0.5)/s, cb.Min+(float64(k)+0.5)/s
		if n == 1 {
			lo, hi = cb.Min, cb.Max
		}
		top := y(hi)
		if k < n-1 {
			top += vg.Points(0.3)
		}
		c.SetColor(col)
		c.Fill(vg.Rectangle{Min: vg.Point{X: x0, Y: y(lo)}, Max: vg.Point{X: x1, Y: min(top, c.Max.Y)}}.Path())
	}
	for i, m := range cb.Marks {
		if m < cb.Min || m > cb.Max {
			continue
		}
		col := color.Color(color.Black)
		if i < len(cb.MarkColors) && cb.MarkColors[i] != nil {
			col = cb.MarkColors[i]
		}
		c.StrokeLine2(draw.LineStyle{Color: col, Width: vg.Points(1.2)}, x0, y(m), x1, y(m))
	}
	frame := draw.LineStyle{Color: color.Black, Width: vg.Points(0.5)}
	c.StrokeLines(frame, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}, {X: x0, Y: c.Min.Y}})
	ts := cbTickStyle()
	var lw vg.Length
	for _, t := range cb.Ticks() {
		c.StrokeLine2(frame, x1, y(t.Value), x1+vg.Points(cbTick), y(t.Value))
		c.FillText(ts, vg.Point{X: x1 + vg.Points(cbTick+cbTickGap), Y: y(t.Value)}, t.Label)
		lw = max(lw, ts.Width(t.Label))
	}
	if cb.Label != "" {
		c.FillText(cbLabelStyle(), vg.Point{X: x1 + vg.Points(cbTick+cbTickGap+cbLabelGap) + lw, Y: c.Center().Y}, cb.Label)
	}
}

// shareDecimals gives all bars the largest decimal count any of them needs,
// so that sibling colour bars label their ticks alike.
func shareDecimals(bars []*ColorBar) {
	d := 0
	for _, cb := range bars {
		d = max(d, cb.autoDecimals(), cb.Decimals)
	}
	for _, cb := range bars {
		cb.Decimals = d
	}
}
