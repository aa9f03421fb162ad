// Package flux builds the boundary-flux inversion data sets of paper Sections
// 6.2–6.3 (theory §6) on top of a physics.SensorModel: Gaussian-process
// prior draws of the 30 wall fluxes, sensor readings with Gaussian noise,
// optional random sensor masks (multiple measurement operators), min–max
// scaling to [−1, 1] fitted on the training split, and .npz/JSON files.
package flux

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pdediff/pdediff/lib/physics"
	"gonum.org/v1/gonum/mat"
)

// N is the number of flux segments and sensors (physics.NumSegments = physics.NumSensors = 30).
const N = physics.NumSegments

// PriorKind selects how the 30 segment fluxes are correlated.
type PriorKind string

// Prior kinds.
const (
	// PriorJoint is one 30-dimensional GP over the 2-D segment centres, so the
	// two walls are correlated (our choice, theory §6.4; default).
	PriorJoint PriorKind = "joint"
	// PriorIndependent is two independent 15-dimensional GPs, one per wall.
	PriorIndependent PriorKind = "independent"
)

// PriorOptions are the parameters of the flux prior (theory eqs. 93–94). Zero fields take
// the defaults: Kind joint, LengthScale 2, Amplitude 1, Shift 2, Jitter 1e-8.
type PriorOptions struct {
	// Kind is PriorJoint (default) or PriorIndependent.
	Kind PriorKind `json:"kind"`
	// LengthScale ℓ of the RBF kernel exp(−d²/(2ℓ²)) (paper: 2).
	LengthScale float64 `json:"length_scale"`
	// Amplitude is the GP standard deviation; the kernel is Amplitude²·exp(−d²/(2ℓ²)) (our choice, theory §6.4: 1).
	Amplitude float64 `json:"amplitude"`
	// Shift is added to every GP draw before clipping negatives to 0 (paper: 2).
	Shift float64 `json:"shift"`
	// Jitter is the initial diagonal jitter, relative to Amplitude², added before
	// the Cholesky factorisation; it is multiplied by 10 until the factorisation
	// succeeds (at most 1e-2). The RBF kernel with ℓ = 2 on a 0.47 spacing is
	// numerically singular, so some jitter is always needed.
	Jitter float64 `json:"jitter"`
}

// DefaultPriorOptions returns the paper's prior: joint GP, ℓ = 2, amplitude 1, shift 2, jitter 1e-8.
func DefaultPriorOptions() PriorOptions {
	return PriorOptions{Kind: PriorJoint, LengthScale: 2, Amplitude: 1, Shift: 2, Jitter: 1e-8}
}

func (o PriorOptions) withDefaults() PriorOptions {
	d := DefaultPriorOptions()
	if o.Kind == "" {
		o.Kind = d.Kind
	}
	if o.LengthScale == 0 {
		o.LengthScale = d.LengthScale
	}
	if o.Amplitude == 0 {
		o.Amplitude = d.Amplitude
	}
	if o.Shift == 0 {
		o.Shift = d.Shift
	}
	if o.Jitter == 0 {
		o.Jitter = d.Jitter
	}
	return o
}

// SegmentCentres returns the 2-D centres of the 30 flux segments in the
// physics ordering: bottom wall (x_k, 0) for k = 1..15 left to right, then top
// wall (x_k, H), with x_k the centre of segment k of 15 equal segments on (0, 7).
func SegmentCentres() (xs, ys []float64) {
	xs = make([]float64, N)
	ys = make([]float64, N)
	w := physics.FluxEnd / physics.SegmentsPerWall
	for k := 0; k < physics.SegmentsPerWall; k++ {
		xk := (float64(k) + 0.5) * w
		xs[k], ys[k] = xk, 0
		xs[k+physics.SegmentsPerWall], ys[k+physics.SegmentsPerWall] = xk, physics.Height
	}
	return xs, ys
}

// Prior is the flux prior: q = max(0, f + Shift), f ~ GP(0, k) at the segment centres.
type Prior struct {
	opts   PriorOptions
	cov    *mat.SymDense
	chol   *mat.TriDense // lower factor L, cov + jitter·I = L Lᵀ
	jitter float64       // absolute jitter actually used
}

