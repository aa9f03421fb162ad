package plots

import (
	"image/color"
	"sync"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// LegendEntry is one legend item: a label and the thumbnails drawn in front
// of it (the plotters it explains).
type LegendEntry struct {
	Label  string
	Thumbs []plot.Thumbnailer
}

// Legend sizes, in points.
const (
	legendThumbW   = 20 // thumbnail width
	legendThumbGap = 4  // thumbnail to text
	legendColGap   = 16 // between columns
	legendGap      = 6  // data area (or title) to legend
)

func legendStyle() text.Style {
	return text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(legendSize)),
		XAlign: draw.XLeft, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler}
}

// legendRowHeight is the height of one legend row.
func legendRowHeight(sty text.Style) vg.Length {
	e := sty.FontExtents()
	return 1.2 * (e.Ascent + e.Descent)
}

// entryWidth is the width of one legend entry (thumbnail and label).
func entryWidth(sty text.Style, e LegendEntry) vg.Length {
	return vg.Points(legendThumbW+legendThumbGap) + sty.Width(e.Label)
}

// legendRows splits entries into rows of cols entries (≤ 0: one row) and
// returns the width of each row (entries at their natural widths,
// legendColGap apart).
func legendRows(sty text.Style, entries []LegendEntry, cols int) []vg.Length {
	if cols <= 0 || cols > len(entries) {
		cols = len(entries)
	}
	var widths []vg.Length
	for i, e := range entries {
		if i%cols == 0 {
			widths = append(widths, 0)
		} else {
			widths[len(widths)-1] += vg.Points(legendColGap)
		}
		widths[len(widths)-1] += entryWidth(sty, e)
	}
	return widths
}

// drawLegendEntry draws the thumbnail and label of e with the thumbnail's
// left edge at x, centred on the line y.
func drawLegendEntry(c draw.Canvas, sty text.Style, e LegendEntry, x, y vg.Length) {
	h := 0.8 * (sty.FontExtents().Ascent + sty.FontExtents().Descent)
	icon := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
		Min: vg.Point{X: x, Y: y - h/2}, Max: vg.Point{X: x + vg.Points(legendThumbW), Y: y + h/2}}}
	for _, t := range e.Thumbs {
		t.Thumbnail(&icon)
	}
	c.FillText(sty, vg.Point{X: x + vg.Points(legendThumbW+legendThumbGap), Y: y}, e.Label)
}

// drawLegendRows draws entries in rows of cols, each row centred on cx,
// with the top of the first row at top.
func drawLegendRows(c draw.Canvas, sty text.Style, entries []LegendEntry, cols int, cx, top vg.Length) {
	widths := legendRows(sty, entries, cols)
	if len(widths) == 0 {
		return
	}
	if cols <= 0 || cols > len(entries) {
		cols = len(entries)
	}
	rh := legendRowHeight(sty)
	var x vg.Length
	for i, e := range entries {
		r := i / cols
		if i%cols == 0 {
			x = cx - widths[r]/2
		}
		drawLegendEntry(c, sty, e, x, top-(vg.Length(r)+0.5)*rh)
		x += entryWidth(sty, e) + vg.Points(legendColGap)
	}
}

// fitLegendCols is the largest number of entries per row whose rows all fit
// in width.
func fitLegendCols(sty text.Style, entries []LegendEntry, width vg.Length) int {
	n := len(entries)
	for n > 1 {
		fits := true
		for _, w := range legendRows(sty, entries, n) {
			fits = fits && w <= width
		}
		if fits {
			break
		}
		n--
	}
	return n
}

// legend is a plotter that draws a plot's legend outside its data area: in
// a strip above it (rows of cols entries) or in a column to its right. It
// reserves the room through GlyphBoxes, so the data area (and plot.Align)
// leave space for it.
type legend struct {
	entries []LegendEntry
	right   bool
	cols    int
	style   text.Style
}

