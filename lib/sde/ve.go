package sde

import (
	"fmt"
	"math"
)

// VE is the variance-exploding process (theory eqs. 1–6, 35): β = 0, m = 1,
// g²(t) = γ(t) = σ_max^(2t), s²(t) = σ²(t) = (σ_max^(2t) − 1)/(2 ln σ_max).
type VE struct {
	sigmaMax, logSigmaMax, t float64
}

// NewVE returns the VE process; sigmaMax must be > 1 and T > 0 (both finite).
func NewVE(sigmaMax, T float64) (*VE, error) {
	if !(sigmaMax > 1) || math.IsInf(sigmaMax, 0) {
		return nil, fmt.Errorf("sde: sigma_max=%v must be finite and > 1 for the VE process", sigmaMax)
	}
	if err := checkT(T); err != nil {
		return nil, err
	}
	return &VE{sigmaMax: sigmaMax, logSigmaMax: math.Log(sigmaMax), t: T}, nil
}

// SigmaMax returns σ_max.
func (p *VE) SigmaMax() float64 { return p.sigmaMax }

// Name returns "ve".
func (p *VE) Name() string { return "ve" }

// T returns the final time.
func (p *VE) T() float64 { return p.t }

// Mean returns m(t) = 1.
func (p *VE) Mean(float64) float64 { return 1 }

// Std returns s(t) = σ(t) = sqrt((σ_max^(2t) − 1)/(2 ln σ_max)) (theory eqs. 5, 35).
func (p *VE) Std(t float64) float64 {
	// expm1 keeps full relative accuracy for small t.
	return math.Sqrt(math.Expm1(2*t*p.logSigmaMax) / (2 * p.logSigmaMax))
}

// Beta returns 0 (no drift).
func (p *VE) Beta(float64) float64 { return 0 }

// G2 returns g²(t) = γ(t) = σ_max^(2t) (theory eqs. 27, 35).
func (p *VE) G2(t float64) float64 { return math.Exp(2 * t * p.logSigmaMax) }

// PriorStd returns s(T).
func (p *VE) PriorStd() float64 { return p.Std(p.t) }

func checkT(T float64) error {
	if !(T > 0) || math.IsInf(T, 0) {
		return fmt.Errorf("sde: final time T=%v must be finite and > 0", T)
	}
	return nil
}

// CheckTime returns an error if t is NaN or outside [0, p.T()].
func CheckTime(p Process, t float64) error {
	if math.IsNaN(t) || t < 0 || t > p.T() {
		return fmt.Errorf("sde: time t=%v outside [0, %v] for process %s", t, p.T(), p.Name())
	}
	return nil
}
