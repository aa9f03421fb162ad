package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// FluxGeometry describes the channel of the flux-inversion problems (paper
// Fig. 5, theory §6.1–§6.2): (0, Length) × (0, Height), SegmentsPerWall flux segments
// on each wall covering (0, FluxEnd), the sensors, and the peak velocity UMax
// of the parabolic profile.
type FluxGeometry struct {
	Length, Height, FluxEnd float64
	SegmentsPerWall         int
	// SensorX, SensorY are the sensor coordinates (bottom row, then top row).
	SensorX, SensorY []float64
	UMax             float64
}

func (g FluxGeometry) check() error {
	if !(g.Length > 0) || !(g.Height > 0) || !(g.FluxEnd > 0) || g.FluxEnd > g.Length || g.SegmentsPerWall < 1 {
		return fmt.Errorf("flux geometry: invalid channel %+v", g)
	}
	if len(g.SensorX) != len(g.SensorY) || len(g.SensorX) == 0 {
		return fmt.Errorf("flux geometry: %d sensor x and %d sensor y coordinates", len(g.SensorX), len(g.SensorY))
	}
	return nil
}

// FluxField is a nodal P1 field on the (NX+1) × (NY+1) grid of the channel:
// node (i, j) sits at (i·Length/NX, j·Height/NY) and holds C[i*(NY+1)+j]
// (the physics.Mesh node ordering).
type FluxField struct {
	NX, NY         int
	Length, Height float64
	C              []float64
}

// fluxFieldGrid exposes a FluxField as a plotter.GridXYZ, subsampled by
// strides so that vector output (SVG) stays small.
type fluxFieldGrid struct {
	f      FluxField
	sx, sy int
}

func (g fluxFieldGrid) Dims() (c, r int) { return g.f.NX/g.sx + 1, g.f.NY/g.sy + 1 }
func (g fluxFieldGrid) Z(c, r int) float64 {
	return g.f.C[(c*g.sx)*(g.f.NY+1)+r*g.sy]
}
func (g fluxFieldGrid) X(c int) float64 { return float64(c*g.sx) * g.f.Length / float64(g.f.NX) }
func (g fluxFieldGrid) Y(r int) float64 { return float64(r*g.sy) * g.f.Height / float64(g.f.NY) }

// fluxMaxCells bounds the heat-map resolution (cells per direction).
const fluxMaxCells = 170

var (
	fluxBottomColor = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	fluxTopColor    = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	fluxOffColor    = color.RGBA{R: 220, A: 255}
)

