package posterior

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Gaussian is a multivariate normal N(Mean, Cov) on R^d.
type Gaussian struct {
	// Mean μ, length d.
	Mean []float64
	// Cov is the d×d covariance C (symmetric positive semi-definite).
	Cov mat.Symmetric
}

// Linear is the measurement model y = G q + ε with independent Gaussian noise
// ε_i ~ N(0, σ_i²) on the sensors that are on.
type Linear struct {
	// G is the m×d forward matrix (sensors × unknowns). A row-major slice g
	// can be wrapped with mat.NewDense(m, d, g).
	G mat.Matrix
	// NoiseStd holds σ: one value shared by all sensors, or one per sensor
	// (length m). Every σ must be ≥ 0; σ = 0 is a noise-free sensor.
	NoiseStd []float64
	// Mask, if non-nil (length m), marks the sensors that are on; off sensors
	// are dropped from the likelihood. nil means all sensors are on.
	Mask []bool
	// MaxJitter is the largest diagonal jitter, relative to the mean diagonal
	// of K = G_on C G_onᵀ + diag(σ²), tried (1e-14, 1e-13, …) when the
	// Cholesky factorisation of K fails. 0 means 1e-8 when every on-sensor has
	// σ > 0 (K is then positive definite and only rounding can break it) and no
	// jitter at all otherwise, so that a noise-free problem with a singular K
	// is an error rather than a silently regularised answer.
	MaxJitter float64
}

// Jitter ladders: relative start values and the default ceiling.
const (
	jitterStart        = 1e-14
	defaultMaxJitter   = 1e-8
	drawJitterMaxRel   = 1e-8
	drawJitterStartRel = 1e-15
	// minPivotRatio is the smallest L_ii²/K_ii accepted in the factor of K
	// (≈ 500 machine epsilons): below it K counts as singular.
	minPivotRatio = 1e-13
)

// LinearGaussian is the exact posterior of a linear-Gaussian problem, for any
// readings y: q | y ~ N(m(y), S) with, over the on-sensors,
//
//	K = G_on C G_onᵀ + diag(σ²) = L Lᵀ,  A = L⁻¹ G_on C,
//	m(y) = μ + Aᵀ L⁻¹ (y_on − G_on μ),   S = C − Aᵀ A,
//
// which equals the textbook μ + C G_onᵀ K⁻¹ (y_on − G_on μ) and
// C − C G_onᵀ K⁻¹ G_on C but never forms K⁻¹. S is computed on one triangle
// and mirrored, so it is exactly symmetric. With every sensor off the posterior
// is the prior. A LinearGaussian is immutable and safe for concurrent use.
type LinearGaussian struct {
	d, m  int
	on    []int     // indices of the on-sensors
	sigma []float64 // σ of each on-sensor
	mu    []float64
	g     []float64 // G_on, row-major len(on)×d
	lk    []float64 // lower Cholesky factor of K, len(on)×len(on)
	a     []float64 // A = L⁻¹ G_on C, row-major len(on)×d
	cov   *mat.SymDense
	std   []float64
	lpost []float64 // lower Cholesky factor of S + drawJitter·I, d×d

	kJitter, drawJitter float64
	drawErr             error
}

