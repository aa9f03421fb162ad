package fluxinv

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pdediff/pdediff/datasets/flux"
	"github.com/pdediff/pdediff/lib/physics"
	"github.com/pdediff/pdediff/lib/posterior"
	"github.com/pdediff/pdediff/lib/sample"
	"github.com/pdediff/pdediff/lib/sde"
)

// Posterior holds N posterior draws of the flux for each of K observations,
// in physical units.
type Posterior struct {
	// K observations × N draws.
	K, N int
	// Q are the draws, row-major K×N×30.
	Q []float64
	// NFE is, per observation, the number of score evaluations of the sampler
	// (learnt posteriors), of log-likelihood evaluations (ESS), or 0 (exact
	// Gaussian draws).
	NFE []int
	// Mean and Std are K×30; for the exact Gaussian they are the analytic
	// posterior mean and marginal std (theory eq. 110), otherwise the sample
	// mean and std (n − 1 denominator) of the draws.
	Mean, Std []float64
	// RHat is, per observation, the largest split-R̂ over segments (ESS only).
	RHat []float64
	// Seconds is the wall time of the sampling (kept out of committed files).
	Seconds float64
}

// Case returns the N×30 draws of observation j (sharing Q).
func (p *Posterior) Case(j int) []float64 { return p.Q[j*p.N*D : (j+1)*p.N*D] }

// sampleMoments fills Mean and Std with the sample moments of the draws.
func (p *Posterior) sampleMoments() {
	p.Mean, p.Std = make([]float64, p.K*D), make([]float64, p.K*D)
	for j := 0; j < p.K; j++ {
		x := p.Case(j)
		for s := 0; s < D; s++ {
			var m float64
			for l := 0; l < p.N; l++ {
				m += x[l*D+s]
			}
			m /= float64(p.N)
			var v float64
			for l := 0; l < p.N; l++ {
				d := x[l*D+s] - m
				v += d * d
			}
			p.Mean[j*D+s] = m
			if p.N > 1 {
				p.Std[j*D+s] = math.Sqrt(v / float64(p.N-1))
			}
		}
	}
}

// ObservationSeed is the seed of observation j of a run with seed seed:
// sample.GroupSeed(seed, j), the stream lib/sample's RunGroups gives group
// j. Every observation has its own stream, so its draws do not depend on k
// or on which observations share a score call (up to the float32 rounding of
// the network, see MaxRows).
func ObservationSeed(seed uint64, j int) uint64 { return sample.GroupSeed(seed, j) }

// ObservationSeedRule describes ObservationSeed in posterior sidecars.
const ObservationSeedRule = "observation j: sample.GroupSeed(seed, j)"

// MaxRows bounds the rows of one batched score call of SamplePosterior: the
// draws of max(1, MaxRows/n) observations are evaluated together.
const MaxRows = 4096

// SamplePosterior draws n posterior samples of the flux for each conditioning
// row (scaled readings, then the mask for a masked model; see
// Info.Conditioning) with the registered sampler of spec, and returns them in
// physical units (the inverse of the model's flux scaling, theory eq. 98).
//
// This is the one place that maps observations to sampler calls. Each
// observation is its own system (lib/sample RunGroups): an adaptive sampler
// keeps the observation's own step size and error norm, observation j draws
// from its own stream ObservationSeed(seed, j), and the score evaluations of
// up to MaxRows/n observations at their own times are batched into one
// network call. The same inputs give the same bytes; across batch layouts
// (another k) an observation's draws agree to the network's float32 rounding.
func SamplePosterior(ctx context.Context, m *Model, cond [][]float64, n int, spec sample.Spec, seed uint64, progress io.Writer) (*Posterior, error) {
	if m == nil {
		return nil, fmt.Errorf("fluxinv: no model")
	}
	cd := m.Info.CondDim()
	flat := make([]float64, 0, len(cond)*cd)
	for j, c := range cond {
		if len(c) != cd {
			return nil, fmt.Errorf("fluxinv: conditioning row %d has %d values, the model takes %d", j, len(c), cd)
		}
		flat = append(flat, c...)
	}
	if len(cond) == 0 {
		return nil, fmt.Errorf("fluxinv: no observations to sample")
	}
	score, err := m.Net.RowScoreFunc(flat)
	if err != nil {
		return nil, err
	}
	return sampleScores(ctx, m.Process, m.Info.Scaling.Q, len(cond), score, n, spec, seed, progress)
}