// FluxSetupPlot draws the problem set-up (paper Fig. 5): the channel, the
// parabolic velocity profile, the flux segments on both walls (alternating
// shades) and the sensors.
func FluxSetupPlot(g FluxGeometry) (*plot.Plot, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	p := newPlot(fmt.Sprintf("Flux-inversion set-up: channel (0, %g) × (0, %g), velocity profile, wall flux segments and sensors", g.Length, g.Height),
		"x (nondim.)", "y (nondim.)")
	leg := addLegend(p, 0)
	var segThumb [2]*plotter.Line
	outline, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: g.Length, Y: 0}, {X: g.Length, Y: g.Height}, {X: 0, Y: g.Height}, {X: 0, Y: 0}})
	if err != nil {
		return nil, err
	}
	outline.Color = color.Gray{Y: 80}
	p.Add(outline)
	// Flux segments: thick alternating segments on both walls.
	w := g.FluxEnd / float64(g.SegmentsPerWall)
	for k := 0; k < g.SegmentsPerWall; k++ {
		for _, wall := range []struct {
			y float64
			c color.RGBA
		}{{0, fluxBottomColor}, {g.Height, fluxTopColor}} {
			seg, err := plotter.NewLine(plotter.XYs{{X: float64(k) * w, Y: wall.y}, {X: float64(k+1) * w, Y: wall.y}})
			if err != nil {
				return nil, err
			}
			c := wall.c
			if k%2 == 1 { // lighter shade: halfway to white
				c = color.RGBA{R: uint8((int(c.R) + 255) / 2), G: uint8((int(c.G) + 255) / 2), B: uint8((int(c.B) + 255) / 2), A: 255}
			}
			seg.Color = c
			seg.Width = vg.Points(5)
			p.Add(seg)
			if k == 0 {
				segThumb[int(wall.y/g.Height+0.5)] = seg
			}
		}
	}
	// Velocity profile u(y) = UMax·4y(H−y)/H², drawn as arrows of length ∝ u from x = x0.
	x0 := 0.04 * g.Length
	scale := 0.12 * g.Length
	var prof plotter.XYs
	for i := 0; i <= 40; i++ {
		y := g.Height * float64(i) / 40
		prof = append(prof, plotter.XY{X: x0 + scale*4*y*(g.Height-y)/(g.Height*g.Height), Y: y})
	}
	pl, err := plotter.NewLine(prof)
	if err != nil {
		return nil, err
	}
	pl.Color = color.RGBA{G: 140, A: 255}
	p.Add(pl)
	for i := 1; i < 8; i++ {
		y := g.Height * float64(i) / 8
		tip := x0 + scale*4*y*(g.Height-y)/(g.Height*g.Height)
		arrow, err := plotter.NewLine(plotter.XYs{{X: x0, Y: y}, {X: tip, Y: y}})
		if err != nil {
			return nil, err
		}
		arrow.Color = pl.Color
		head, err := plotter.NewScatter(plotter.XYs{{X: tip, Y: y}})
		if err != nil {
			return nil, err
		}
		head.GlyphStyle = draw.GlyphStyle{Color: pl.Color, Radius: vg.Points(2.5), Shape: draw.PyramidGlyph{}}
		p.Add(arrow, head)
	}
	sens := make(plotter.XYs, len(g.SensorX))
	for i := range sens {
		sens[i] = plotter.XY{X: g.SensorX[i], Y: g.SensorY[i]}
	}
	sc, err := plotter.NewScatter(sens)
	if err != nil {
		return nil, err
	}
	sc.GlyphStyle = draw.GlyphStyle{Color: color.Black, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
	p.Add(sc)
	labels, err := plotter.NewLabels(plotter.XYLabels{
		XYs:    []plotter.XY{{X: x0 + 1.1*scale, Y: 0.47 * g.Height}},
		Labels: []string{fmt.Sprintf("u_max = %g", g.UMax)},
	})
	if err != nil {
		return nil, err
	}
	labels.TextStyle[0].Font.Size = vg.Points(legendSize)
	p.Add(labels)
	n := g.SegmentsPerWall
	leg.add(fmt.Sprintf("bottom flux segments 1–%d", n), segThumb[0])
	leg.add(fmt.Sprintf("top flux segments %d–%d", n+1, 2*n), segThumb[1])
	leg.add("velocity profile u(y)", pl)
	leg.add(fmt.Sprintf("%d sensors", len(g.SensorX)), sc)
	p.X.Min, p.X.Max = -0.1, g.Length+0.1
	p.Y.Min, p.Y.Max = -0.15*g.Height, 1.15*g.Height
	return p, nil
}

// FluxWallPlot draws the 30 fluxes q (bottom segments 1–15, then top) as step
// functions of x on the two walls.
func FluxWallPlot(g FluxGeometry, q []float64, title string) (*plot.Plot, error) {
	p, entries, err := fluxWallPlot(g, q, title)
	if err != nil {
		return nil, err
	}
	addLegend(p, 0).entries = entries
	return p, nil
}

// fluxWallPlot is FluxWallPlot without the legend, whose entries it
// returns. The x axis spans the whole channel, like the field and readings
// panels.
func fluxWallPlot(g FluxGeometry, q []float64, title string) (*plot.Plot, []LegendEntry, error) {
	if err := g.check(); err != nil {
		return nil, nil, err
	}
	n := g.SegmentsPerWall
	if len(q) != 2*n {
		return nil, nil, fmt.Errorf("flux plot: %d flux values, want %d", len(q), 2*n)
	}
	p := newPlot(title, "x (nondim.)", "wall flux q (nondim.)")
	var entries []LegendEntry
	w := g.FluxEnd / float64(n)
	for wall, name := range []string{"bottom", "top"} {
		var xy plotter.XYs
		for k := 0; k < n; k++ {
			v := q[wall*n+k]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("flux plot: non-finite flux %v at segment %d", v, wall*n+k)
			}
			xy = append(xy, plotter.XY{X: float64(k) * w, Y: v}, plotter.XY{X: float64(k+1) * w, Y: v})
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return nil, nil, err
		}
		l.Color = []color.RGBA{fluxBottomColor, fluxTopColor}[wall]
		l.Width = vg.Points(1.5)
		p.Add(l)
		entries = append(entries, LegendEntry{Label: name + " wall", Thumbs: []plot.Thumbnailer{l}})
	}
	p.Y.Min = math.Min(0, p.Y.Min)
	p.X.Min, p.X.Max = 0, g.Length
	return p, entries, nil
}

// FluxFieldPlot draws a concentration field as a heat map with a colour bar
// and the sensors on top (off sensors, mask[i] == 0, as red crosses; mask
// may be nil).
func FluxFieldPlot(g FluxGeometry, f FluxField, mask []float64, title string) (*plot.Plot, error) {
	p, _, err := fluxFieldPlot(g, f, mask, title)
	return p, err
}

