package sde

import (
	"fmt"
	"math"
)

// Variant names a closed form of the paper's one-parameter VP family (theory §1.3,
// our choice 1 of theory §8.2). Both share m = e^(−B/2) and reduce to Song's VP at κ = 1.
type Variant string

const (
	// VariantPower (default) is the reconstruction of theory eqs. 16–24:
	// ξ = (1 + σ^(2κ))^(−1/(2κ)), so m^(2κ) + s^(2κ) = 1,
	// s = (1 − e^(−κB))^(1/(2κ)), g² = ξ²γ = β·s^(2−2κ).
	VariantPower Variant = "power"
	// VariantAlt is the "alt" variant of theory eq. 26: s² = 1 − m^(2κ) = 1 − e^(−κB),
	// g² = β(1 + (κ − 1)e^(−κB)).
	VariantAlt Variant = "alt"
)

// Variants returns the valid family variants (a fresh slice).
func Variants() []Variant { return []Variant{VariantPower, VariantAlt} }

// Family is the paper's new one-parameter family of VP processes (theory §1.3)
// with parameter κ > 0; κ = 1 is Song et al.'s VP for either variant.
//
// For the power variant with κ > 1 the diffusion coefficient g² = β s^(2−2κ)
// is singular at t = 0 (integrably: ∫ g² = s² + ∫ β s² is finite). G2(0) then
// returns +Inf when β(0) > 0. When β(0) = 0 (linear schedule with
// beta_min = 0) G2(0) returns the right limit for β vanishing linearly:
// 0 for κ < 2, sqrt(β'(0)) for κ = 2 and +Inf for κ > 2. Samplers stop at
// t = eps > 0 and never evaluate G2(0).
type Family struct {
	beta    BetaSchedule
	kappa   float64
	variant Variant
	t       float64
}

// NewFamily returns the VP family member with parameter kappa > 0 and the given
// variant ("" means VariantPower).
func NewFamily(beta BetaSchedule, kappa float64, variant Variant, T float64) (*Family, error) {
	if beta == nil {
		return nil, fmt.Errorf("sde: VP family needs a beta schedule")
	}
	if !(kappa > 0) || math.IsInf(kappa, 0) {
		return nil, fmt.Errorf("sde: kappa=%v must be finite and > 0", kappa)
	}
	if variant == "" {
		variant = VariantPower
	}
	if variant != VariantPower && variant != VariantAlt {
		return nil, fmt.Errorf("sde: unknown VP-family variant %q (want %q or %q)", variant, VariantPower, VariantAlt)
	}
	if err := checkT(T); err != nil {
		return nil, err
	}
	return &Family{beta: beta, kappa: kappa, variant: variant, t: T}, nil
}

// Kappa returns κ.
func (p *Family) Kappa() float64 { return p.kappa }

// Variant returns the closed form in use.
func (p *Family) Variant() Variant { return p.variant }

// Schedule returns the β schedule.
func (p *Family) Schedule() BetaSchedule { return p.beta }

// Name returns "vpfamily".
func (p *Family) Name() string { return "vpfamily" }

// T returns the final time.
func (p *Family) T() float64 { return p.t }

// Mean returns m(t) = e^(−B(t)/2) (theory eq. 21).
func (p *Family) Mean(t float64) float64 { return math.Exp(-0.5 * p.beta.Integral(t)) }

// oneMinus returns 1 − e^(−κB(t)) without cancellation.
func (p *Family) oneMinus(t float64) float64 { return -math.Expm1(-p.kappa * p.beta.Integral(t)) }

// Std returns s(t): (1 − e^(−κB))^(1/(2κ)) for the power variant (theory eq. 22),
// (1 − e^(−κB))^(1/2) for the alt variant.
func (p *Family) Std(t float64) float64 {
	if p.variant == VariantAlt {
		return math.Sqrt(p.oneMinus(t))
	}
	return math.Pow(p.oneMinus(t), 1/(2*p.kappa))
}

// Beta returns β(t).
func (p *Family) Beta(t float64) float64 { return p.beta.Beta(t) }

// G2 returns g²(t): β(1 − e^(−κB))^((1−κ)/κ) for the power variant (theory
// eq. 23), β(1 + (κ − 1)e^(−κB)) for the alt variant (theory eq. 26). Both satisfy the variance
// ODE d(s²)/dt = −β s² + g². See the type's doc for t = 0 with κ > 1.
func (p *Family) G2(t float64) float64 {
	b := p.beta.Beta(t)
	if p.variant == VariantAlt {
		return b * (1 + (p.kappa-1)*math.Exp(-p.kappa*p.beta.Integral(t)))
	}
	if p.kappa == 1 {
		return b
	}
	u := p.oneMinus(t)
	if u > 0 {
		return b * math.Pow(u, (1-p.kappa)/p.kappa)
	}
	// u == 0: only at t = 0 (or a schedule with B = 0 on an interval).
	if p.kappa < 1 {
		return 0
	}
	if b > 0 {
		return math.Inf(1)
	}
	// β(0) = 0: β ≈ a t, κB ≈ κ a t²/2, g² ≈ a t (κ a t²/2)^((1−κ)/κ) ∝ t^((2−κ)/κ).
	switch {
	case p.kappa < 2:
		return 0
	case p.kappa == 2:
		d := 1e-6 * p.t
		a := p.beta.Beta(d) / d
		return math.Sqrt(a)
	default:
		return math.Inf(1)
	}
}

// PriorStd returns 1 (s(t) → 1 as B → ∞ for every κ, theory eq. 10).
func (p *Family) PriorStd() float64 { return 1 }
