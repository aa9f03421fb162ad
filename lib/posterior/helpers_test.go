package posterior

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// sym2 builds a 2×2 symmetric matrix.
func sym2(a, b, c float64) *mat.SymDense { return mat.NewSymDense(2, []float64{a, b, b, c}) }

// grid2 integrates a 2-D log density on a square grid and returns the
// normalised weights with the midpoints; the density is exp(logp(x, y)).
type grid2 struct {
	xs, ys []float64
	w      []float64 // row-major len(xs)×len(ys), sums to 1
}

func newGrid2(lo, hi float64, n int, logp func(x, y float64) float64) grid2 {
	g := grid2{xs: make([]float64, n), ys: make([]float64, n), w: make([]float64, n*n)}
	h := (hi - lo) / float64(n)
	for i := range g.xs {
		g.xs[i] = lo + (float64(i)+0.5)*h
		g.ys[i] = g.xs[i]
	}
	mx := math.Inf(-1)
	for i, x := range g.xs {
		for j, y := range g.ys {
			v := logp(x, y)
			g.w[i*n+j] = v
			mx = math.Max(mx, v)
		}
	}
	s := 0.0
	for k, v := range g.w {
		g.w[k] = math.Exp(v - mx)
		s += g.w[k]
	}
	for k := range g.w {
		g.w[k] /= s
	}
	return g
}

// expect returns E[fn(x, y)] under the grid weights.
func (g grid2) expect(fn func(x, y float64) float64) float64 {
	n := len(g.xs)
	s := 0.0
	for i, x := range g.xs {
		for j, y := range g.ys {
			s += g.w[i*n+j] * fn(x, y)
		}
	}
	return s
}

// logNormal2 is log N(x; mu, c) for 2-D x up to a constant.
func logNormal2(x, y float64, mu []float64, c *mat.SymDense) float64 {
	a, b, d := c.At(0, 0), c.At(0, 1), c.At(1, 1)
	det := a*d - b*b
	dx, dy := x-mu[0], y-mu[1]
	return -0.5 * (d*dx*dx - 2*b*dx*dy + a*dy*dy) / det
}

// randomSPD returns B Bᵀ + shift·I for a random n×n B.
func randomSPD(r *rand.Rand, n int, shift float64) *mat.SymDense {
	b := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			b.Set(i, j, r.NormFloat64())
		}
	}
	s := mat.NewSymDense(n, nil)
	s.SymOuterK(1, b)
	for i := 0; i < n; i++ {
		s.SetSym(i, i, s.At(i, i)+shift)
	}
	return s
}

// randomDense returns an m×n matrix with standard normal entries.
func randomDense(r *rand.Rand, m, n int) *mat.Dense {
	g := mat.NewDense(m, n, nil)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			g.Set(i, j, r.NormFloat64())
		}
	}
	return g
}

// sampleMoments returns the mean and the covariance (n−1 denominator) of the rows of x (n×d).
func sampleMoments(x []float64, d int) ([]float64, *mat.SymDense) {
	n := len(x) / d
	mu := make([]float64, d)
	for k := 0; k < n; k++ {
		for j := 0; j < d; j++ {
			mu[j] += x[k*d+j]
		}
	}
	for j := range mu {
		mu[j] /= float64(n)
	}
	c := mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			s := 0.0
			for k := 0; k < n; k++ {
				s += (x[k*d+i] - mu[i]) * (x[k*d+j] - mu[j])
			}
			c.SetSym(i, j, s/float64(n-1))
		}
	}
	return mu, c
}

func assertClose(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %.6g, want %.6g ± %.2g", what, got, want, tol)
	}
}

func mustLG(t *testing.T, prior Gaussian, lin Linear) *LinearGaussian {
	t.Helper()
	p, err := NewLinearGaussian(prior, lin)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
