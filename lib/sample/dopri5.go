package sample

import (
	"fmt"
	"math"

	"github.com/pdediff/pdediff/lib/sde"
)

// Dormand–Prince 5(4) tableau, as in scipy/integrate/_ivp/rk.py (RK45).
var (
	dpC = [6]float64{0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1}
	dpA = [6][5]float64{
		{},
		{1.0 / 5},
		{3.0 / 40, 9.0 / 40},
		{44.0 / 45, -56.0 / 15, 32.0 / 9},
		{19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
		{9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
	}
	dpB = [6]float64{35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84}
	dpE = [7]float64{-71.0 / 57600, 0, 71.0 / 16695, -71.0 / 1920, 17253.0 / 339200, -22.0 / 525, 1.0 / 40}
)

// Step-size controller constants of scipy's RK45.
const (
	dpSafety    = 0.9
	dpMinFactor = 0.2
	dpMaxFactor = 10
	dpErrExp    = -1.0 / 5 // −1/(error estimator order + 1)
	dpErrOrder  = 4
)

// DoPri5 integrates the probability-flow ODE (theory eq. 46) from T to Eps with
// the adaptive Dormand–Prince 5(4) pair (FSAL), reproducing scipy's
// solve_ivp(method="RK45"): initial step from select_initial_step, error norm
// RMS(err/(atol + rtol·max(|y|,|y_new|))), accepted when < 1, step factor
// SAFETY·norm^(−1/5) clipped to [MIN_FACTOR, MAX_FACTOR] = [0.2, 10] (and ≤ 1
// right after a rejection). The whole batch is ONE system, as the paper's
// solve_ivp on the flattened batch; opts.PerRowNorm uses the largest per-row
// RMS instead. NFE = 2 + 6·(accepted + rejected steps).
func DoPri5(proc sde.Process, score ScoreFunc, opts Options) (Result, error) {
	rtol, atol := opts.Rtol, opts.Atol
	if rtol == 0 {
		rtol = DefaultTol
	}
	if atol == 0 {
		atol = DefaultTol
	}
	if !(rtol > 0) || !(atol > 0) || math.IsInf(rtol, 0) || math.IsInf(atol, 0) {
		return Result{}, fmt.Errorf("sample: rtol=%v and atol=%v must be finite and > 0", opts.Rtol, opts.Atol)
	}
	maxSteps := opts.MaxSteps
	if maxSteps == 0 {
		maxSteps = DefaultMaxSteps
	}
	if maxSteps < 1 {
		return Result{}, fmt.Errorf("sample: max steps %d must be >= 1", opts.MaxSteps)
	}
	if opts.Times != nil {
		return Result{}, fmt.Errorf("sample: the ode sampler (Dormand–Prince) chooses its own steps; it takes no time grid")
	}
	r, err := setup(proc, score, opts, "ode")
	if err != nil {
		return Result{}, err
	}
	size := len(r.x)
	var k [7][]float64
	for i := range k {
		k[i] = make([]float64, size)
	}
	ynew := make([]float64, size)
	tmp := make([]float64, size)
	const dir = -1.0 // integrating from T down to eps

	t, tEnd := r.T, r.eps
	y := r.x
	r.observed(t)
	if err := r.drift(t, y, k[0]); err != nil {
		return Result{}, err
	}
	norm := func(v []float64) float64 { return rmsNorm(v, r.n, r.d, opts.PerRowNorm) }

	// select_initial_step (scipy/integrate/_ivp/common.py).
	interval := math.Abs(tEnd - t)
	for i := range size {
		tmp[i] = y[i] / (atol + math.Abs(y[i])*rtol)
	}
	d0 := norm(tmp)
	for i := range size {
		tmp[i] = k[0][i] / (atol + math.Abs(y[i])*rtol)
	}
	d1 := norm(tmp)
	h0 := 0.01 * d0 / d1
	if d0 < 1e-5 || d1 < 1e-5 {
		h0 = 1e-6
	}
	h0 = math.Min(h0, interval)
	for i := range size {
		tmp[i] = y[i] + h0*dir*k[0][i]
	}
	f1 := k[1]
	if err := r.drift(t+h0*dir, tmp, f1); err != nil {
		return Result{}, err
	}
	for i := range size {
		tmp[i] = (f1[i] - k[0][i]) / (atol + math.Abs(y[i])*rtol)
	}
	d2 := norm(tmp) / h0
	var h1 float64
	if d1 <= 1e-15 && d2 <= 1e-15 {
		h1 = math.Max(1e-6, h0*1e-3)
	} else {
		h1 = math.Pow(0.01/math.Max(d1, d2), 1.0/(dpErrOrder+1))
	}
	hAbs := math.Min(math.Min(100*h0, h1), interval)

	accepted, rejected := 0, 0
	for dir*(t-tEnd) < 0 {
		minStep := 10 * math.Abs(math.Nextafter(t, dir*math.Inf(1))-t)
		if hAbs < minStep {
			hAbs = minStep
		}
		stepRejected := false
		var tNew float64
		for {
			if accepted+rejected >= maxSteps {
				return Result{}, fmt.Errorf("sample: dopri5 exceeded %d steps at t=%v", maxSteps, t)
			}
			if hAbs < minStep {
				return Result{}, fmt.Errorf("sample: dopri5 step size %v too small at t=%v", hAbs, t)
			}
			h := hAbs * dir
			tNew = t + h
			if dir*(tNew-tEnd) > 0 {
				tNew = tEnd
			}
			h = tNew - t
			hAbs = math.Abs(h)

			// rk_step: stages 1..5 (k[0] = f(t, y) by FSAL), then f(t+h, y_new).
			for s := 1; s < 6; s++ {
				copy(tmp, y)
				for j := 0; j < s; j++ {
					axpy(h*dpA[s][j], k[j], tmp)
				}
				if err := r.drift(t+dpC[s]*h, tmp, k[s]); err != nil {
					return Result{}, err
				}
			}
			copy(ynew, y)
			for j := range 6 {
				if dpB[j] != 0 {
					axpy(h*dpB[j], k[j], ynew)
				}
			}
			if err := checkFinite(ynew, tNew); err != nil {
				return Result{}, err
			}
			if err := r.drift(tNew, ynew, k[6]); err != nil {
				return Result{}, err
			}
			clear(tmp)
			for j := range 7 {
				if dpE[j] != 0 {
					axpy(dpE[j], k[j], tmp)
				}
			}
			for i, e := range tmp {
				scale := atol + math.Max(math.Abs(y[i]), math.Abs(ynew[i]))*rtol
				tmp[i] = e * h / scale
			}
			errNorm := norm(tmp)
			if math.IsNaN(errNorm) {
				return Result{}, fmt.Errorf("sample: dopri5 error estimate is NaN at t=%v", t)
			}
			if errNorm < 1 {
				factor := float64(dpMaxFactor)
				if errNorm > 0 {
					factor = math.Min(dpMaxFactor, dpSafety*math.Pow(errNorm, dpErrExp))
				}
				if stepRejected {
					factor = math.Min(1, factor)
				}
				hAbs *= factor
				break
			}
			hAbs *= math.Max(dpMinFactor, dpSafety*math.Pow(errNorm, dpErrExp))
			stepRejected = true
			rejected++
		}
		accepted++
		t = tNew
		y, ynew = ynew, y
		k[0], k[6] = k[6], k[0]
		r.x = y
		r.report(t)
	}
	r.x = y
	return r.finish(accepted, rejected), nil
}

// rmsNorm is scipy's norm: sqrt(mean(v²)) over all entries, or the largest
// per-row RMS when perRow is set.
func rmsNorm(v []float64, n, d int, perRow bool) float64 {
	if !perRow {
		s := 0.0
		for _, x := range v {
			s += x * x
		}
		return math.Sqrt(s / float64(len(v)))
	}
	worst := 0.0
	for i := range n {
		s := 0.0
		for _, x := range v[i*d : (i+1)*d] {
			s += x * x
		}
		worst = math.Max(worst, s)
	}
	return math.Sqrt(worst / float64(d))
}

// axpy computes y += a·x.
func axpy(a float64, x, y []float64) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}
