// Package plots builds the project's figures with gonum/plot. The same
// builders serve the CLI (`pdediff figures`) and the notebooks (inline PNG/SVG).
// Builders return *plot.Plot (or a grid of them as a Figure); this file holds
// the shared rendering and saving code.
//
// Conventions of every figure: legends are drawn outside the data area (a
// strip above it, or one legend under a Grid's title); heat maps carry a
// ColorBar with ticks and a label naming the quantity; linear axes use 1–2–5
// ticks with one number of decimals per axis, shared by the axes of a Grid
// that have the same label; log axes have a labelled tick at every decade;
// and the same inputs give byte-identical PNG and SVG (contours come from
// contourLines, not plotter.Contour, whose path order depends on map
// iteration).
package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"path/filepath"

	"github.com/pdediff/pdediff/lib/arrayio"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// DPI is the resolution of PNG output.
const DPI = 110

// Figure is something that can draw itself on a canvas of a given size: a
// single *plot.Plot or a Grid of plots.
type Figure interface {
	Draw(c draw.Canvas)
}

// Grid is a rows × cols arrangement of plots (nil cells stay empty) with an
// optional overall title and a legend strip under it. Grid.Draw aligns the
// data areas (plot.Align: equal sizes, tick labels and colour bars in fixed
// margins), draws a title or a legend that every panel repeats once (the
// overall title, the legend under it), and gives axes with the same label
// one tick-label format (the largest number of decimals any of them needs).
// The caller's plots are not modified.
type Grid struct {
	Plots [][]*plot.Plot
	// Title is drawn above the panels; when empty and every panel has the
	// same title, that title is drawn here once instead.
	Title string
	// Legend entries are drawn in rows under the title, outside the
	// panels; when empty and every panel has the same legend, that legend
	// is drawn here once instead.
	Legend []LegendEntry
}

// Draw tiles the plots over the canvas.
func (g Grid) Draw(c draw.Canvas) {
	rows := len(g.Plots)
	if rows == 0 {
		return
	}
	cols := 0
	for _, r := range g.Plots {
		cols = max(cols, len(r))
	}
	if cols == 0 {
		return
	}
	panels, title := g.prepared()
	leg := g.Legend
	if len(leg) == 0 {
		// A legend that every panel repeats is drawn once, under the title.
		if leg = sharedLegend(g.Plots); leg != nil {
			for _, r := range panels {
				for _, q := range r {
					if q != nil {
						hidden.Store(q, struct{}{})
						defer hidden.Delete(q)
					}
				}
			}
		}
	}
	if title != "" {
		sty := text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(figTitleSize)),
			XAlign: draw.XCenter, YAlign: draw.YTop, Handler: plot.DefaultTextHandler}
		c.FillText(sty, vg.Point{X: c.Center().X, Y: c.Max.Y - vg.Points(3)}, title)
		c.Max.Y -= sty.Height(title) + vg.Points(8)
	}
	if len(leg) > 0 {
		sty := legendStyle()
		// As many entries per row as fit in the width.
		n := fitLegendCols(sty, leg, c.Max.X-c.Min.X-vg.Points(20))
		drawLegendRows(c, sty, leg, n, c.Center().X, c.Max.Y)
		c.Max.Y -= vg.Length(len(legendRows(sty, leg, n)))*legendRowHeight(sty) + vg.Points(legendGap)
	}
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(10), PadY: vg.Points(6),
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Points(6)}
	canvases := plot.Align(panels, tiles, c)
	for i := range panels {
		for j := range panels[i] {
			if panels[i][j] != nil {
				panels[i][j].Draw(canvases[i][j])
			}
		}
	}
}

// prepared returns shallow copies of the panels (padded to full rows) with
// the shared tick formats and, when every panel has the same title, that
// title (removed from the copies). The caller's plots are not modified.
func (g Grid) prepared() ([][]*plot.Plot, string) {
	cols := 0
	for _, r := range g.Plots {
		cols = max(cols, len(r))
	}
	out := make([][]*plot.Plot, len(g.Plots))
	common, n := "", 0
	for i, r := range g.Plots {
		out[i] = make([]*plot.Plot, cols)
		for j, p := range r {
			if p == nil {
				continue
			}
			q := *p
			out[i][j] = &q
			if n == 0 {
				common = p.Title.Text
			} else if p.Title.Text != common {
				common = ""
			}
			n++
		}
	}
	title := g.Title
	if title == "" && n > 1 && common != "" {
		title = common
	}
	if title != "" && common != "" && n > 1 {
		for _, r := range out {
			for _, q := range r {
				if q != nil {
					q.Title.Text = ""
				}
			}
		}
	}
	// Shared decimals per (orientation, axis label).
	type key struct {
		vertical bool
		label    string
	}
	dec := map[key]int{}
	axes := func(q *plot.Plot) [2]*plot.Axis { return [2]*plot.Axis{&q.X, &q.Y} }
	for _, r := range out {
		for _, q := range r {
			if q == nil {
				continue
			}
			for k, a := range axes(q) {
				if lt, ok := a.Tick.Marker.(linearTicks); ok && lt.decimals < 0 && a.Max > a.Min {
					kk := key{k == 1, a.Label.Text}
					dec[kk] = max(dec[kk], autoDecimals(a.Min, a.Max))
				}
			}
		}
	}
	for _, r := range out {
		for _, q := range r {
			if q == nil {
				continue
			}
			for k, a := range axes(q) {
				if lt, ok := a.Tick.Marker.(linearTicks); ok && lt.decimals < 0 && a.Max > a.Min {
					a.Tick.Marker = linearTicks{decimals: dec[key{k == 1, a.Label.Text}]}
				}
			}
		}
	}
	return out, title
}

func render(f Figure, c vg.CanvasWriterTo) draw.Canvas {
	dc := draw.New(c)
	f.Draw(dc)
	return dc
}

// PNG renders f at width × height to PNG bytes.
func PNG(f Figure, width, height vg.Length) ([]byte, error) {
	c := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(DPI))}
	render(f, c)
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("render PNG: %w", err)
	}
	return b.Bytes(), nil
}

// SVG renders f at width × height to SVG bytes.
func SVG(f Figure, width, height vg.Length) ([]byte, error) {
	c := vgsvg.New(width, height)
	render(f, c)
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("render SVG: %w", err)
	}
	return b.Bytes(), nil
}

// Save writes base+".png" and base+".svg" (atomically) and returns their paths.
func Save(f Figure, width, height vg.Length, base string) ([]string, error) {
	var paths []string
	for _, kind := range []struct {
		ext    string
		render func(Figure, vg.Length, vg.Length) ([]byte, error)
	}{{".png", PNG}, {".svg", SVG}} {
		b, err := kind.render(f, width, height)
		if err != nil {
			return nil, err
		}
		p := base + kind.ext
		if err := arrayio.WriteAtomic(p, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
			return nil, err
		}
		paths = append(paths, filepath.Clean(p))
	}
	return paths, nil
}