// NewPrior validates opts (zero fields take defaults) and factorises the kernel matrix.
func NewPrior(opts PriorOptions) (*Prior, error) {
	o := opts.withDefaults()
	if o.Kind != PriorJoint && o.Kind != PriorIndependent {
		return nil, fmt.Errorf("flux prior: unknown kind %q (want %q or %q)", o.Kind, PriorJoint, PriorIndependent)
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"length scale", o.LengthScale}, {"amplitude", o.Amplitude}, {"jitter", o.Jitter}} {
		if !(p.v > 0) || math.IsInf(p.v, 0) {
			return nil, fmt.Errorf("flux prior: %s %v, want a finite value > 0", p.name, p.v)
		}
	}
	if math.IsNaN(o.Shift) || math.IsInf(o.Shift, 0) {
		return nil, fmt.Errorf("flux prior: shift %v is not finite", o.Shift)
	}
	xs, ys := SegmentCentres()
	cov := mat.NewSymDense(N, nil)
	a2 := o.Amplitude * o.Amplitude
	for i := 0; i < N; i++ {
		for j := i; j < N; j++ {
			if o.Kind == PriorIndependent && (i < physics.SegmentsPerWall) != (j < physics.SegmentsPerWall) {
				continue
			}
			dx, dy := xs[i]-xs[j], ys[i]-ys[j]
			cov.SetSym(i, j, a2*math.Exp(-(dx*dx+dy*dy)/(2*o.LengthScale*o.LengthScale)))
		}
	}
	for rel := o.Jitter; rel <= 1e-2*(1+1e-9); rel *= 10 {
		jit := mat.NewSymDense(N, nil)
		jit.CopySym(cov)
		for i := 0; i < N; i++ {
			jit.SetSym(i, i, jit.At(i, i)+rel*a2)
		}
		var ch mat.Cholesky
		if ch.Factorize(jit) {
			var l mat.TriDense
			ch.LTo(&l)
			return &Prior{opts: o, cov: cov, chol: &l, jitter: rel * a2}, nil
		}
	}
	return nil, fmt.Errorf("flux prior: kernel matrix not positive definite even with jitter 1e-2 (length scale %v)", o.LengthScale)
}

// Options returns the prior's options with defaults filled in.
func (p *Prior) Options() PriorOptions { return p.opts }

// Jitter returns the absolute diagonal jitter used in the Cholesky factorisation.
func (p *Prior) Jitter() float64 { return p.jitter }

// Covariance returns a copy of the kernel matrix k(c_i, c_j) (without jitter).
func (p *Prior) Covariance() *mat.SymDense {
	c := mat.NewSymDense(N, nil)
	c.CopySym(p.cov)
	return c
}

// SampleGP writes one zero-mean GP draw f = L z (z ~ N(0, I)) into out (len 30),
// before shift and clipping.
func (p *Prior) SampleGP(rng *rand.Rand, out []float64) {
	var z [N]float64
	for i := range z {
		z[i] = rng.NormFloat64()
	}
	for i := 0; i < N; i++ {
		s := 0.0
		for j := 0; j <= i; j++ {
			s += p.chol.At(i, j) * z[j]
		}
		out[i] = s
	}
}

// Sample writes one flux draw q = max(0, f + Shift) into out (len 30) (theory eq. 94).
func (p *Prior) Sample(rng *rand.Rand, out []float64) {
	p.SampleGP(rng, out)
	ShiftClip(out, p.opts.Shift)
}

// ShiftClip adds shift to every value and clips negative results to 0, in place.
func ShiftClip(v []float64, shift float64) {
	for i := range v {
		v[i] = math.Max(0, v[i]+shift)
	}
}

// Draws returns n prior draws (row-major n×30) with the given seed; draw i uses
// the same random stream as sample i of Generate.
func (p *Prior) Draws(n int, seed uint64) ([]float64, error) {
	if n <= 0 {
		return nil, fmt.Errorf("flux prior: %d draws, want > 0", n)
	}
	out := make([]float64, n*N)
	for i := 0; i < n; i++ {
		p.Sample(sampleRand(seed, i, streamPrior), out[i*N:(i+1)*N])
	}
	return out, nil
}

// Random streams per sample: each sample has its own PCG stream per purpose, so
// results do not depend on the number of workers.
const (
	streamPrior = 0
	streamNoise = 1
	streamMask  = 2
)

func sampleRand(seed uint64, i, purpose int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(i)<<2|uint64(purpose)))
}
