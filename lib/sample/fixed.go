package sample

import (
	"fmt"
	"math"

	"github.com/pdediff/pdediff/lib/sde"
)

// EulerMaruyama integrates the reverse-time SDE family of theory eq. 42 with the
// Euler–Maruyama scheme of theory eq. 67 on a uniform grid of opts.Steps steps from
// t = T to t = Eps:
//
//	x ← x + Δτ [β/2 x + (1+α)/2 g² S(x,t)] + sqrt(α g² Δτ) z,
//
// α = opts.Alpha ≥ 0 (1: Song et al.'s reverse SDE, 0: the probability-flow
// ODE by explicit Euler). One score call per step; NFE = Steps.
func EulerMaruyama(proc sde.Process, score ScoreFunc, opts Options) (Result, error) {
	if math.IsNaN(opts.Alpha) || opts.Alpha < 0 || math.IsInf(opts.Alpha, 0) {
		return Result{}, fmt.Errorf("sample: alpha=%v must be finite and >= 0", opts.Alpha)
	}
	r, err := setup(proc, score, opts, "em")
	if err != nil {
		return Result{}, err
	}
	alpha := opts.Alpha
	f := make([]float64, len(r.x))
	r.observed(r.grid[0])
	for k := range r.steps {
		t, tn := r.grid[k], r.grid[k+1]
		if err := r.evalScore(t, r.x, f); err != nil {
			return Result{}, err
		}
		sde.ReverseDrift(r.proc, t, alpha, r.x, f, f)
		h := tn - t // < 0
		if alpha == 0 {
			for i, fi := range f {
				r.x[i] += h * fi
			}
		} else {
			sig := math.Sqrt(-alpha * r.proc.G2(t) * h)
			for i, fi := range f {
				r.x[i] += h*fi + sig*r.rng.NormFloat64()
			}
		}
		if err := checkFinite(r.x, tn); err != nil {
			return Result{}, err
		}
		r.report(tn)
	}
	return r.finish(r.steps, 0), nil
}

// EulerMaruyamaKarras is the reverse SDE (EulerMaruyama with α = 1) on the
// EDM (Karras) grid instead of the uniform one (theory eq. 127): KarrasTimes with
// DefaultKarrasRho and opts.Steps steps, or opts.Times. The grid puts most
// steps where the noise level σ = s/m is small. Euler–Maruyama adds noise of
// variance g²(t)|Δτ| at every step, also at the last ones, so on the uniform
// grid the final steps widen a narrow distribution (VE: g² ≈ 1 near t = 0);
// the Karras grid's small last steps do not. One score call per step
// (NFE = Steps).
func EulerMaruyamaKarras(proc sde.Process, score ScoreFunc, opts Options) (Result, error) {
	o, err := karrasOptions(proc, opts)
	if err != nil {
		return Result{}, err
	}
	o.Alpha = 1
	return EulerMaruyama(proc, score, o)
}

// ODEEuler integrates the probability-flow ODE (theory eq. 46) with opts.Steps
// explicit Euler steps from T to Eps (first order; NFE = Steps). It equals
// EulerMaruyama with α = 0.
func ODEEuler(proc sde.Process, score ScoreFunc, opts Options) (Result, error) {
	return fixedStep(proc, score, opts, "euler", eulerStep, 1)
}

// ODEHeun integrates the probability-flow ODE (theory eq. 46) with opts.Steps
// steps of Heun's method (explicit trapezoidal rule, second order; NFE =
// 2·Steps).
func ODEHeun(proc sde.Process, score ScoreFunc, opts Options) (Result, error) {
	return fixedStep(proc, score, opts, "heun", heunStep, 2)
}

// ODERK4 integrates the probability-flow ODE (theory eq. 46) with opts.Steps steps
// of the classical fourth-order Runge–Kutta method (NFE = 4·Steps).
func ODERK4(proc sde.Process, score ScoreFunc, opts Options) (Result, error) {
	return fixedStep(proc, score, opts, "rk4", rk4Step, 4)
}

// stepper advances r.x from t by h (h < 0) using the scratch buffers k.
type stepper func(r *run, t, h float64, k [][]float64) error

func fixedStep(proc sde.Process, score ScoreFunc, opts Options, name string, step stepper, stages int) (Result, error) {
	r, err := setup(proc, score, opts, name)
	if err != nil {
		return Result{}, err
	}
	k := make([][]float64, stages+1)
	for i := range k {
		k[i] = make([]float64, len(r.x))
	}
	r.observed(r.grid[0])
	for i := range r.steps {
		t, tn := r.grid[i], r.grid[i+1]
		if err := step(r, t, tn-t, k); err != nil {
			return Result{}, err
		}
		if err := checkFinite(r.x, tn); err != nil {
			return Result{}, err
		}
		r.report(tn)
	}
	return r.finish(r.steps, 0), nil
}

func eulerStep(r *run, t, h float64, k [][]float64) error {
	if err := r.drift(t, r.x, k[0]); err != nil {
		return err
	}
	for i, f := range k[0] {
		r.x[i] += h * f
	}
	return nil
}

func heunStep(r *run, t, h float64, k [][]float64) error {
	k1, k2, tmp := k[0], k[1], k[2]
	if err := r.drift(t, r.x, k1); err != nil {
		return err
	}
	for i, xi := range r.x {
		tmp[i] = xi + h*k1[i]
	}
	if err := r.drift(t+h, tmp, k2); err != nil {
		return err
	}
	for i := range r.x {
		r.x[i] += 0.5 * h * (k1[i] + k2[i])
	}
	return nil
}

func rk4Step(r *run, t, h float64, k [][]float64) error {
	k1, k2, k3, k4, tmp := k[0], k[1], k[2], k[3], k[4]
	if err := r.drift(t, r.x, k1); err != nil {
		return err
	}
	for i, xi := range r.x {
		tmp[i] = xi + 0.5*h*k1[i]
	}
	if err := r.drift(t+0.5*h, tmp, k2); err != nil {
		return err
	}
	for i, xi := range r.x {
		tmp[i] = xi + 0.5*h*k2[i]
	}
	if err := r.drift(t+0.5*h, tmp, k3); err != nil {
		return err
	}
	for i, xi := range r.x {
		tmp[i] = xi + h*k3[i]
	}
	if err := r.drift(t+h, tmp, k4); err != nil {
		return err
	}
	for i := range r.x {
		r.x[i] += h / 6 * (k1[i] + 2*k2[i] + 2*k3[i] + k4[i])
	}
	return nil
}
