package sample

import (
	"fmt"
	"math"

	"github.com/pdediff/pdediff/lib/sde"
)

// DefaultKarrasRho is the exponent of the EDM (Karras et al. 2022) noise-level
// grid used by the few-step samplers.
const DefaultKarrasRho = 7

// noiseToSignal returns σ(t) = s(t)/m(t): the noise level of the scaled
// variable x/m(t), the time variable of EDM and DPM-Solver (theory eq. 29).
func noiseToSignal(p sde.Process, t float64) float64 { return p.Std(t) / p.Mean(t) }

// KarrasTimes returns the EDM time grid of n steps from T down to eps: forward
// times whose noise levels σ(t) = s(t)/m(t) are
//
//	σ_i = (σ_max^(1/ρ) + i/n (σ_min^(1/ρ) − σ_max^(1/ρ)))^ρ,  i = 0..n,
//
// with σ_max = σ(T), σ_min = σ(eps) (Karras et al. 2022, eq. 5); the times
// are found by bisection (σ increases with t for every process here). The grid
// has n+1 entries, first T, last eps, for Options.Times.
func KarrasTimes(p sde.Process, n int, eps, rho float64) ([]float64, error) {
	T := p.T()
	switch {
	case n < 1:
		return nil, fmt.Errorf("sample: a Karras grid needs ≥ 1 step, got %d", n)
	case !(eps > 0 && eps < T):
		return nil, fmt.Errorf("sample: eps = %v must lie in (0, T = %v)", eps, T)
	case !(rho > 0) || math.IsInf(rho, 0):
		return nil, fmt.Errorf("sample: rho = %v must be finite and > 0", rho)
	}
	smax, smin := noiseToSignal(p, T), noiseToSignal(p, eps)
	if !(smax > smin) {
		return nil, fmt.Errorf("sample: noise level σ(t) = s/m does not increase from eps to T (%v ≤ %v)", smax, smin)
	}
	a, b := math.Pow(smax, 1/rho), math.Pow(smin, 1/rho)
	ts := make([]float64, n+1)
	ts[0], ts[n] = T, eps
	for i := 1; i < n; i++ {
		target := math.Pow(a+float64(i)/float64(n)*(b-a), rho)
		lo, hi := eps, T
		for range 200 {
			mid := 0.5 * (lo + hi)
			if noiseToSignal(p, mid) < target {
				lo = mid
			} else {
				hi = mid
			}
			if hi-lo <= 1e-15*T {
				break
			}
		}
		ts[i] = 0.5 * (lo + hi)
	}
	return ts, nil
}

// HeunEDM is EDM's deterministic sampler (Karras et al. 2022, Algorithm 1
// without churn): Heun's method on the scaled variable x̃ = x/m in the noise
// level σ = s/m, where the probability-flow ODE reads dx̃/dσ = −s S(x, t)
// (theory eq. 47 in these variables), over the Karras grid (KarrasTimes with
// DefaultKarrasRho, opts.Steps steps) or opts.Times. σ(eps) > 0, so every
// step is a Heun step (EDM's last step to σ = 0 is Euler): NFE = 2·Steps.
func HeunEDM(proc sde.Process, score ScoreFunc, opts Options) (Result, error) {
	o, err := karrasOptions(proc, opts)
	if err != nil {
		return Result{}, err
	}
	r, err := setup(proc, score, o, "heun-edm")
	if err != nil {
		return Result{}, err
	}
	d1 := make([]float64, len(r.x))
	d2 := make([]float64, len(r.x))
	tmp := make([]float64, len(r.x))
	r.observed(r.grid[0])
	for k := range r.steps {
		t, tn := r.grid[k], r.grid[k+1]
		m, sd := proc.Mean(t), proc.Std(t)
		mn, sdn := proc.Mean(tn), proc.Std(tn)
		dsig := sdn/mn - sd/m
		if err := r.evalScore(t, r.x, d1); err != nil {
			return Result{}, err
		}
		for i, xi := range r.x {
			d1[i] *= -sd // dx̃/dσ at (x̃_i, σ_i)
			tmp[i] = mn * (xi/m + dsig*d1[i])
		}
		if err := r.evalScore(tn, tmp, d2); err != nil {
			return Result{}, err
		}
		for i, xi := range r.x {
			r.x[i] = mn * (xi/m + 0.5*dsig*(d1[i]-sdn*d2[i]))
		}
		if err := checkFinite(r.x, tn); err != nil {
			return Result{}, err
		}
		r.report(tn)
	}
	return r.finish(r.steps, 0), nil
}

func karrasOptions(proc sde.Process, opts Options) (Options, error) {
	if proc == nil {
		return opts, fmt.Errorf("sample: nil process")
	}
	if opts.Times != nil {
		return opts, nil
	}
	steps, eps := opts.Steps, opts.Eps
	if steps == 0 {
		steps = DefaultSteps
	}
	if eps == 0 {
		eps = DefaultEps
	}
	ts, err := KarrasTimes(proc, steps, eps, DefaultKarrasRho)
	if err != nil {
		return opts, err
	}
	opts.Times = ts
	return opts, nil
}

// DPMSolver2M is DPM-Solver++(2M) (Lu et al. 2022; k-diffusion's
// sample_dpmpp_2m) in data prediction: with the denoised estimate
// D = (x + s² S(x, t)) / m (Tweedie, theory eq. 51), λ = −log σ, σ = s/m and
// h = λ_next − λ, one step is
//
//	x_next = (s_next / s) x − m_next expm1(−h) D̃,
//	D̃ = (1 + 1/(2r)) D_i − 1/(2r) D_{i−1},  r = h_{i−1}/h_i,
//
// second order from the second step on. The first step and the last (into
// eps) are first order (D̃ = D_i), as k-diffusion's final step to σ = 0 and
// DPM-Solver's lower_order_final. Grid: opts.Times, or KarrasTimes with
// opts.Steps. One score evaluation per step (NFE = Steps).
func DPMSolver2M(proc sde.Process, score ScoreFunc, opts Options) (Result, error) {
	o, err := karrasOptions(proc, opts)
	if err != nil {
		return Result{}, err
	}
	r, err := setup(proc, score, o, "dpmpp2m")
	if err != nil {
		return Result{}, err
	}
	s := make([]float64, len(r.x))
	den := make([]float64, len(r.x))
	old := make([]float64, len(r.x))
	hLast := 0.0
	r.observed(r.grid[0])
	for k := range r.steps {
		t, tn := r.grid[k], r.grid[k+1]
		if err := r.evalScore(t, r.x, s); err != nil {
			return Result{}, err
		}
		m, sd := proc.Mean(t), proc.Std(t)
		mn, sdn := proc.Mean(tn), proc.Std(tn)
		for i, xi := range r.x {
			den[i] = (xi + sd*sd*s[i]) / m
		}
		h := math.Log(sd/m) - math.Log(sdn/mn) // λ_next − λ > 0
		a, c := sdn/sd, -mn*math.Expm1(-h)
		if k == 0 || k == r.steps-1 {
			for i, xi := range r.x {
				r.x[i] = a*xi + c*den[i]
			}
		} else {
			q := hLast / h
			w1, w0 := 1+1/(2*q), -1/(2*q)
			for i, xi := range r.x {
				r.x[i] = a*xi + c*(w1*den[i]+w0*old[i])
			}
		}
		hLast = h
		den, old = old, den
		if err := checkFinite(r.x, tn); err != nil {
			return Result{}, err
		}
		r.report(tn)
	}
	return r.finish(r.steps, 0), nil
}
