package sample

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/pdediff/pdediff/lib/sde"
	"github.com/schollz/progressbar/v3"
)

// Defaults of the samplers (theory §4.3).
const (
	// DefaultEps is the final forward time of the reverse integration.
	DefaultEps = 1e-3
	// DefaultSteps is the number of uniform steps of the fixed-step samplers.
	DefaultSteps = 1000
	// DefaultTol is rtol = atol of DoPri5 (the paper's solve_ivp settings).
	DefaultTol = 1e-5
	// DefaultMaxSteps bounds the attempted DoPri5 steps.
	DefaultMaxSteps = 100000
)

// Options configure every sampler; fields a sampler does not use are ignored.
// Zero values select the defaults noted per field.
type Options struct {
	// N is the number of samples (rows) and D their dimension. When XT is set,
	// D must be set and N may be 0 (then N = len(XT)/D).
	N, D int
	// XT, if non-nil, is the starting state at t = T (row-major N×D, copied);
	// otherwise the start is drawn from N(0, PriorStd² I) (theory eq. 66).
	XT []float64
	// Seed seeds the PCG generator (math/rand/v2) used for the prior draw and
	// the Brownian increments: the same seed gives the same numbers.
	Seed uint64
	// Eps is the final forward time, in (0, T); 0 means DefaultEps.
	Eps float64
	// Steps is the number of uniform steps of the fixed-step samplers; 0 means
	// DefaultSteps.
	Steps int
	// Alpha ≥ 0 is the noise parameter of EulerMaruyama (theory eq. 67): 1 is
	// Song's reverse SDE, 0 the probability-flow ODE. Its zero value is 0.
	Alpha float64
	// Rtol and Atol are DoPri5's tolerances; 0 means DefaultTol.
	Rtol, Atol float64
	// PerRowNorm makes DoPri5 use the largest per-row RMS error instead of the
	// RMS over the whole flattened batch (scipy's behaviour on a flattened
	// batch, the default).
	PerRowNorm bool
	// MaxSteps bounds DoPri5's attempted steps; 0 means DefaultMaxSteps.
	MaxSteps int
	// Times, if non-nil, is the time grid of the fixed-step samplers and
	// EulerMaruyama: strictly decreasing forward times from Times[0] ≤ T down
	// to Times[len−1] > 0 (at least two). It replaces Steps and Eps. DoPri5
	// chooses its own steps and rejects a grid.
	Times []float64
	// Observe, if non-nil, is called with the forward time and the state (the
	// sampler's own buffer: copy it to keep it) at the start and after every
	// accepted step. Path recorders and animations use it instead of copying a
	// sampler.
	Observe func(t float64, x []float64)
	// Progress, if non-nil, receives a progress bar (e.g. os.Stderr).
	Progress io.Writer
}

// Result is the outcome of one sampler run.
type Result struct {
	// X holds the samples at t = Eps, row-major N×D.
	X []float64
	// N and D are the shape of X.
	N, D int
	// NFE counts score evaluations (calls of the ScoreFunc, each over the whole
	// batch).
	NFE int
	// Steps counts accepted steps; Rejected counts rejected DoPri5 steps.
	Steps, Rejected int
	// TFinal is the forward time the integration stopped at (Eps).
	TFinal float64
}

// run holds the validated settings and the buffers of one sampler run.
type run struct {
	proc     sde.Process
	score    ScoreFunc
	n, d     int
	eps, T   float64
	steps    int
	grid     []float64 // decreasing forward times, grid[0] = start, last = eps
	rng      *rand.Rand
	observe  func(t float64, x []float64)
	x        []float64
	nfe      int
	progress *progressbar.ProgressBar
}