// sampleScores is SamplePosterior for any per-row score in scaled units
// (group j = observation j); qs is the flux scaling.
func sampleScores(ctx context.Context, proc sde.Process, qs flux.MinMax, k int, score sample.RowScoreFunc,
	n int, spec sample.Spec, seed uint64, progress io.Writer) (*Posterior, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if k == 0 {
		return nil, fmt.Errorf("fluxinv: no observations to sample")
	}
	if n < 1 {
		return nil, fmt.Errorf("fluxinv: %d draws per observation, want ≥ 1", n)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	start := time.Now()
	p := &Posterior{K: k, N: n, Q: make([]float64, k*n*D)}
	r, err := sample.RunGroups(proc, score, spec, sample.GroupOptions{Groups: k, PerGroup: n, D: D, Out: p.Q, Seed: seed, Eps: spec.Eps,
		MaxRows: max(n, MaxRows), Context: ctx, Progress: progress})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("fluxinv: sampler %s: %w", spec, err)
	}
	if err := qs.Invert(p.Q, p.Q); err != nil {
		return nil, err
	}
	p.NFE = r.NFE
	p.sampleMoments()
	p.Seconds = time.Since(start).Seconds()
	return p, nil
}

// Exact-posterior methods.
const (
	// ExactGauss draws from the Gaussian posterior of the unclipped prior
	// (theory eqs. 109–110); at zero noise it is the only method.
	ExactGauss = "gauss"
	// ExactESS samples the posterior of the clipped prior (the one the data
	// are drawn from) by preconditioned elliptical slice sampling (theory
	// §7.3); it needs noise > 0.
	ExactESS = "ess"
)

// ResponseMatrix returns the 30×30 response matrix G of a linear model's
// forward problem (lib/physics, cached on disk).
func ResponseMatrix(in Info) ([]float64, error) {
	if in.Problem != physics.ProblemLinear {
		return nil, fmt.Errorf("fluxinv: the exact posterior exists for the linear problem only; this model is of the %s problem", in.Problem)
	}
	lm, err := physics.NewLinearModel(in.Physics)
	if err != nil {
		return nil, err
	}
	return lm.Matrix(), nil
}

// ExactMethodFor returns the exact reference of a noise level: ESS for
// noise > 0 (the clipped prior of the data), the Gaussian posterior at zero
// noise (where ESS is undefined and the readings determine the flux).
func ExactMethodFor(noiseStd float64) string {
	if noiseStd > 0 {
		return ExactESS
	}
	return ExactGauss
}

