package sde

import (
	"fmt"
	"math"
)

// Transition returns the exact Markov transition of the forward process from
// t1 to t2 ≥ t1: x_{t2} | x_{t1} ~ N(ratio·x_{t1}, std²) with
// ratio = m(t2)/m(t1) and std² = s²(t2) − ratio²·s²(t1). Composing it with the
// kernel at t1 reproduces the kernel N(m(t2) x0, s²(t2)) of theory eq. 29 (the transition is theory eq. 33); it is
// used to draw forward sample paths without discretisation error.
func Transition(p Process, t1, t2 float64) (ratio, std float64, err error) {
	if err := CheckTime(p, t1); err != nil {
		return 0, 0, err
	}
	if err := CheckTime(p, t2); err != nil {
		return 0, 0, err
	}
	if t2 < t1 {
		return 0, 0, fmt.Errorf("sde: transition needs t2=%v >= t1=%v", t2, t1)
	}
	ratio = p.Mean(t2) / p.Mean(t1)
	s1, s2 := p.Std(t1), p.Std(t2)
	v := s2*s2 - ratio*ratio*s1*s1
	if v < 0 { // rounding when t2 ≈ t1
		v = 0
	}
	return ratio, math.Sqrt(v), nil
}