// NewLinearGaussian validates the prior and the model and computes the
// posterior covariance and the factors needed for the mean and for draws.
//
// Errors: empty or mismatched shapes, non-finite entries of μ, C or G, a noise
// std that is negative or not finite, a NoiseStd of length other than 1 or m, a
// Mask of length other than m, and a K that cannot be factorised (possible
// only with noise-free sensors, or with MaxJitter too small). When the
// posterior covariance is too degenerate for a Cholesky factor even with a
// relative jitter of 1e-8 (e.g. noise-free sensors that determine q), the
// mean and covariance are still returned and only Draw/Draws/ESS fail.
func NewLinearGaussian(prior Gaussian, lin Linear) (*LinearGaussian, error) {
	d := len(prior.Mean)
	if d == 0 {
		return nil, fmt.Errorf("posterior: prior mean is empty")
	}
	if err := checkFinite("prior mean", prior.Mean); err != nil {
		return nil, err
	}
	if prior.Cov == nil {
		return nil, fmt.Errorf("posterior: prior covariance is nil")
	}
	if n := prior.Cov.SymmetricDim(); n != d {
		return nil, fmt.Errorf("posterior: prior covariance is %d×%d, prior mean has length %d", n, n, d)
	}
	cov := mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			v := prior.Cov.At(i, j)
			if !finite(v) {
				return nil, fmt.Errorf("posterior: prior covariance[%d,%d] = %v is not finite", i, j, v)
			}
			cov.SetSym(i, j, v)
		}
		if cov.At(i, i) < 0 {
			return nil, fmt.Errorf("posterior: prior variance[%d] = %v is negative", i, cov.At(i, i))
		}
	}
	if lin.G == nil {
		return nil, fmt.Errorf("posterior: forward matrix G is nil")
	}
	m, gd := lin.G.Dims()
	if m == 0 || gd != d {
		return nil, fmt.Errorf("posterior: G is %d×%d, want m×%d with m ≥ 1 (prior dimension %d)", m, gd, d, d)
	}
	for i := 0; i < m; i++ {
		for j := 0; j < d; j++ {
			if v := lin.G.At(i, j); !finite(v) {
				return nil, fmt.Errorf("posterior: G[%d,%d] = %v is not finite", i, j, v)
			}
		}
	}
	if len(lin.NoiseStd) != 1 && len(lin.NoiseStd) != m {
		return nil, fmt.Errorf("posterior: %d noise stds, want 1 or %d (one per sensor)", len(lin.NoiseStd), m)
	}
	for i, s := range lin.NoiseStd {
		if !(s >= 0) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("posterior: noise std[%d] = %v, want a finite value ≥ 0", i, s)
		}
	}
	if lin.Mask != nil && len(lin.Mask) != m {
		return nil, fmt.Errorf("posterior: mask has %d entries, want %d (one per sensor)", len(lin.Mask), m)
	}
	if !(lin.MaxJitter >= 0) || math.IsInf(lin.MaxJitter, 0) {
		return nil, fmt.Errorf("posterior: max jitter %v, want a finite value ≥ 0", lin.MaxJitter)
	}

	p := &LinearGaussian{d: d, m: m, mu: append([]float64(nil), prior.Mean...)}
	allNoisy := true
	for i := 0; i < m; i++ {
		if lin.Mask != nil && !lin.Mask[i] {
			continue
		}
		s := lin.NoiseStd[0]
		if len(lin.NoiseStd) == m {
			s = lin.NoiseStd[i]
		}
		allNoisy = allNoisy && s > 0
		p.on = append(p.on, i)
		p.sigma = append(p.sigma, s)
	}
	n := len(p.on)
	p.g = make([]float64, n*d)
	for r, i := range p.on {
		for j := 0; j < d; j++ {
			p.g[r*d+j] = lin.G.At(i, j)
		}
	}
	// GC = G_on C (n×d).
	gc := make([]float64, n*d)
	for r := 0; r < n; r++ {
		for j := 0; j < d; j++ {
			s := 0.0
			for k := 0; k < d; k++ {
				s += p.g[r*d+k] * cov.At(k, j)
			}
			gc[r*d+j] = s
		}
	}
	p.a = gc
	if n > 0 {
		k := mat.NewSymDense(n, nil)
		for r := 0; r < n; r++ {
			for c := r; c < n; c++ {
				s := 0.0
				for j := 0; j < d; j++ {
					s += gc[r*d+j] * p.g[c*d+j]
				}
				if r == c {
					s += p.sigma[r] * p.sigma[r]
				}
				k.SetSym(r, c, s)
			}
		}
		maxRel := lin.MaxJitter
		if maxRel == 0 && allNoisy {
			maxRel = defaultMaxJitter
		}
		lk, jit, ok := cholJitter(k, meanDiag(k), jitterStart, maxRel, minPivotRatio)
		if !ok {
			if !allNoisy && lin.MaxJitter == 0 {
				return nil, fmt.Errorf("posterior: K = G C Gᵀ + σ²I over the %d on-sensors is singular and some sensors are noise-free (σ = 0): use σ > 0 or set Linear.MaxJitter", n)
			}
			return nil, fmt.Errorf("posterior: K = G C Gᵀ + σ²I over the %d on-sensors is not positive definite even with relative jitter %g", n, maxRel)
		}
		p.lk, p.kJitter = lk, jit
		// A = L⁻¹ GC, column by column of GC.
		col := make([]float64, n)
		for j := 0; j < d; j++ {
			for r := 0; r < n; r++ {
				col[r] = gc[r*d+j]
			}
			forwardSolve(lk, n, col)
			for r := 0; r < n; r++ {
				p.a[r*d+j] = col[r]
			}
		}
	}
	// S = C − Aᵀ A on the upper triangle, mirrored by SymDense.
	p.cov = mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			s := cov.At(i, j)
			for r := 0; r < n; r++ {
				s -= p.a[r*d+i] * p.a[r*d+j]
			}
			p.cov.SetSym(i, j, s)
		}
	}
	p.std = make([]float64, d)
	for i := range p.std {
		p.std[i] = math.Sqrt(math.Max(0, p.cov.At(i, i)))
	}
	scale := meanDiag(cov)
	if lp, jit, ok := cholJitter(p.cov, scale, drawJitterStartRel, drawJitterMaxRel, 0); ok {
		p.lpost, p.drawJitter = lp, jit
	} else {
		p.drawErr = fmt.Errorf("posterior: the posterior covariance is not positive definite even with jitter %g·(mean prior variance); draws are unavailable", drawJitterMaxRel)
	}
	return p, nil
}

