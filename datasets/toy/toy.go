// Package toy generates the three scalar joint densities p(x, y) of the
// conditional density estimation benchmark (paper Section 6.1, theory §5,
// theory eqs. 72, 74, 76): x is the inferred scalar, y the conditioning scalar.
//
// Besides seeded joint samplers it provides the paper's reference conditional
// (reference-set samples whose y' lies in a band around y) and, beyond the
// paper, exact conditional samplers (Tanh, Bimodal) and exact conditional and
// joint densities (Tanh and Bimodal in closed form, Spiral by quadrature) for
// plots and tests.
package toy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/pdediff/pdediff/lib/arrayio"
)

// Case names one of the three joint densities.
type Case string

// The three benchmark cases (theory eqs. 72, 74, 76).
const (
	// Tanh: y ~ U(−3,3), x = tanh(y) + γ, γ ~ Gamma(shape 1, scale 0.3) (theory eq. 72).
	Tanh Case = "tanh"
	// Bimodal: y ~ N(0,1), x = cbrt(y + w), w ~ N(0,1) (theory eq. 74).
	Bimodal Case = "bimodal"
	// Spiral: u ~ U(0,1), ϑ = (3π/2)(1+2u), x = 0.1ϑ sin ϑ + 0.1e₁,
	// y = 0.1ϑ cos ϑ + 0.1e₂ (theory eq. 76).
	Spiral Case = "spiral"
)

// Constants of the generators (theory §5.2).
const (
	// TanhYMax is the half-width of the uniform y distribution of Tanh.
	TanhYMax = 3.0
	// TanhGammaScale is the scale (= mean) of the Gamma(1, ·) noise of Tanh.
	TanhGammaScale = 0.3
	// SpiralNoise is the standard deviation of the Gaussian noise of Spiral.
	SpiralNoise = 0.1
	// SpiralRadius is the factor r in (rϑ sin ϑ, rϑ cos ϑ) of Spiral.
	SpiralRadius = 0.1
	// DefaultBandHalfWidth is the half-width of the reference band |y' − y| ≤ 0.05 (theory eq. 78).
	DefaultBandHalfWidth = 0.05
	// DefaultReferenceSize is the size of the joint reference set (theory §5.3: 100,000).
	DefaultReferenceSize = 100000
)

// SpiralThetaMin and SpiralThetaMax bound the spiral angle ϑ = (3π/2)(1+2u).
const (
	SpiralThetaMin = 1.5 * math.Pi
	SpiralThetaMax = 4.5 * math.Pi
)

// Cases lists all cases in the paper's order.
func Cases() []Case { return []Case{Tanh, Bimodal, Spiral} }

// ParseCase returns the case named s (case-insensitive).
func ParseCase(s string) (Case, error) {
	c := Case(strings.ToLower(strings.TrimSpace(s)))
	switch c {
	case Tanh, Bimodal, Spiral:
		return c, nil
	}
	return "", fmt.Errorf("unknown toy case %q (want tanh, bimodal or spiral)", s)
}

// DefaultYValues returns the four conditioning values used for the case
// (our choice, theory §5.3; the paper's values are lost): Tanh {−2,−1,1,2},
// Bimodal {−1,−0.5,0.5,1}, Spiral {−0.8,−0.4,0.4,0.8}.
func DefaultYValues(c Case) ([]float64, error) {
	switch c {
	case Tanh:
		return []float64{-2, -1, 1, 2}, nil
	case Bimodal:
		return []float64{-1, -0.5, 0.5, 1}, nil
	case Spiral:
		return []float64{-0.8, -0.4, 0.4, 0.8}, nil
	}
	return nil, fmt.Errorf("unknown toy case %q", string(c))
}

// NewRand returns the package's seeded generator: PCG with state (seed, stream).
// Different streams give independent sequences for the same seed.
func NewRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream^0x9e3779b97f4a7c15))
}

// Streams used by this package so that joint, reference and exact samples with
// the same seed are independent of one another.
const (
	streamJoint     = 1
	streamReference = 2
	streamExact     = 3
)

// SampleBytes is the memory (bytes) of n joint samples, 16·n; Sample,
// Reference and ExactConditional refuse sizes that do not fit the memory
// available (arrayio.CheckMemory) instead of crashing the runtime.
func SampleBytes(n int) float64 { return 16 * float64(n) }

// ReferenceBytes is the peak memory (bytes) of Reference with a reference set
// of size joint samples: the set plus one band.
func ReferenceBytes(size int) float64 { return 24 * float64(size) }

// Sample draws n joint samples (x[i], y[i]) of case c with the given seed.
// The same (c, n, seed) always gives the same arrays, and a longer draw starts
// with the shorter one.
func Sample(c Case, n int, seed uint64) (x, y []float64, err error) {
	return sampleStream(c, n, seed, streamJoint)
}

