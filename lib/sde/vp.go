package sde

import (
	"fmt"
	"math"
)

// VP is the variance-preserving process of Song et al. (theory eq. 25, Table 1):
// m = e^(−B/2), s² = 1 − e^(−B), g² = β, with B(t) = ∫₀ᵗ β.
type VP struct {
	beta BetaSchedule
	t    float64
}

// NewVP returns the VP process for a β schedule on [0, T].
func NewVP(beta BetaSchedule, T float64) (*VP, error) {
	if beta == nil {
		return nil, fmt.Errorf("sde: VP process needs a beta schedule")
	}
	if err := checkT(T); err != nil {
		return nil, err
	}
	return &VP{beta: beta, t: T}, nil
}

// Schedule returns the β schedule.
func (p *VP) Schedule() BetaSchedule { return p.beta }

// Name returns "vp".
func (p *VP) Name() string { return "vp" }

// T returns the final time.
func (p *VP) T() float64 { return p.t }

// Mean returns m(t) = e^(−B(t)/2).
func (p *VP) Mean(t float64) float64 { return math.Exp(-0.5 * p.beta.Integral(t)) }

// Std returns s(t) = sqrt(1 − e^(−B(t))).
func (p *VP) Std(t float64) float64 { return math.Sqrt(-math.Expm1(-p.beta.Integral(t))) }

// Beta returns β(t).
func (p *VP) Beta(t float64) float64 { return p.beta.Beta(t) }

// G2 returns g²(t) = β(t) (theory eq. 28).
func (p *VP) G2(t float64) float64 { return p.beta.Beta(t) }

// PriorStd returns 1.
func (p *VP) PriorStd() float64 { return 1 }
