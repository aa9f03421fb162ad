package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
)

// ToyGrid is a density on a regular grid of cell centres; it implements
// plotter.GridXYZ. Z is row-major over (Y, X): Z[r*len(X)+c].
type ToyGrid struct {
	Xs, Ys []float64
	Zs     []float64
}

// Dims returns (columns, rows) = (len(Xs), len(Ys)).
func (g ToyGrid) Dims() (c, r int) { return len(g.Xs), len(g.Ys) }

// Z returns the value at column c, row r.
func (g ToyGrid) Z(c, r int) float64 { return g.Zs[r*len(g.Xs)+c] }

// X returns the x coordinate of column c.
func (g ToyGrid) X(c int) float64 { return g.Xs[c] }

// Y returns the y coordinate of row r.
func (g ToyGrid) Y(r int) float64 { return g.Ys[r] }

// Max returns the largest value of the grid.
func (g ToyGrid) Max() float64 {
	m := math.Inf(-1)
	for _, v := range g.Zs {
		m = math.Max(m, v)
	}
	return m
}

// Min returns the smallest value of the grid.
func (g ToyGrid) Min() float64 {
	m := math.Inf(1)
	for _, v := range g.Zs {
		m = math.Min(m, v)
	}
	return m
}

func toyCentres(lo, hi float64, n int) []float64 {
	c := make([]float64, n)
	for i := range c {
		c[i] = lo + (float64(i)+0.5)*(hi-lo)/float64(n)
	}
	return c
}

func toyCheckBox(xlo, xhi, ylo, yhi float64, nx, ny int) error {
	for _, v := range []float64{xlo, xhi, ylo, yhi} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("plot grid: non-finite bound %v", v)
		}
	}
	if !(xhi > xlo) || !(yhi > ylo) {
		return fmt.Errorf("plot grid: empty box [%v, %v] × [%v, %v]", xlo, xhi, ylo, yhi)
	}
	if nx < 2 || ny < 2 {
		return fmt.Errorf("plot grid: %d × %d cells, want at least 2 × 2", nx, ny)
	}
	return nil
}

// ToyHist2D bins the pairs (x[i], y[i]) into nx × ny cells of the box and
// returns the normalised density (counts / (n · cell area)); points outside the
// box are counted in n but not binned.
func ToyHist2D(x, y []float64, xlo, xhi, ylo, yhi float64, nx, ny int) (ToyGrid, error) {
	if err := toyCheckBox(xlo, xhi, ylo, yhi, nx, ny); err != nil {
		return ToyGrid{}, err
	}
	if len(x) != len(y) || len(x) == 0 {
		return ToyGrid{}, fmt.Errorf("2-D histogram: %d x values and %d y values", len(x), len(y))
	}
	g := ToyGrid{Xs: toyCentres(xlo, xhi, nx), Ys: toyCentres(ylo, yhi, ny), Zs: make([]float64, nx*ny)}
	hx, hy := (xhi-xlo)/float64(nx), (yhi-ylo)/float64(ny)
	w := 1 / (float64(len(x)) * hx * hy)
	for i := range x {
		c := int(math.Floor((x[i] - xlo) / hx))
		r := int(math.Floor((y[i] - ylo) / hy))
		if c >= 0 && c < nx && r >= 0 && r < ny {
			g.Zs[r*nx+c] += w
		}
	}
	return g, nil
}

// ToyEvalGrid evaluates f at the nx × ny cell centres of the box.
func ToyEvalGrid(f func(x, y float64) (float64, error), xlo, xhi, ylo, yhi float64, nx, ny int) (ToyGrid, error) {
	if err := toyCheckBox(xlo, xhi, ylo, yhi, nx, ny); err != nil {
		return ToyGrid{}, err
	}
	g := ToyGrid{Xs: toyCentres(xlo, xhi, nx), Ys: toyCentres(ylo, yhi, ny), Zs: make([]float64, nx*ny)}
	for r, yv := range g.Ys {
		for c, xv := range g.Xs {
			v, err := f(xv, yv)
			if err != nil {
				return ToyGrid{}, err
			}
			g.Zs[r*nx+c] = v
		}
	}
	return g, nil
}

