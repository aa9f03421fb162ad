// Package plots builds the project's figures with gonum/plot. The same
// builders serve the CLI (`pdediff figures`) and the notebooks (inline PNG/SVG).
// Builders return *plot.Plot (or a grid of them as a Figure); this file holds
// the shared rendering and saving code.
package plots

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"

	"github.com/pdediff/pdediff/lib/arrayio"
	"gonum.org/v1/plot"
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

// Grid is a rows × cols arrangement of plots (nil cells stay empty).
type Grid struct {
	Plots [][]*plot.Plot
}

// Draw tiles the plots over the canvas.
func (g Grid) Draw(c draw.Canvas) {
	rows := len(g.Plots)
	if rows == 0 {
		return
	}
	cols := len(g.Plots[0])
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter, PadY: vg.Millimeter,
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
	canvases := plot.Align(g.Plots, tiles, c)
	for i := range g.Plots {
		for j := range g.Plots[i] {
			if g.Plots[i][j] != nil {
				g.Plots[i][j].Draw(canvases[i][j])
			}
		}
	}
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