// addLegend adds an (empty) legend strip above the data area of p, with
// cols entries per row (≤ 0: all in one row).
func addLegend(p *plot.Plot, cols int) *legend {
	l := &legend{cols: cols, style: legendStyle()}
	p.Add(l)
	return l
}

// addRightLegend adds an (empty) legend column to the right of the data
// area of p.
func addRightLegend(p *plot.Plot) *legend {
	l := &legend{right: true, style: legendStyle()}
	p.Add(l)
	return l
}

func (l *legend) add(label string, thumbs ...plot.Thumbnailer) {
	l.entries = append(l.entries, LegendEntry{Label: label, Thumbs: thumbs})
}

// Plot implements plot.Plotter.
func (l *legend) Plot(c draw.Canvas, p *plot.Plot) {
	if len(l.entries) == 0 || isHidden(p) {
		return
	}
	if !l.right {
		rows := len(legendRows(l.style, l.entries, l.cols))
		top := c.Max.Y + vg.Points(legendGap) + vg.Length(rows)*legendRowHeight(l.style)
		drawLegendRows(c, l.style, l.entries, l.cols, c.Center().X, top)
		return
	}
	rh := legendRowHeight(l.style)
	for i, e := range l.entries {
		drawLegendEntry(c, l.style, e, c.Max.X+vg.Points(legendGap), c.Max.Y-(vg.Length(i)+0.5)*rh)
	}
}

// GlyphBoxes implements plot.GlyphBoxer: one box that reserves the strip.
func (l *legend) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	if v, ok := probes.Load(p); ok {
		*v.(*[]*legend) = append(*v.(*[]*legend), l)
	}
	if len(l.entries) == 0 || isHidden(p) {
		return nil
	}
	if l.right {
		var w vg.Length
		for _, e := range l.entries {
			w = max(w, entryWidth(l.style, e))
		}
		return []plot.GlyphBox{{X: 1, Y: 0.5, Rectangle: vg.Rectangle{Max: vg.Point{X: vg.Points(legendGap) + w}}}}
	}
	h := vg.Points(legendGap) + vg.Length(len(legendRows(l.style, l.entries, l.cols)))*legendRowHeight(l.style)
	return []plot.GlyphBox{{X: 0.5, Y: 1, Rectangle: vg.Rectangle{Max: vg.Point{Y: h}}}}
}

// Grid.Draw draws the legend that every panel repeats once, under its title:
// it finds each panel's legends through probes (a legend reports itself
// when its plot's GlyphBoxes are asked for while the plot is in probes) and
// draws shallow copies of the panels that are listed in hidden, whose
// legends then neither draw nor reserve room. Both maps hold a plot only
// during one Grid.Draw (a plot must not be drawn concurrently; gonum's
// Plot.Draw is not safe for that either).
var probes, hidden sync.Map

func isHidden(p *plot.Plot) bool {
	_, ok := hidden.Load(p)
	return ok
}

// legendsOf returns the legends added to p.
func legendsOf(p *plot.Plot) []*legend {
	var found []*legend
	probes.Store(p, &found)
	p.GlyphBoxes(p)
	probes.Delete(p)
	return found
}

// sharedLegend returns the entries of the legend that every panel has (one
// legend above the data area with the same labels in the same order), or
// nil.
func sharedLegend(panels [][]*plot.Plot) []LegendEntry {
	var shared []LegendEntry
	n := 0
	for _, r := range panels {
		for _, p := range r {
			if p == nil {
				continue
			}
			ls := legendsOf(p)
			if len(ls) != 1 || ls[0].right || len(ls[0].entries) == 0 {
				return nil
			}
			if n == 0 {
				shared = ls[0].entries
			} else if !sameLabels(shared, ls[0].entries) {
				return nil
			}
			n++
		}
	}
	if n < 2 {
		return nil
	}
	return shared
}

func sameLabels(a, b []LegendEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Label != b[i].Label {
			return false
		}
	}
	return true
}