// fluxFieldPlot is FluxFieldPlot; it also returns the colour bar.
func fluxFieldPlot(g FluxGeometry, f FluxField, mask []float64, title string) (*plot.Plot, *ColorBar, error) {
	if err := g.check(); err != nil {
		return nil, nil, err
	}
	if f.NX < 1 || f.NY < 1 || len(f.C) != (f.NX+1)*(f.NY+1) {
		return nil, nil, fmt.Errorf("field plot: %d values for a %d × %d grid", len(f.C), f.NX, f.NY)
	}
	for i, v := range f.C {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, nil, fmt.Errorf("field plot: non-finite value %v at node %d", v, i)
		}
	}
	grid := fluxFieldGrid{f: f, sx: max(1, (f.NX+fluxMaxCells-1)/fluxMaxCells), sy: max(1, (f.NY+fluxMaxCells/4-1)/(fluxMaxCells/4))}
	p := newPlot(title, "x (nondim.)", "y (nondim.)")
	cm := moreland.ExtendedKindlmann()
	cm.SetMin(0)
	cm.SetMax(1)
	pal := cm.Palette(128)
	hm := plotter.NewHeatMap(grid, pal)
	if hm.Max <= hm.Min {
		hm.Max = hm.Min + 1
	}
	hm.Rasterized = true
	p.Add(hm)
	if err := fluxAddSensors(p, g.SensorX, g.SensorY, mask); err != nil {
		return nil, nil, err
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, g.Length, 0, g.Height
	cb := AddColorBar(p, pal, hm.Min, hm.Max, "concentration c (nondim.)")
	return p, cb, nil
}

// sensorOnThumb is the legend thumbnail of an active sensor on the field: a
// white dot on a dark square.
type sensorOnThumb struct{}

func (sensorOnThumb) Thumbnail(c *draw.Canvas) {
	h := c.Max.Y - c.Min.Y
	cx := c.Center().X
	c.SetColor(color.Gray{Y: 40})
	c.Fill(vg.Rectangle{Min: vg.Point{X: cx - h/2, Y: c.Min.Y}, Max: vg.Point{X: cx + h/2, Y: c.Max.Y}}.Path())
	c.DrawGlyph(draw.GlyphStyle{Color: color.White, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}, c.Center())
}