// setup validates opts and draws (or copies) the initial state.
func setup(proc sde.Process, score ScoreFunc, opts Options, name string) (*run, error) {
	if proc == nil || score == nil {
		return nil, fmt.Errorf("sample: %s needs a process and a score function", name)
	}
	r := &run{proc: proc, score: score, T: proc.T(), n: opts.N, d: opts.D}
	if r.d < 1 {
		return nil, fmt.Errorf("sample: dimension D=%d must be >= 1", opts.D)
	}
	if opts.XT != nil {
		if len(opts.XT)%r.d != 0 || (r.n != 0 && len(opts.XT) != r.n*r.d) {
			return nil, fmt.Errorf("sample: XT has %d values, not N*D = %d*%d", len(opts.XT), r.n, r.d)
		}
		r.n = len(opts.XT) / r.d
		for i, v := range opts.XT {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("sample: XT[%d] = %v is not finite", i, v)
			}
		}
	}
	if r.n < 1 {
		return nil, fmt.Errorf("sample: number of samples N=%d must be >= 1", r.n)
	}
	r.eps = opts.Eps
	if r.eps == 0 {
		r.eps = DefaultEps
	}
	if !(r.eps > 0 && r.eps < r.T) {
		return nil, fmt.Errorf("sample: eps=%v must lie in (0, T=%v)", opts.Eps, r.T)
	}
	r.steps = opts.Steps
	if r.steps == 0 {
		r.steps = DefaultSteps
	}
	if r.steps < 1 {
		return nil, fmt.Errorf("sample: steps=%d must be >= 1", opts.Steps)
	}
	if opts.Times != nil {
		if err := checkGrid(opts.Times, r.T); err != nil {
			return nil, err
		}
		r.grid = append([]float64(nil), opts.Times...)
		r.steps = len(r.grid) - 1
		r.eps = r.grid[r.steps]
	} else {
		r.grid = make([]float64, r.steps+1)
		dtau := (r.T - r.eps) / float64(r.steps)
		for k := range r.grid {
			r.grid[k] = r.T - float64(k)*dtau
		}
		r.grid[r.steps] = r.eps
	}
	r.observe = opts.Observe
	r.rng = rand.New(rand.NewPCG(opts.Seed, 0x9e3779b97f4a7c15))
	r.x = make([]float64, r.n*r.d)
	if opts.XT != nil {
		copy(r.x, opts.XT)
	} else {
		s := proc.PriorStd()
		for i := range r.x {
			r.x[i] = s * r.rng.NormFloat64()
		}
	}
	if opts.Progress != nil {
		r.progress = progressbar.NewOptions(1000, progressbar.OptionSetWriter(opts.Progress),
			progressbar.OptionSetDescription("sample "+name), progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish())
	}
	return r, nil
}

// checkGrid validates a user time grid: at least two strictly decreasing,
// finite times in (0, T].
func checkGrid(ts []float64, T float64) error {
	if len(ts) < 2 {
		return fmt.Errorf("sample: a time grid needs at least 2 times, got %d", len(ts))
	}
	for i, t := range ts {
		switch {
		case math.IsNaN(t) || math.IsInf(t, 0) || !(t > 0) || t > T:
			return fmt.Errorf("sample: time grid entry %d = %v must lie in (0, T=%v]", i, t, T)
		case i > 0 && !(t < ts[i-1]):
			return fmt.Errorf("sample: time grid must decrease strictly (entry %d = %v after %v)", i, t, ts[i-1])
		}
	}
	return nil
}

// observed passes the state at t to the Observe hook, if any.
func (r *run) observed(t float64) {
	if r.observe != nil {
		r.observe(t, r.x)
	}
}

// report updates the progress bar to the fraction of [eps, T] covered at t
// and passes the state to the Observe hook.
func (r *run) report(t float64) {
	r.observed(t)
	if r.progress != nil {
		_ = r.progress.Set(int(1000 * (r.T - t) / (r.T - r.eps)))
	}
}

func (r *run) finish(steps, rejected int) Result {
	if r.progress != nil {
		_ = r.progress.Finish()
	}
	return Result{X: r.x, N: r.n, D: r.d, NFE: r.nfe, Steps: steps, Rejected: rejected, TFinal: r.eps}
}

// evalScore calls the score once over the whole batch.
func (r *run) evalScore(t float64, x, out []float64) error {
	r.nfe++
	if err := r.score(t, x, r.n, r.d, out); err != nil {
		return fmt.Errorf("sample: score at t=%v: %w", t, err)
	}
	return nil
}

// drift writes the forward-time probability-flow ODE right-hand side
// dx/dt = −β(t)/2 x − g²(t)/2 ∇log p_t(x) into out (sde.ReverseDrift with
// alpha = 0).
func (r *run) drift(t float64, x, out []float64) error {
	if err := r.evalScore(t, x, out); err != nil {
		return err
	}
	sde.ReverseDrift(r.proc, t, 0, x, out, out)
	return nil
}

// checkFinite reports the first non-finite entry of x.
func checkFinite(x []float64, t float64) error {
	// v − v is 0 for finite v and NaN for ±Inf or NaN: one cheap pass first.
	acc := 0.0
	for _, v := range x {
		acc += v - v
	}
	if acc == 0 {
		return nil
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("sample: state became non-finite (x[%d] = %v) at t=%v", i, v, t)
		}
	}
	return nil
}
