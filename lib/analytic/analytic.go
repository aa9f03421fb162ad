// Package analytic gives exact scores, densities and samples of the marginals
// p_t of a forward process (lib/sde) when the data are a Gaussian with diagonal
// covariance or a mixture of such Gaussians. Since the kernel of theory eq. 29 is
// N(m(t) x0, s²(t) I), p_t is again a mixture with component means m·μ_k and
// variances m²σ_k² + s² (per coordinate). These serve as oracles for the
// samplers (lib/sample) and in the notebooks.
package analytic

import (
	"fmt"
	"github.com/pdediff/pdediff/lib/exp"
	"math"
	"math/rand/v2"

	"github.com/pdediff/pdediff/lib/sample"
	"github.com/pdediff/pdediff/lib/sde"
)

// Mixture is a d-dimensional mixture of K Gaussians with diagonal covariances:
// p(x) = Σ_k w_k Π_j N(x_j; μ_kj, σ_kj²). A single Gaussian is K = 1.
type Mixture struct {
	// Weights w_k > 0, summing to 1.
	Weights []float64
	// Means μ_k, K rows of length d.
	Means [][]float64
	// Stds σ_k (per coordinate), K rows of length d, each ≥ 0 (0 only at t=0 of
	// a point mass; scores then need t > 0).
	Stds [][]float64
}

// NewGaussian returns the Gaussian N(mean, diag(std²)) as a one-component
// mixture.
func NewGaussian(mean, std []float64) (Mixture, error) {
	return NewMixture([]float64{1}, [][]float64{mean}, [][]float64{std})
}

// NewMixture validates and copies its arguments: K ≥ 1 components, equal
// dimensions d ≥ 1, finite means, finite stds > 0, finite weights > 0 summing
// to 1 within 1e-9 (they are then renormalised exactly).
func NewMixture(weights []float64, means, stds [][]float64) (Mixture, error) {
	k := len(weights)
	if k == 0 {
		return Mixture{}, fmt.Errorf("analytic: mixture needs at least one component")
	}
	if len(means) != k || len(stds) != k {
		return Mixture{}, fmt.Errorf("analytic: %d weights but %d mean rows and %d std rows", k, len(means), len(stds))
	}
	d := len(means[0])
	if d == 0 {
		return Mixture{}, fmt.Errorf("analytic: dimension must be >= 1")
	}
	sum := 0.0
	m := Mixture{Weights: make([]float64, k), Means: make([][]float64, k), Stds: make([][]float64, k)}
	for i := range k {
		w := weights[i]
		if !(w > 0) || math.IsInf(w, 0) {
			return Mixture{}, fmt.Errorf("analytic: weight %d = %v must be finite and > 0", i, w)
		}
		sum += w
		if len(means[i]) != d || len(stds[i]) != d {
			return Mixture{}, fmt.Errorf("analytic: component %d has mean length %d and std length %d, want %d", i, len(means[i]), len(stds[i]), d)
		}
		for j := range d {
			if math.IsNaN(means[i][j]) || math.IsInf(means[i][j], 0) {
				return Mixture{}, fmt.Errorf("analytic: mean[%d][%d] = %v is not finite", i, j, means[i][j])
			}
			if !(stds[i][j] > 0) || math.IsInf(stds[i][j], 0) {
				return Mixture{}, fmt.Errorf("analytic: std[%d][%d] = %v must be finite and > 0", i, j, stds[i][j])
			}
		}
		m.Means[i] = append([]float64(nil), means[i]...)
		m.Stds[i] = append([]float64(nil), stds[i]...)
	}
	if math.Abs(sum-1) > 1e-9 {
		return Mixture{}, fmt.Errorf("analytic: weights sum to %v, want 1", sum)
	}
	for i := range k {
		m.Weights[i] = weights[i] / sum
	}
	return m, nil
}

// K is the number of components.
func (m Mixture) K() int { return len(m.Weights) }

// Dim is the dimension d.
func (m Mixture) Dim() int { return len(m.Means[0]) }

// Marginal returns p_t, the law of x_t = m(t) x0 + s(t) z with x0 ~ m: means
// m(t)μ_k, stds sqrt(m²σ_k² + s²) (theory eqs. 29, 31, 34), same weights.
func (m Mixture) Marginal(p sde.Process, t float64) (Mixture, error) {
	if err := sde.CheckTime(p, t); err != nil {
		return Mixture{}, err
	}
	mt, st := p.Mean(t), p.Std(t)
	out := Mixture{Weights: append([]float64(nil), m.Weights...), Means: make([][]float64, m.K()), Stds: make([][]float64, m.K())}
	for k := range m.K() {
		out.Means[k] = make([]float64, m.Dim())
		out.Stds[k] = make([]float64, m.Dim())
		for j := range m.Dim() {
			out.Means[k][j] = mt * m.Means[k][j]
			out.Stds[k][j] = math.Sqrt(mt*mt*m.Stds[k][j]*m.Stds[k][j] + st*st)
		}
	}
	return out, nil
}

// Mean returns the mixture mean Σ_k w_k μ_k (length d).
func (m Mixture) Mean() []float64 {
	out := make([]float64, m.Dim())
	for k, w := range m.Weights {
		for j := range out {
			out[j] += w * m.Means[k][j]
		}
	}
	return out
}

