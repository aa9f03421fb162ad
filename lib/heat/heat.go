// Package heat solves the one-dimensional forward PDE of the paper on a grid,
// to show numerically what the closed forms say (notebook 01):
//
//	∂p/∂t = β(t)/2 ∂x(x p) + g²(t)/2 ∂²p/∂x²      (theory eq. 27; theory eq. 1 when β = 0)
//
// Solve integrates it by finite differences (Crank–Nicolson in time, central
// differences in space, p = 0 at both ends); Green evaluates the solution as
// the Green's-function integral p_t(x) = ∫ G_t(x|x') p0(x') dx' with the
// Gaussian kernel of mean m(t)x' and standard deviation s(t) (theory eqs. 3, 6, 29).
// Both agree with each other and with the exact Gaussian-data solution to
// second order in the grid spacing.
package heat

import (
	"fmt"
	"github.com/pdediff/pdediff/lib/exp"
	"math"
)

// Grid is a uniform grid of N points on [Min, Max] (both ends included).
type Grid struct {
	Min, Max float64
	N        int
}

// Validate reports a grid with N < 3 or a non-finite or empty interval.
func (g Grid) Validate() error {
	if g.N < 3 {
		return fmt.Errorf("heat: grid needs N >= 3 points, got %d", g.N)
	}
	if math.IsNaN(g.Min) || math.IsNaN(g.Max) || math.IsInf(g.Min, 0) || math.IsInf(g.Max, 0) || !(g.Max > g.Min) {
		return fmt.Errorf("heat: grid interval [%v, %v] must be finite with Max > Min", g.Min, g.Max)
	}
	return nil
}

// Dx is the grid spacing.
func (g Grid) Dx() float64 { return (g.Max - g.Min) / float64(g.N-1) }

// X returns the grid points.
func (g Grid) X() []float64 {
	x := make([]float64, g.N)
	dx := g.Dx()
	for i := range x {
		x[i] = g.Min + float64(i)*dx
	}
	x[g.N-1] = g.Max
	return x
}

// Eval samples f on the grid.
func (g Grid) Eval(f func(x float64) float64) []float64 {
	x := g.X()
	for i, xi := range x {
		x[i] = f(xi)
	}
	return x
}

// Mass is the trapezoid-rule integral of p over the grid.
func (g Grid) Mass(p []float64) float64 {
	s := 0.5 * (p[0] + p[len(p)-1])
	for _, v := range p[1 : len(p)-1] {
		s += v
	}
	return s * g.Dx()
}

// Coefficients are the time-dependent coefficients of theory eq. 27. Every
// sde.Process satisfies this interface.
type Coefficients interface {
	// Beta is the drift coefficient β(t).
	Beta(t float64) float64
	// G2 is the diffusion coefficient g²(t).
	G2(t float64) float64
}

// Heat is the pure heat equation of theory eq. 1, ∂p/∂t = γ(t)/2 ∂²p/∂x²: β = 0 and
// g² = Gamma(t).
type Heat struct {
	// Gamma is γ(t) ≥ 0.
	Gamma func(t float64) float64
}

// Beta is 0: the heat equation has no drift.
func (Heat) Beta(float64) float64 { return 0 }

// G2 is γ(t).
func (h Heat) G2(t float64) float64 { return h.Gamma(t) }

func checkDensity(g Grid, p []float64) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if len(p) != g.N {
		return fmt.Errorf("heat: density has %d values, grid has %d points", len(p), g.N)
	}
	for i, v := range p {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("heat: density value %d = %v is not finite", i, v)
		}
	}
	return nil
}