func sampleStream(c Case, n int, seed, stream uint64) (x, y []float64, err error) {
	if _, err := ParseCase(string(c)); err != nil {
		return nil, nil, err
	}
	if n <= 0 {
		return nil, nil, fmt.Errorf("toy %s: sample size %d, want > 0", c, n)
	}
	if err := arrayio.CheckMemory(fmt.Sprintf("toy %s: %d joint samples", c, n), SampleBytes(n), "use fewer samples"); err != nil {
		return nil, nil, err
	}
	rng := NewRand(seed, stream)
	x = make([]float64, n)
	y = make([]float64, n)
	for i := range x {
		x[i], y[i] = draw(c, rng)
	}
	return x, y, nil
}

// draw returns one joint sample (x, y) of case c.
func draw(c Case, rng *rand.Rand) (float64, float64) {
	switch c {
	case Tanh: // theory eq. 72
		y := -TanhYMax + 2*TanhYMax*rng.Float64()
		return math.Tanh(y) + TanhGammaScale*rng.ExpFloat64(), y
	case Bimodal: // theory eq. 74
		y := rng.NormFloat64()
		return math.Cbrt(y + rng.NormFloat64()), y
	default: // Spiral, theory eq. 76
		th := SpiralThetaMin + (SpiralThetaMax-SpiralThetaMin)*rng.Float64()
		x := SpiralRadius*th*math.Sin(th) + SpiralNoise*rng.NormFloat64()
		y := SpiralRadius*th*math.Cos(th) + SpiralNoise*rng.NormFloat64()
		return x, y
	}
}

// Band returns the x[i] whose y[i] satisfies |y[i] − y0| ≤ halfWidth, in order
// (the paper's reference conditional, theory eq. 78).
func Band(x, y []float64, y0, halfWidth float64) ([]float64, error) {
	if len(x) != len(y) {
		return nil, fmt.Errorf("band: len(x) = %d but len(y) = %d", len(x), len(y))
	}
	if !finite(y0) {
		return nil, fmt.Errorf("band: conditioning value y0 = %v is not finite", y0)
	}
	if !(halfWidth > 0) || math.IsInf(halfWidth, 0) {
		return nil, fmt.Errorf("band: half-width %v, want a finite value > 0", halfWidth)
	}
	var out []float64
	for i, yi := range y {
		if math.Abs(yi-y0) <= halfWidth {
			out = append(out, x[i])
		}
	}
	return out, nil
}

// ReferenceOptions configures the reference band conditional.
type ReferenceOptions struct {
	// Size is the number of joint samples in the reference set (default 100,000).
	Size int
	// HalfWidth is the band half-width (default 0.05).
	HalfWidth float64
}

func (o ReferenceOptions) withDefaults() ReferenceOptions {
	if o.Size == 0 {
		o.Size = DefaultReferenceSize
	}
	if o.HalfWidth == 0 {
		o.HalfWidth = DefaultBandHalfWidth
	}
	return o
}