func fluxAddSensors(p *plot.Plot, xs, ys, mask []float64) error {
	if mask != nil && len(mask) != len(xs) {
		return fmt.Errorf("sensor mask: %d values for %d sensors", len(mask), len(xs))
	}
	var on, off plotter.XYs
	for i := range xs {
		if mask != nil && mask[i] == 0 {
			off = append(off, plotter.XY{X: xs[i], Y: ys[i]})
		} else {
			on = append(on, plotter.XY{X: xs[i], Y: ys[i]})
		}
	}
	if len(on) > 0 {
		s, err := plotter.NewScatter(on)
		if err != nil {
			return err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: color.White, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
		p.Add(s)
	}
	if len(off) > 0 {
		s, err := plotter.NewScatter(off)
		if err != nil {
			return err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: fluxOffColor, Radius: vg.Points(3.5), Shape: draw.CrossGlyph{}}
		p.Add(s)
	}
	return nil
}

// FluxReadingsPlot draws sensor readings against sensor x for the bottom row
// (first half) and top row (second half); off sensors (mask[i] == 0; mask may
// be nil) are drawn as red crosses at their (unobserved) value.
func FluxReadingsPlot(g FluxGeometry, readings, mask []float64, title string) (*plot.Plot, error) {
	p, entries, err := fluxReadingsPlot(g, readings, mask, title)
	if err != nil {
		return nil, err
	}
	addLegend(p, 2).entries = entries
	return p, nil
}

// fluxReadingsPlot is FluxReadingsPlot without the legend, whose entries it
// returns. The x axis spans the whole channel, like the field panel.
func fluxReadingsPlot(g FluxGeometry, readings, mask []float64, title string) (*plot.Plot, []LegendEntry, error) {
	if err := g.check(); err != nil {
		return nil, nil, err
	}
	n := len(g.SensorX)
	if len(readings) != n || (mask != nil && len(mask) != n) {
		return nil, nil, fmt.Errorf("readings plot: %d readings and %d mask values for %d sensors", len(readings), len(mask), n)
	}
	p := newPlot(title, "sensor x (nondim.)", "reading c (nondim.)")
	var entries []LegendEntry
	var offs plotter.XYs
	half := n / 2
	for row, name := range []string{"bottom sensor row", "top sensor row"} {
		var on plotter.XYs
		lo, hi := row*half, (row+1)*half
		if row == 1 {
			hi = n
		}
		for i := lo; i < hi; i++ {
			v := readings[i]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("readings plot: non-finite reading %v at sensor %d", v, i)
			}
			if mask != nil && mask[i] == 0 {
				offs = append(offs, plotter.XY{X: g.SensorX[i], Y: v})
			} else {
				on = append(on, plotter.XY{X: g.SensorX[i], Y: v})
			}
		}
		if len(on) == 0 {
			continue
		}
		s, err := plotter.NewScatter(on)
		if err != nil {
			return nil, nil, err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: []color.RGBA{fluxBottomColor, fluxTopColor}[row], Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
		p.Add(s)
		entries = append(entries, LegendEntry{Label: name, Thumbs: []plot.Thumbnailer{s}})
	}
	if len(offs) > 0 {
		s, err := plotter.NewScatter(offs)
		if err != nil {
			return nil, nil, err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: fluxOffColor, Radius: vg.Points(3.5), Shape: draw.CrossGlyph{}}
		p.Add(s)
		entries = append(entries, LegendEntry{Label: "sensor off (value not observed)", Thumbs: []plot.Thumbnailer{s}})
	}
	p.X.Min, p.X.Max = 0, g.Length
	return p, entries, nil
}

// FluxInstance is one flux-inversion sample to plot: the 30 fluxes, the field
// (nil if unavailable), the 30 (noisy) readings in physical units and the
// sensor mask (nil = all on).
type FluxInstance struct {
	Q        []float64
	Field    *FluxField
	Readings []float64
	Mask     []float64
}

// FluxInstancesFigure lays out one row per instance: wall fluxes, concentration
// field with sensors and colour bar (if any instance has a field) and sensor
// readings (paper Figs. 6, 12 and 15), all columns over the channel's x
// range, with one legend above the panels.
func FluxInstancesFigure(g FluxGeometry, inst []FluxInstance) (Grid, error) {
	if len(inst) == 0 {
		return Grid{}, fmt.Errorf("instances figure: no instances")
	}
	withField, anyOff := false, false
	for _, in := range inst {
		withField = withField || in.Field != nil
		for _, m := range in.Mask {
			anyOff = anyOff || m == 0
		}
	}
	var rows [][]*plot.Plot
	var bars []*ColorBar
	var wallEntries, readEntries []LegendEntry
	for i, in := range inst {
		qp, we, err := fluxWallPlot(g, in.Q, fmt.Sprintf("instance %d: wall flux q", i+1))
		if err != nil {
			return Grid{}, err
		}
		row := []*plot.Plot{qp}
		if withField {
			var fp *plot.Plot
			if in.Field != nil {
				var cb *ColorBar
				if fp, cb, err = fluxFieldPlot(g, *in.Field, in.Mask, fmt.Sprintf("instance %d: concentration field c", i+1)); err != nil {
					return Grid{}, err
				}
				bars = append(bars, cb)
			}
			row = append(row, fp)
		}
		rp, re, err := fluxReadingsPlot(g, in.Readings, in.Mask, fmt.Sprintf("instance %d: noisy sensor readings", i+1))
		if err != nil {
			return Grid{}, err
		}
		if len(we) > len(wallEntries) {
			wallEntries = we
		}
		if len(re) > len(readEntries) {
			readEntries = re
		}
		rows = append(rows, append(row, rp))
	}
	shareDecimals(bars)
	// One legend: blue/orange mean the bottom/top wall and sensor row in
	// every column.
	var leg []LegendEntry
	for k, name := range []string{"bottom wall flux / bottom sensor row", "top wall flux / top sensor row"} {
		var th []plot.Thumbnailer
		if k < len(wallEntries) {
			th = append(th, wallEntries[k].Thumbs...)
		}
		if k < len(readEntries) {
			th = append(th, readEntries[k].Thumbs...)
		}
		leg = append(leg, LegendEntry{Label: name, Thumbs: th})
	}
	if withField {
		leg = append(leg, LegendEntry{Label: "sensor (on the field)", Thumbs: []plot.Thumbnailer{sensorOnThumb{}}})
	}
	if anyOff {
		off, _ := plotter.NewScatter(plotter.XYs{{}})
		off.GlyphStyle = draw.GlyphStyle{Color: fluxOffColor, Radius: vg.Points(3.5), Shape: draw.CrossGlyph{}}
		leg = append(leg, LegendEntry{Label: "sensor off (masked, value not observed)", Thumbs: []plot.Thumbnailer{off}})
	}
	return Grid{Plots: rows, Legend: leg}, nil
}
