package plots

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Deterministic contour lines. plotter.Contour collects its paths in maps
// keyed by pointers (contourSet, iterated while it is being modified) and
// so emits them in a different order on every run: the PNG and SVG bytes of
// a figure with contours change between runs. contourLines instead walks
// the grid in a fixed order (marching squares) and joins the segments
// through slices indexed by edge, so the same grid gives the same paths in
// the same order and direction.

// contourLines returns the polylines of {g = z} through the grid nodes (in
// data coordinates), in the order of their first cell (column-major); a
// closed line ends with its first point. A node value v counts as above
// the level when v ≥ z; saddle cells are resolved by the mean of their four
// corners. NaN nodes count as below.
func contourLines(g plotter.GridXYZ, z float64) []plotter.XYs {
	nc, nr := g.Dims()
	if nc < 2 || nr < 2 || math.IsNaN(z) {
		return nil
	}
	above := func(i, j int) bool { return g.Z(i, j) >= z }
	// Edge ids: horizontal edge (i, j)–(i+1, j) is 2(j·nc+i), vertical edge
	// (i, j)–(i, j+1) is 2(j·nc+i)+1.
	hEdge := func(i, j int) int { return 2 * (j*nc + i) }
	vEdge := func(i, j int) int { return 2*(j*nc+i) + 1 }
	point := func(e int) plotter.XY {
		n := e / 2
		i, j := n%nc, n/nc
		i2, j2 := i+1, j
		if e%2 == 1 {
			i2, j2 = i, j+1
		}
		a, b := g.Z(i, j), g.Z(i2, j2)
		t := (z - a) / (b - a)
		if math.IsNaN(t) || math.IsInf(t, 0) {
			t = 0.5
		}
		t = math.Max(0, math.Min(1, t))
		return plotter.XY{X: g.X(i) + t*(g.X(i2)-g.X(i)), Y: g.Y(j) + t*(g.Y(j2)-g.Y(j))}
	}
	type seg struct{ a, b int }
	var segs []seg
	for i := 0; i < nc-1; i++ {
		for j := 0; j < nr-1; j++ {
			// Corners counter-clockwise from bottom left; edges bottom,
			// right, top, left.
			c0, c1, c2, c3 := above(i, j), above(i+1, j), above(i+1, j+1), above(i, j+1)
			edges := [4]int{hEdge(i, j), vEdge(i+1, j), hEdge(i, j+1), vEdge(i, j)}
			crossed := [4]bool{c0 != c1, c1 != c2, c2 != c3, c3 != c0}
			var on []int
			for k, x := range crossed {
				if x {
					on = append(on, k)
				}
			}
			switch len(on) {
			case 2:
				segs = append(segs, seg{edges[on[0]], edges[on[1]]})
			case 4:
				centre := (g.Z(i, j)+g.Z(i+1, j)+g.Z(i+1, j+1)+g.Z(i, j+1))/4 >= z
				if c0 == centre { // the c0 side joins c2 through the centre: cut off corners 1 and 3
					segs = append(segs, seg{edges[0], edges[1]}, seg{edges[2], edges[3]})
				} else { // cut off corners 0 and 2
					segs = append(segs, seg{edges[3], edges[0]}, seg{edges[1], edges[2]})
				}
			}
		}
	}
	// Each crossed edge touches at most two segments.
	touch := make([][2]int32, 2*nc*nr)
	for k := range touch {
		touch[k] = [2]int32{-1, -1}
	}
	for s, sg := range segs {
		for _, e := range []int{sg.a, sg.b} {
			if touch[e][0] < 0 {
				touch[e][0] = int32(s)
			} else {
				touch[e][1] = int32(s)
			}
		}
	}
	used := make([]bool, len(segs))
	next := func(e, from int) int { // the unused segment at edge e other than from, or −1
		for _, s := range touch[e] {
			if s >= 0 && int(s) != from && !used[s] {
				return int(s)
			}
		}
		return -1
	}
	other := func(s, e int) int {
		if segs[s].a == e {
			return segs[s].b
		}
		return segs[s].a
	}
	var lines []plotter.XYs
	for s0 := range segs {
		if used[s0] {
			continue
		}
		used[s0] = true
		start, end := segs[s0].a, segs[s0].b
		fwd := []int{start, end}
		closed := false
		for s := s0; ; {
			n := next(end, s)
			if n < 0 {
				break
			}
			used[n] = true
			end = other(n, end)
			s = n
			fwd = append(fwd, end)
			if end == start {
				closed = true
				break
			}
		}
		if !closed {
			var back []int
			for s, e := s0, start; ; {
				n := next(e, s)
				if n < 0 {
					break
				}
				used[n] = true
				e = other(n, e)
				s = n
				back = append(back, e)
			}
			for l, r := 0, len(back)-1; l < r; l, r = l+1, r-1 {
				back[l], back[r] = back[r], back[l]
			}
			fwd = append(back, fwd...)
		}
		xy := make(plotter.XYs, len(fwd))
		for k, e := range fwd {
			xy[k] = point(e)
		}
		lines = append(lines, xy)
	}
	return lines
}

// contourPlot draws contourLines of a grid at fixed levels, one colour per
// level; unlike plotter.Contour its output does not depend on map order.
type contourPlot struct {
	levels []float64
	colors []color.Color
	width  vg.Length
	lines  [][]plotter.XYs // per level
}

func newContourPlot(g plotter.GridXYZ, levels []float64, colors []color.Color) *contourPlot {
	cp := &contourPlot{levels: levels, colors: colors, width: vg.Points(1)}
	for _, z := range levels {
		cp.lines = append(cp.lines, contourLines(g, z))
	}
	return cp
}

// Plot implements plot.Plotter.
func (cp *contourPlot) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for k, lines := range cp.lines {
		sty := draw.LineStyle{Color: cp.colors[k%len(cp.colors)], Width: cp.width}
		for _, l := range lines {
			pts := make([]vg.Point, len(l))
			for i, q := range l {
				pts[i] = vg.Point{X: trX(q.X), Y: trY(q.Y)}
			}
			c.StrokeLines(sty, pts)
		}
	}
}