// Dim returns d, the number of unknowns.
func (p *LinearGaussian) Dim() int { return p.d }

// NumSensors returns m, the number of sensors (rows of G), on or off.
func (p *LinearGaussian) NumSensors() int { return p.m }

// On returns the indices of the sensors that are on.
func (p *LinearGaussian) On() []int { return append([]int(nil), p.on...) }

// KJitter returns the absolute diagonal jitter that was added to K before its
// Cholesky factorisation (0 when none was needed).
func (p *LinearGaussian) KJitter() float64 { return p.kJitter }

// DrawJitter returns the absolute diagonal jitter added to the posterior
// covariance for the Cholesky factor used by the draws (0 when none was needed).
func (p *LinearGaussian) DrawJitter() float64 { return p.drawJitter }

// Cov returns a copy of the posterior covariance S (it does not depend on y).
func (p *LinearGaussian) Cov() *mat.SymDense {
	c := mat.NewSymDense(p.d, nil)
	c.CopySym(p.cov)
	return c
}

// Std returns a copy of the marginal posterior standard deviations sqrt(S_ii)
// (negative rounding residues are clamped to 0).
func (p *LinearGaussian) Std() []float64 { return append([]float64(nil), p.std...) }

// checkReadings validates y (length m; the on-sensor entries must be finite,
// off-sensor entries are ignored and may hold anything).
func (p *LinearGaussian) checkReadings(y []float64) error {
	if len(y) != p.m {
		return fmt.Errorf("posterior: %d readings, want %d (one per sensor, off sensors included)", len(y), p.m)
	}
	for _, i := range p.on {
		if !finite(y[i]) {
			return fmt.Errorf("posterior: reading[%d] = %v is not finite", i, y[i])
		}
	}
	return nil
}

