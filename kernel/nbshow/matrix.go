package nbshow

import (
	"fmt"
	"image/color"
	"math"

	"github.com/pdediff/pdediff/lib/plots"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
)

// matrixGrid is a rows × cols matrix as a plotter.GridXYZ: column c at x =
// c+1, row r at y = r+1 (so entry (1, 1) is at the bottom left).
type matrixGrid struct {
	rows, cols int
	z          []float64
}

func (g matrixGrid) Dims() (c, r int)   { return g.cols, g.rows }
func (g matrixGrid) Z(c, r int) float64 { return g.z[r*g.cols+c] }
func (g matrixGrid) X(c int) float64    { return float64(c + 1) }
func (g matrixGrid) Y(r int) float64    { return float64(r + 1) }

type reversedPalette []color.Color

func (p reversedPalette) Colors() []color.Color { return p }

// Matrix draws a rows × cols matrix z (row-major) as a heat map with a colour
// bar labelled zlabel: column c (1-based) on the horizontal axis, row r on the
// vertical one, white for the smallest value. For matrices such as a
// response matrix; lib/plots' ToyDensityPlot is for densities.
func Matrix(title, xlabel, ylabel, zlabel string, rows, cols int, z []float64) (*plot.Plot, error) {
	if rows < 1 || cols < 1 || len(z) != rows*cols {
		return nil, fmt.Errorf("nbshow: Matrix of %d × %d needs %d values, got %d", rows, cols, rows*cols, len(z))
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, v := range z {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("nbshow: Matrix entry %d = %v is not finite", i, v)
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if hi == lo {
		hi = lo + 1
	}
	cm := moreland.ExtendedBlackBody()
	cm.SetMin(0)
	cm.SetMax(1)
	c := cm.Palette(64).Colors()
	pal := make(reversedPalette, len(c))
	for i := range c {
		pal[i] = c[len(c)-1-i]
	}
	hm := plotter.NewHeatMap(matrixGrid{rows, cols, z}, pal)
	hm.Min, hm.Max = lo, hi
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xlabel, ylabel
	p.Add(hm)
	plots.AddColorBar(p, pal, lo, hi, zlabel)
	p.X.Tick.Marker, p.Y.Tick.Marker = indexTicks{}, indexTicks{}
	return p, nil
}

// indexTicks labels the 1-based indices 1, 5, 10, 15, … and marks every index.
type indexTicks struct{}

func (indexTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for i := int(math.Ceil(lo)); float64(i) <= hi; i++ {
		label := ""
		if i == 1 || i%5 == 0 {
			label = fmt.Sprint(i)
		}
		ts = append(ts, plot.Tick{Value: float64(i), Label: label})
	}
	return ts
}