// Exact draws n samples from the exact posterior of each observation for the
// linear problem of in (prior, response matrix, noise std and masks of the
// observations), by method ExactGauss or ExactESS, with observation j seeded
// by ObservationSeed(seed, j). Observations run in parallel on up to
// GOMAXPROCS goroutines; the result does not depend on their number.
func Exact(ctx context.Context, in Info, g []float64, obs Observations, n int, method string, ess ESSSettings, seed uint64) (*Posterior, error) {
	if method != ExactGauss && method != ExactESS {
		return nil, fmt.Errorf("fluxinv: unknown exact method %q (want gauss or ess)", method)
	}
	if in.Problem != physics.ProblemLinear {
		return nil, fmt.Errorf("fluxinv: the exact posterior exists for the linear problem only; this model is of the %s problem", in.Problem)
	}
	if method == ExactESS && !(in.NoiseStd > 0) {
		return nil, fmt.Errorf("fluxinv: the ess method needs noise > 0 (this model's noise std is %v); use gauss", in.NoiseStd)
	}
	if n < 2 {
		return nil, fmt.Errorf("fluxinv: %d exact draws per observation, want ≥ 2", n)
	}
	if obs.K < 1 || len(obs.Readings) != obs.K*D {
		return nil, fmt.Errorf("fluxinv: no observations")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	pr, err := flux.NewPrior(in.Prior)
	if err != nil {
		return nil, err
	}
	prior := posterior.FluxPrior(pr)
	start := time.Now()
	// One Gaussian posterior per distinct mask.
	lgs := map[string]*posterior.LinearGaussian{}
	lgOf := func(j int) (*posterior.LinearGaussian, error) {
		var mask []float64
		key := ""
		if obs.Mask != nil {
			mask = obs.Mask[j*D : (j+1)*D]
			key = fmt.Sprint(mask)
		}
		if lg, ok := lgs[key]; ok {
			return lg, nil
		}
		lin, err := posterior.FluxLinear(g, in.NoiseStd, mask)
		if err != nil {
			return nil, err
		}
		if !(in.NoiseStd > 0) {
			lin.MaxJitter = 1e-8 // noise-free: the smallest jitter that factorises K
		}
		lg, err := posterior.NewLinearGaussian(prior, lin)
		if err != nil {
			return nil, err
		}
		lgs[key] = lg
		return lg, nil
	}
	cases := make([]*posterior.LinearGaussian, obs.K)
	for j := range cases {
		if cases[j], err = lgOf(j); err != nil {
			return nil, err
		}
	}
	p := &Posterior{K: obs.K, N: n, Q: make([]float64, obs.K*n*D), NFE: make([]int, obs.K)}
	if method == ExactESS {
		p.RHat = make([]float64, obs.K)
	}
	if j, err := eachCase(ctx, obs.K, func(j int) error {
		return exactCase(p, j, cases[j], obs.Readings[j*D:(j+1)*D], n, method, ess, seed)
	}); err != nil {
		if j < 0 {
			return nil, err
		}
		return nil, fmt.Errorf("fluxinv: exact posterior of observation %d: %w", j, err)
	}
	if method == ExactGauss {
		p.Mean, p.Std = make([]float64, obs.K*D), make([]float64, obs.K*D)
		for j := 0; j < obs.K; j++ {
			m, _ := cases[j].Mean(obs.Readings[j*D : (j+1)*D])
			copy(p.Mean[j*D:], m)
			copy(p.Std[j*D:], cases[j].Std())
		}
	} else {
		p.sampleMoments()
	}
	p.Seconds = time.Since(start).Seconds()
	return p, nil
}

// eachCase runs fn for j = 0..k−1 on up to GOMAXPROCS goroutines, each
// case once, and stops early when ctx is cancelled or fn fails. It returns
// (−1, ctx.Err()) after a cancellation, (j, err) for the lowest failed case
// j, or (−1, nil).
func eachCase(ctx context.Context, k int, fn func(j int) error) (int, error) {
	errs := make([]error, k)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < max(1, min(runtime.GOMAXPROCS(0), k)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j := int(next.Add(1) - 1)
				if j >= k || ctx.Err() != nil {
					return
				}
				errs[j] = fn(j)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	for j, e := range errs {
		if e != nil {
			return j, e
		}
	}
	return -1, nil
}

// exactCase fills the draws of observation j.
func exactCase(p *Posterior, j int, lg *posterior.LinearGaussian, y []float64, n int, method string, ess ESSSettings, seed uint64) error {
	s := ObservationSeed(seed, j)
	if method == ExactGauss {
		x, err := lg.Draws(y, n, s)
		if err != nil {
			return err
		}
		copy(p.Case(j), x)
		return nil
	}
	_, err := essDraws(p, j, lg, y, n, ess, seed, nil)
	return err
}