// ToyDensityPlot draws g as a heat map (white = 0) with contour lines at
// 10%, 30%, 50%, 70% and 90% of its maximum and a colour bar (the contour
// levels marked on it); x is horizontal, y vertical.
func ToyDensityPlot(title string, g ToyGrid) (*plot.Plot, error) {
	p, _, err := toyDensityPlot(title, g, 0)
	return p, err
}

// toyDensityPlot is ToyDensityPlot with the top of the colour scale zmax
// (≤ 0: the grid's maximum); it also returns the colour bar.
func toyDensityPlot(title string, g ToyGrid, zmax float64) (*plot.Plot, *ColorBar, error) {
	c, r := g.Dims()
	if c < 2 || r < 2 || len(g.Zs) != c*r {
		return nil, nil, fmt.Errorf("density plot %q: grid %d × %d with %d values", title, c, r, len(g.Zs))
	}
	gmax := g.Max()
	if !(gmax > 0) || math.IsInf(gmax, 0) {
		return nil, nil, fmt.Errorf("density plot %q: maximum %v, want a finite value > 0", title, gmax)
	}
	if zmax < gmax {
		zmax = gmax
	}
	p := newPlot(title, "x", "y")
	cm := moreland.ExtendedBlackBody()
	cm.SetMin(0)
	cm.SetMax(1)
	pal := reversed(cm.Palette(64)) // ExtendedBlackBody runs black → white; reversed, low density is white
	hm := plotter.NewHeatMap(g, pal)
	hm.Min, hm.Max = 0, zmax
	hm.Rasterized = true
	p.Add(hm)
	levels := []float64{0.1 * gmax, 0.3 * gmax, 0.5 * gmax, 0.7 * gmax, 0.9 * gmax}
	colors := moreland.SmoothBlueRed().Palette(len(levels)).Colors()
	p.Add(newContourPlot(g, levels, colors))
	cb := AddColorBar(p, pal, 0, zmax, "density p(x, y)")
	cb.Marks, cb.MarkColors = levels, colors
	return p, cb, nil
}

// ToyJointFigure lays out one density panel per grid in a row (paper Fig. 2),
// each with its own colour scale; the colour bars share one label format.
func ToyJointFigure(titles []string, grids []ToyGrid) (Grid, error) {
	if len(titles) != len(grids) || len(grids) == 0 {
		return Grid{}, fmt.Errorf("joint figure: %d titles for %d grids", len(titles), len(grids))
	}
	return ToyDensityFigure([][]string{titles}, [][]ToyGrid{grids}, false)
}

// ToyDensityFigure lays out density panels in rows (paper Fig. 2: one row of
// exact densities, one of sample histograms). With shareColumns, the panels
// of a column share one colour scale (0 to the column's maximum), so that
// exact and estimated densities of a case compare directly; otherwise each
// panel has its own. All colour bars share one label format.
func ToyDensityFigure(titles [][]string, grids [][]ToyGrid, shareColumns bool) (Grid, error) {
	if len(titles) != len(grids) || len(grids) == 0 {
		return Grid{}, fmt.Errorf("density figure: %d title rows for %d grid rows", len(titles), len(grids))
	}
	var colMax []float64
	for i := range grids {
		if len(titles[i]) != len(grids[i]) || len(grids[i]) == 0 {
			return Grid{}, fmt.Errorf("density figure: row %d has %d titles for %d grids", i, len(titles[i]), len(grids[i]))
		}
		for j, g := range grids[i] {
			if j >= len(colMax) {
				colMax = append(colMax, 0)
			}
			if m := g.Max(); m > colMax[j] && !math.IsInf(m, 0) {
				colMax[j] = m
			}
		}
	}
	var out Grid
	var bars []*ColorBar
	for i := range grids {
		row := make([]*plot.Plot, len(grids[i]))
		for j, g := range grids[i] {
			zmax := 0.0
			if shareColumns {
				zmax = colMax[j]
			}
			p, cb, err := toyDensityPlot(titles[i][j], g, zmax)
			if err != nil {
				return Grid{}, err
			}
			row[j] = p
			bars = append(bars, cb)
		}
		out.Plots = append(out.Plots, row)
	}
	shareDecimals(bars)
	return out, nil
}