// Reference returns the paper's reference conditional samples for each value in
// ys: a reference set of opts.Size joint samples (its own random stream, so it
// is independent of Sample with the same seed) filtered to |y' − y| ≤ HalfWidth.
func Reference(c Case, ys []float64, opts ReferenceOptions, seed uint64) ([][]float64, error) {
	opts = opts.withDefaults()
	if opts.Size < 0 {
		return nil, fmt.Errorf("reference: size %d, want > 0", opts.Size)
	}
	x, y, err := sampleStream(c, opts.Size, seed, streamReference)
	if err != nil {
		return nil, err
	}
	out := make([][]float64, len(ys))
	for i, y0 := range ys {
		if out[i], err = Band(x, y, y0, opts.HalfWidth); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// HasExactSampler reports whether ExactConditional supports c (Tanh, Bimodal).
func HasExactSampler(c Case) bool { return c == Tanh || c == Bimodal }

// ExactConditional draws n samples from the true conditional p(x | y = y0):
// Tanh: tanh(y0) + Exp(mean 0.3); Bimodal: cbrt(y0 + w), w ~ N(0,1).
// Spiral has no direct sampler (use Reference or ConditionalDensity).
func ExactConditional(c Case, y0 float64, n int, seed uint64) ([]float64, error) {
	if _, err := ParseCase(string(c)); err != nil {
		return nil, err
	}
	if !HasExactSampler(c) {
		return nil, fmt.Errorf("toy %s: no exact conditional sampler (use the reference band)", c)
	}
	if !finite(y0) {
		return nil, fmt.Errorf("toy %s: conditioning value %v is not finite", c, y0)
	}
	if n <= 0 {
		return nil, fmt.Errorf("toy %s: sample size %d, want > 0", c, n)
	}
	if err := arrayio.CheckMemory(fmt.Sprintf("toy %s: %d exact conditional samples", c, n), 8*float64(n), "use fewer samples"); err != nil {
		return nil, err
	}
	rng := NewRand(seed, streamExact)
	out := make([]float64, n)
	for i := range out {
		if c == Tanh {
			out[i] = math.Tanh(y0) + TanhGammaScale*rng.ExpFloat64()
		} else {
			out[i] = math.Cbrt(y0 + rng.NormFloat64())
		}
	}
	return out, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func normPDF(z float64) float64 { return math.Exp(-0.5*z*z) / math.Sqrt(2*math.Pi) }

// spiralNodes is the number of midpoint-rule nodes in u ∈ (0,1) used for the
// spiral densities; the curve's arc length is ≈13, so the spacing (≈0.0065) is
// far below the noise width 0.1.
const spiralNodes = 2000

// JointDensity returns p(x, y) of case c: Tanh (1/6)·(1/0.3)e^{−(x−tanh y)/0.3}
// on |y| < 3, x ≥ tanh y; Bimodal φ(y)·3x²φ(x³ − y); Spiral the Gaussian-blurred
// curve ∫₀¹ N(x; 0.1ϑ sin ϑ, 0.01) N(y; 0.1ϑ cos ϑ, 0.01) du by the midpoint rule.
func JointDensity(c Case, x, y float64) (float64, error) {
	if !finite(x) || !finite(y) {
		return 0, fmt.Errorf("toy %s: density at non-finite point (%v, %v)", c, x, y)
	}
	switch c {
	case Tanh:
		if math.Abs(y) > TanhYMax {
			return 0, nil
		}
		return tanhConditional(x, y) / (2 * TanhYMax), nil
	case Bimodal:
		return normPDF(y) * 3 * x * x * normPDF(x*x*x-y), nil
	case Spiral:
		s := 0.0
		for k := 0; k < spiralNodes; k++ {
			th := SpiralThetaMin + (SpiralThetaMax-SpiralThetaMin)*(float64(k)+0.5)/spiralNodes
			s += normPDF((x-SpiralRadius*th*math.Sin(th))/SpiralNoise) * normPDF((y-SpiralRadius*th*math.Cos(th))/SpiralNoise)
		}
		return s / spiralNodes / (SpiralNoise * SpiralNoise), nil
	}
	return 0, fmt.Errorf("unknown toy case %q", string(c))
}

func tanhConditional(x, y float64) float64 {
	g := x - math.Tanh(y)
	if g < 0 {
		return 0
	}
	return math.Exp(-g/TanhGammaScale) / TanhGammaScale
}

// MarginalY returns p(y): 1/6 on [−3, 3] (Tanh), φ(y) (Bimodal), and the
// quadrature ∫₀¹ N(y; 0.1ϑ cos ϑ, 0.01) du (Spiral).
func MarginalY(c Case, y float64) (float64, error) {
	if !finite(y) {
		return 0, fmt.Errorf("toy %s: marginal at non-finite y = %v", c, y)
	}
	switch c {
	case Tanh:
		if math.Abs(y) > TanhYMax {
			return 0, nil
		}
		return 1 / (2 * TanhYMax), nil
	case Bimodal:
		return normPDF(y), nil
	case Spiral:
		s := 0.0
		for k := 0; k < spiralNodes; k++ {
			th := SpiralThetaMin + (SpiralThetaMax-SpiralThetaMin)*(float64(k)+0.5)/spiralNodes
			s += normPDF((y - SpiralRadius*th*math.Cos(th)) / SpiralNoise)
		}
		return s / spiralNodes / SpiralNoise, nil
	}
	return 0, fmt.Errorf("unknown toy case %q", string(c))
}

// ConditionalDensity returns p(x | y) = p(x, y) / p(y): Tanh a shifted
// exponential, Bimodal 3x²φ(x³ − y), Spiral by quadrature. It is an error to
// condition on a y of zero marginal density (e.g. |y| > 3 for Tanh).
func ConditionalDensity(c Case, x, y float64) (float64, error) {
	switch c {
	case Tanh:
		if !finite(x) || !finite(y) {
			return 0, fmt.Errorf("toy %s: density at non-finite point (%v, %v)", c, x, y)
		}
		if math.Abs(y) > TanhYMax {
			return 0, fmt.Errorf("toy tanh: y = %v outside the support [−3, 3]", y)
		}
		return tanhConditional(x, y), nil
	case Bimodal:
		if !finite(x) || !finite(y) {
			return 0, fmt.Errorf("toy %s: density at non-finite point (%v, %v)", c, x, y)
		}
		return 3 * x * x * normPDF(x*x*x-y), nil
	}
	j, err := JointDensity(c, x, y)
	if err != nil {
		return 0, err
	}
	m, err := MarginalY(c, y)
	if err != nil {
		return 0, err
	}
	if m <= 0 {
		return 0, fmt.Errorf("toy %s: p(y = %v) underflows to 0", c, y)
	}
	return j / m, nil
}