// Var returns the per-coordinate variance Σ_k w_k(σ_k² + μ_k²) − mean².
func (m Mixture) Var() []float64 {
	mean := m.Mean()
	out := make([]float64, m.Dim())
	for k, w := range m.Weights {
		for j := range out {
			out[j] += w * (m.Stds[k][j]*m.Stds[k][j] + m.Means[k][j]*m.Means[k][j])
		}
	}
	for j := range out {
		out[j] -= mean[j] * mean[j]
	}
	return out
}

// Sample draws n points (row-major n×d) from the mixture with rng.
func (m Mixture) Sample(rng *rand.Rand, n int) []float64 {
	d := m.Dim()
	out := make([]float64, n*d)
	for i := range n {
		u := rng.Float64()
		k := 0
		for acc := m.Weights[0]; u >= acc && k < m.K()-1; {
			k++
			acc += m.Weights[k]
		}
		for j := range d {
			out[i*d+j] = m.Means[k][j] + m.Stds[k][j]*rng.NormFloat64()
		}
	}
	return out
}

// SampleAt draws n exact samples of p_t (row-major n×d) for data m under p.
func (m Mixture) SampleAt(p sde.Process, t float64, rng *rand.Rand, n int) ([]float64, error) {
	mt, err := m.Marginal(p, t)
	if err != nil {
		return nil, err
	}
	return mt.Sample(rng, n), nil
}

// prepared caches, per component, log w_k − Σ_j log σ_kj − (d/2) log 2π and
// the precisions 1/σ_kj², so that per-point work is a few multiply-adds and one
// exp per component.
type prepared struct {
	m       Mixture
	logNorm []float64
	prec    [][]float64
}

func (m Mixture) prepare() prepared {
	p := prepared{m: m, logNorm: make([]float64, m.K()), prec: make([][]float64, m.K())}
	for k := range m.K() {
		v := math.Log(m.Weights[k]) - 0.5*float64(m.Dim())*math.Log(2*math.Pi)
		p.prec[k] = make([]float64, m.Dim())
		for j, s := range m.Stds[k] {
			v -= math.Log(s)
			p.prec[k][j] = 1 / (s * s)
		}
		p.logNorm[k] = v
	}
	return p
}

// logComponents writes log(w_k N(x; μ_k, σ_k²)) for one point into lc (len K)
// and returns their log-sum-exp.
func (p *prepared) logComponents(x []float64, lc []float64) float64 {
	maxv := math.Inf(-1)
	for k, mu := range p.m.Means {
		v := 0.0
		prec := p.prec[k]
		for j, xj := range x {
			z := xj - mu[j]
			v += z * z * prec[j]
		}
		v = p.logNorm[k] - 0.5*v
		lc[k] = v
		if v > maxv {
			maxv = v
		}
	}
	sum := 0.0
	for k, v := range lc {
		e := exp.Exp(v - maxv) // not math.Exp: see package lib/exp
		lc[k] = e
		sum += e
	}
	// lc now holds unnormalised responsibilities exp(v − max).
	inv := 1 / sum
	for k := range lc {
		lc[k] *= inv
	}
	return maxv + math.Log(sum)
}

// LogDensity returns log p(x) for one point x (length d).
func (m Mixture) LogDensity(x []float64) float64 {
	p := m.prepare()
	lc := make([]float64, m.K())
	return p.logComponents(x, lc)
}

// Responsibilities returns the posterior component weights P(k | x) for n
// points x (row-major n×d), as an n×K row-major slice.
func (m Mixture) Responsibilities(x []float64, n int) ([]float64, error) {
	d, K := m.Dim(), m.K()
	if len(x) != n*d {
		return nil, fmt.Errorf("analytic: x has %d values, want n*d = %d*%d", len(x), n, d)
	}
	p := m.prepare()
	out := make([]float64, n*K)
	for i := range n {
		p.logComponents(x[i*d:(i+1)*d], out[i*K:(i+1)*K])
	}
	return out, nil
}

// Score writes ∇ log p(x) for n points (row-major n×d) into out:
// Σ_k P(k|x) · (−(x − μ_k)/σ_k²).
func (m Mixture) Score(x []float64, n int, out []float64) error {
	d, K := m.Dim(), m.K()
	if len(x) != n*d || len(out) != n*d {
		return fmt.Errorf("analytic: score buffers have %d and %d values, want n*d = %d*%d", len(x), len(out), n, d)
	}
	p := m.prepare()
	if K == 1 {
		mu, prec := m.Means[0], p.prec[0]
		for i := range n {
			for j := range d {
				out[i*d+j] = -(x[i*d+j] - mu[j]) * prec[j]
			}
		}
		return nil
	}
	lc := make([]float64, K)
	for i := range n {
		xi, oi := x[i*d:(i+1)*d], out[i*d:(i+1)*d]
		p.logComponents(xi, lc)
		for j := range oi {
			oi[j] = 0
		}
		for k, r := range lc {
			mu, prec := m.Means[k], p.prec[k]
			for j := range d {
				oi[j] -= r * (xi[j] - mu[j]) * prec[j]
			}
		}
	}
	return nil
}

// ScoreFunc returns the exact score ∇ log p_t of the data m under process p as
// a sample.ScoreFunc. It errors for t outside [0, T] or mismatched shapes.
func (m Mixture) ScoreFunc(p sde.Process) sample.ScoreFunc {
	d := m.Dim()
	return func(t float64, x []float64, n, dd int, out []float64) error {
		if dd != d {
			return fmt.Errorf("analytic: score called with d=%d, data have d=%d", dd, d)
		}
		mt, err := m.Marginal(p, t)
		if err != nil {
			return err
		}
		return mt.Score(x, n, out)
	}
}
