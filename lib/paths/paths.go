// Package paths records whole sample paths (trajectories) of the forward and
// reverse processes, for figures such as notebook 01's. The samplers in
// lib/sample return only the final state; here every step is kept.
//
//   - Forward draws exact paths of the forward SDE dx = −β/2 x dt + g dw
//     (theory eq. 27's particle picture) by its Gaussian transitions
//     x_{t'} = (m(t')/m(t)) x_t + sqrt(s(t')² − (m(t')/m(t))² s(t)²) z (theory eq. 33).
//   - Reverse records sample.EulerMaruyama's steps (reverse drift–diffusion
//     equation with parameter α, theory eqs. 42, 67) through its Observe hook.
package paths

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pdediff/pdediff/lib/sample"
	"github.com/pdediff/pdediff/lib/sde"
)

// Trajectories are N sample paths of dimension D recorded at len(Times) times.
type Trajectories struct {
	// Times are the forward times t of the records, in recording order
	// (increasing for Forward, decreasing for Reverse).
	Times []float64
	// States[k] is the N×D row-major state at Times[k].
	States [][]float64
	// N and D are the number of paths and their dimension.
	N, D int
}

// Path returns component j of path i at every recorded time.
func (tr Trajectories) Path(i, j int) []float64 {
	out := make([]float64, len(tr.Times))
	for k, s := range tr.States {
		out[k] = s[i*tr.D+j]
	}
	return out
}

// Flat returns component j of the first `paths` paths as one row-major
// paths×len(Times) slice (the layout nbshow.Paths plots).
func (tr Trajectories) Flat(paths, j int) []float64 {
	paths = min(paths, tr.N)
	out := make([]float64, 0, paths*len(tr.Times))
	for i := range paths {
		out = append(out, tr.Path(i, j)...)
	}
	return out
}

func checkFinite(what string, x []float64) error {
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("paths: %s[%d] = %v is not finite", what, i, v)
		}
	}
	return nil
}

// Forward draws exact forward paths starting from the N×D states x0 at t = 0
// and records them at t = 0 and at each of times (strictly increasing, in
// (0, T]). seed seeds the PCG generator.
func Forward(proc sde.Process, x0 []float64, d int, times []float64, seed uint64) (Trajectories, error) {
	if proc == nil {
		return Trajectories{}, fmt.Errorf("paths: nil process")
	}
	if d < 1 || len(x0) == 0 || len(x0)%d != 0 {
		return Trajectories{}, fmt.Errorf("paths: x0 has %d values, not a positive multiple of D=%d", len(x0), d)
	}
	if err := checkFinite("x0", x0); err != nil {
		return Trajectories{}, err
	}
	prev := 0.0
	for i, t := range times {
		if !(t > prev) || t > proc.T() || math.IsInf(t, 0) {
			return Trajectories{}, fmt.Errorf("paths: times[%d] = %v must increase strictly within (0, T=%v]", i, t, proc.T())
		}
		prev = t
	}
	rng := rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d))
	tr := Trajectories{Times: append([]float64{0}, times...), N: len(x0) / d, D: d}
	x := append([]float64(nil), x0...)
	tr.States = append(tr.States, append([]float64(nil), x...))
	tPrev := 0.0
	for _, t := range times {
		// Transition t_prev → t of the linear SDE: ratio of means, and the
		// variance left after propagating s(t_prev)².
		a := proc.Mean(t) / proc.Mean(tPrev)
		sp := proc.Std(tPrev)
		v := proc.Std(t)*proc.Std(t) - a*a*sp*sp
		if v < 0 { // rounding only
			v = 0
		}
		sd := math.Sqrt(v)
		for i := range x {
			x[i] = a*x[i] + sd*rng.NormFloat64()
		}
		tr.States = append(tr.States, append([]float64(nil), x...))
		tPrev = t
	}
	return tr, nil
}

// Reverse integrates the reverse process with noise parameter opts.Alpha
// (0: probability-flow ODE, 1: Song's reverse SDE) by sample.EulerMaruyama
// from t = T to t = Eps (or over opts.Times), recording the state at the start
// and after every step through the sampler's Observe hook: its final state is
// sample.EulerMaruyama's for the same options, by construction.
func Reverse(proc sde.Process, score sample.ScoreFunc, opts sample.Options) (Trajectories, error) {
	if proc == nil || score == nil {
		return Trajectories{}, fmt.Errorf("paths: Reverse needs a process and a score function")
	}
	var tr Trajectories
	user := opts.Observe
	opts.Observe = func(t float64, x []float64) {
		tr.Times = append(tr.Times, t)
		tr.States = append(tr.States, append([]float64(nil), x...))
		if user != nil {
			user(t, x)
		}
	}
	r, err := sample.EulerMaruyama(proc, score, opts)
	if err != nil {
		return Trajectories{}, fmt.Errorf("paths: %w", err)
	}
	tr.N, tr.D = r.N, r.D
	return tr, nil
}
