package sde

import (
	"fmt"
	"math"
)

// BetaSchedule is the user-chosen drift function β(t) of the VP-type processes
// (theory §1.4–§1.5 and Table 1) together with its integral B(t) = ∫₀ᵗ β(t') dt' in closed
// form.
type BetaSchedule interface {
	// Beta returns β(t).
	Beta(t float64) float64
	// Integral returns B(t) = ∫₀ᵗ β(t') dt'.
	Integral(t float64) float64
	// String describes the schedule, e.g. "linear(0.001,15)".
	String() string
}

// LinearBeta is β(t) = Min + t·(Max − Min) (theory eq. 36; Song et al. VP schedule
// with T = 1).
type LinearBeta struct {
	Min, Max float64
}

// NewLinearBeta validates 0 ≤ min ≤ max (finite) and returns the schedule.
func NewLinearBeta(min, max float64) (LinearBeta, error) {
	switch {
	case math.IsNaN(min) || math.IsInf(min, 0) || math.IsNaN(max) || math.IsInf(max, 0):
		return LinearBeta{}, fmt.Errorf("sde: beta_min=%v and beta_max=%v must be finite", min, max)
	case min < 0:
		return LinearBeta{}, fmt.Errorf("sde: beta_min=%v must be >= 0", min)
	case max < min:
		return LinearBeta{}, fmt.Errorf("sde: beta_max=%v must be >= beta_min=%v", max, min)
	case max == 0:
		return LinearBeta{}, fmt.Errorf("sde: beta_max must be > 0 (beta identically zero gives no diffusion)")
	}
	return LinearBeta{Min: min, Max: max}, nil
}

// Beta returns Min + t(Max − Min).
func (b LinearBeta) Beta(t float64) float64 { return b.Min + t*(b.Max-b.Min) }

// Integral returns B(t) = Min·t + (Max − Min)t²/2 (theory eq. 36).
func (b LinearBeta) Integral(t float64) float64 { return b.Min*t + 0.5*(b.Max-b.Min)*t*t }

// String describes the schedule.
func (b LinearBeta) String() string { return fmt.Sprintf("linear(%g,%g)", b.Min, b.Max) }

// ConstantBeta is β(t) = Value, used for Figure 1 (theory §1.3, β̄ = 1).
type ConstantBeta struct {
	Value float64
}

// NewConstantBeta validates value > 0 (finite) and returns the schedule.
func NewConstantBeta(value float64) (ConstantBeta, error) {
	if !(value > 0) || math.IsInf(value, 0) {
		return ConstantBeta{}, fmt.Errorf("sde: constant beta=%v must be finite and > 0", value)
	}
	return ConstantBeta{Value: value}, nil
}

// Beta returns the constant.
func (b ConstantBeta) Beta(float64) float64 { return b.Value }

// Integral returns Value·t.
func (b ConstantBeta) Integral(t float64) float64 { return b.Value * t }

// String describes the schedule.
func (b ConstantBeta) String() string { return fmt.Sprintf("constant(%g)", b.Value) }