// Mean returns the posterior mean m(y) = μ + Aᵀ L⁻¹ (y_on − G_on μ). y has one
// entry per sensor (length m); entries of off sensors are ignored.
func (p *LinearGaussian) Mean(y []float64) ([]float64, error) {
	if err := p.checkReadings(y); err != nil {
		return nil, err
	}
	n, d := len(p.on), p.d
	z := make([]float64, n)
	for r, i := range p.on {
		s := y[i]
		for j := 0; j < d; j++ {
			s -= p.g[r*d+j] * p.mu[j]
		}
		z[r] = s
	}
	if n > 0 {
		forwardSolve(p.lk, n, z)
	}
	out := append([]float64(nil), p.mu...)
	for r := 0; r < n; r++ {
		if z[r] == 0 {
			continue
		}
		for j := 0; j < d; j++ {
			out[j] += p.a[r*d+j] * z[r]
		}
	}
	return out, nil
}

// Draw writes one draw mean + L_S z, z ~ N(0, I), into out (length d), where
// L_S is the Cholesky factor of the posterior covariance (plus DrawJitter)
// and mean is typically Mean(y). It fails only when the covariance has no
// Cholesky factor (see NewLinearGaussian) or on a length mismatch.
func (p *LinearGaussian) Draw(mean []float64, rng *rand.Rand, out []float64) error {
	if p.drawErr != nil {
		return p.drawErr
	}
	if len(mean) != p.d || len(out) != p.d {
		return fmt.Errorf("posterior: draw with mean of length %d and output of length %d, want %d", len(mean), len(out), p.d)
	}
	z := make([]float64, p.d)
	p.draw(mean, 1, rng, z, out)
	return nil
}

// draw writes mean + scale·L_S z into out, using z as scratch.
func (p *LinearGaussian) draw(mean []float64, scale float64, rng *rand.Rand, z, out []float64) {
	for i := range z {
		z[i] = rng.NormFloat64()
	}
	lowerMulVec(p.lpost, p.d, z, out)
	for i := range out {
		out[i] = mean[i] + scale*out[i]
	}
}

// Draws returns n posterior draws given readings y, row-major n×d, from a PCG
// generator (math/rand/v2) seeded with seed: the same seed gives the same draws.
func (p *LinearGaussian) Draws(y []float64, n int, seed uint64) ([]float64, error) {
	if n <= 0 {
		return nil, fmt.Errorf("posterior: %d draws, want ≥ 1", n)
	}
	if p.drawErr != nil {
		return nil, p.drawErr
	}
	mean, err := p.Mean(y)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, streamDraws))
	out := make([]float64, n*p.d)
	z := make([]float64, p.d)
	for k := 0; k < n; k++ {
		p.draw(mean, 1, rng, z, out[k*p.d:(k+1)*p.d])
	}
	return out, nil
}

// LogLikelihood returns the Gaussian log-likelihood of q given y over the
// on-sensors, −½ Σ_on ((y_i − (G q)_i)/σ_i)², without its normalising
// constant. It needs σ > 0 on every on-sensor; the returned function is safe
// for concurrent use and panics if q does not have length d.
func (p *LinearGaussian) LogLikelihood(y []float64) (func(q []float64) float64, error) {
	if err := p.checkReadings(y); err != nil {
		return nil, err
	}
	for r, s := range p.sigma {
		if !(s > 0) {
			return nil, fmt.Errorf("posterior: sensor %d is noise-free (σ = 0): the Gaussian log-likelihood is undefined", p.on[r])
		}
	}
	n, d := len(p.on), p.d
	yon := make([]float64, n)
	inv := make([]float64, n)
	for r, i := range p.on {
		yon[r] = y[i]
		inv[r] = 1 / p.sigma[r]
	}
	g := p.g
	return func(q []float64) float64 {
		if len(q) != d {
			panic(fmt.Sprintf("posterior: log-likelihood of a vector of length %d, want %d", len(q), d))
		}
		s := 0.0
		for r := 0; r < n; r++ {
			row := g[r*d : (r+1)*d]
			v := yon[r]
			for j, gj := range row {
				v -= gj * q[j]
			}
			v *= inv[r]
			s += v * v
		}
		return -0.5 * s
	}, nil
}

// Random stream identifiers for the PCG generators.
const (
	streamDraws = 0x64726177 // "draw"
	streamChain = 0x65737300 // "ess\0" + chain index
)