// Solve integrates theory eq. 27 from t0 to t1 with `steps` Crank–Nicolson steps
// (coefficients at each step's midpoint, so second order in time) and returns
// p at t1. p0 holds the density at t0 on the grid; the solution is held at 0 at
// both ends, so the grid must be wide enough for the density to vanish there.
func Solve(g Grid, p0 []float64, c Coefficients, t0, t1 float64, steps int) ([]float64, error) {
	if err := checkDensity(g, p0); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("heat: nil coefficients")
	}
	if math.IsNaN(t0) || math.IsNaN(t1) || math.IsInf(t0, 0) || math.IsInf(t1, 0) || t1 < t0 {
		return nil, fmt.Errorf("heat: times t0=%v, t1=%v must be finite with t1 >= t0", t0, t1)
	}
	if steps < 1 {
		return nil, fmt.Errorf("heat: steps=%d must be >= 1", steps)
	}
	n := g.N
	x := g.X()
	dx := g.Dx()
	h := (t1 - t0) / float64(steps)
	p := append([]float64(nil), p0...)
	p[0], p[n-1] = 0, 0
	// L p_i = lo_i p_{i-1} + di p_i + up_i p_{i+1}  (interior points).
	lo := make([]float64, n)
	up := make([]float64, n)
	rhs := make([]float64, n)
	cp := make([]float64, n) // Thomas algorithm scratch
	for k := range steps {
		tm := t0 + (float64(k)+0.5)*h
		beta, g2 := c.Beta(tm), c.G2(tm)
		if math.IsNaN(beta) || math.IsNaN(g2) || math.IsInf(beta, 0) || math.IsInf(g2, 0) || g2 < 0 {
			return nil, fmt.Errorf("heat: coefficients at t=%v are beta=%v, g2=%v (need finite, g2 >= 0)", tm, beta, g2)
		}
		diff := 0.5 * g2 / (dx * dx)
		adv := 0.25 * beta / dx
		di := -2 * diff
		for i := 1; i < n-1; i++ {
			lo[i] = diff - adv*x[i-1]
			up[i] = diff + adv*x[i+1]
			rhs[i] = p[i] + 0.5*h*(lo[i]*p[i-1]+di*p[i]+up[i]*p[i+1])
		}
		// Solve (I − h/2 L) p = rhs on the interior, p_0 = p_{n−1} = 0.
		bd := 1 - 0.5*h*di
		var prevC, prevD float64
		for i := 1; i < n-1; i++ {
			a := -0.5 * h * lo[i]
			cc := -0.5 * h * up[i]
			den := bd - a*prevC
			if den == 0 {
				return nil, fmt.Errorf("heat: singular Crank–Nicolson system at step %d (reduce the step)", k)
			}
			prevC = cc / den
			prevD = (rhs[i] - a*prevD) / den
			cp[i], rhs[i] = prevC, prevD
		}
		p[n-2] = rhs[n-2]
		for i := n - 3; i >= 1; i-- {
			p[i] = rhs[i] - cp[i]*p[i+1]
		}
	}
	return p, nil
}

// Green returns p(x) = ∫ G(x|x') p0(x') dx' on the grid (trapezoid rule), where
// G(x|x') is the Gaussian kernel of mean m·x' and standard deviation s
// (theory eqs. 6 and 29; VE: m = 1, s = σ(t)). The quadrature needs s ≥ Dx.
func Green(g Grid, p0 []float64, m, s float64) ([]float64, error) {
	if err := checkDensity(g, p0); err != nil {
		return nil, err
	}
	if math.IsNaN(m) || math.IsInf(m, 0) || m <= 0 {
		return nil, fmt.Errorf("heat: kernel mean factor m=%v must be finite and > 0", m)
	}
	if math.IsNaN(s) || math.IsInf(s, 0) || s < g.Dx() {
		return nil, fmt.Errorf("heat: kernel std s=%v must be finite and >= the grid spacing %v", s, g.Dx())
	}
	x := g.X()
	w := make([]float64, g.N)
	for j := range w {
		w[j] = p0[j] * g.Dx()
	}
	w[0] *= 0.5
	w[g.N-1] *= 0.5
	norm := 1 / (s * math.Sqrt(2*math.Pi))
	out := make([]float64, g.N)
	for i, xi := range x {
		sum := 0.0
		for j, xj := range x {
			if w[j] == 0 {
				continue
			}
			d := (xi - m*xj) / s
			sum += w[j] * exp.Exp(-0.5*d*d)
		}
		out[i] = norm * sum
	}
	return out, nil
}

// Normal is the N(mean, std²) density at x.
func Normal(x, mean, std float64) float64 {
	d := (x - mean) / std
	return exp.Exp(-0.5*d*d) / (std * math.Sqrt(2*math.Pi))
}
