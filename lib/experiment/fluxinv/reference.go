package fluxinv

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/pdediff/pdediff/datasets/flux"
	"github.com/pdediff/pdediff/lib/physics"
	"github.com/pdediff/pdediff/lib/posterior"
)

// GaussNewtonSteps is the number of linearisations of the nonlinear
// reference per case: the first at the prior mean, each next one at the
// clipped mean of the previous linearised posterior (a Gauss–Newton step).
const GaussNewtonSteps = 3

// ReferenceReport holds the cost and diagnostics of NonlinearReference.
type ReferenceReport struct {
	// Solves is the total number of forward solves (likelihood evaluations
	// and linearisations); ChordIterations the mean chord iterations per
	// likelihood evaluation; Fallbacks the evaluations that needed Newton and
	// Failures those whose solve failed (the proposal was rejected).
	Solves          int64   `json:"solves"`
	ChordIterations float64 `json:"chord_iterations"`
	Fallbacks       int64   `json:"fallbacks"`
	Failures        int64   `json:"failures"`
	// EvalsPerIteration is the mean number of likelihood evaluations per ESS
	// iteration and Collapsed the ESS iterations without an accepted move.
	EvalsPerIteration float64 `json:"evals_per_iteration"`
	Collapsed         int     `json:"collapsed"`
	// IndependenceAcceptance is the mean over cases of the accepted fraction
	// of the independence jumps (ESSSettings.Independence; 0 without them).
	IndependenceAcceptance float64 `json:"independence_acceptance,omitempty"`
}

// NonlinearReference draws n samples from the posterior of the nonlinear
// problem (theory §7.7) for each observation: the clipped GP prior of the
// data and the Gaussian likelihood of the readings y given H(q), the
// nonlinear forward model of in.Physics. Per observation it linearises H
// (GaussNewtonSteps times, each at the previous linearised posterior's
// clipped mean), takes the Gaussian posterior of that linear surrogate
// (with y shifted by its offset) as the ellipse of preconditioned elliptical
// slice sampling, and runs ESS with the exact nonlinear likelihood, each
// evaluation a chord solve from the linearisation point's field
// (physics.Linearization). The chains are an exact MCMC of the nonlinear
// posterior: the surrogate only sets how fast they mix (split-R̂ per case
// in RHat). Observation j is seeded by ObservationSeed(seed, j); they run in
// parallel on up to GOMAXPROCS goroutines and the result does not depend on
// their number.
func NonlinearReference(ctx context.Context, in Info, obs Observations, n int, ess ESSSettings, seed uint64) (*Posterior, ReferenceReport, error) {
	var rep ReferenceReport
	if in.Problem != physics.ProblemNonlinear {
		return nil, rep, fmt.Errorf("fluxinv: the nonlinear reference is for the nonlinear problem; this model is of the %s problem (use Exact)", in.Problem)
	}
	if !(in.NoiseStd > 0) {
		return nil, rep, fmt.Errorf("fluxinv: the nonlinear reference needs noise > 0 (noise std %v)", in.NoiseStd)
	}
	if obs.Mask != nil {
		return nil, rep, fmt.Errorf("fluxinv: the nonlinear reference takes no sensor masks")
	}
	if n < 2 {
		return nil, rep, fmt.Errorf("fluxinv: %d reference draws per observation, want ≥ 2", n)
	}
	if obs.K < 1 || len(obs.Readings) != obs.K*D {
		return nil, rep, fmt.Errorf("fluxinv: no observations")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	prior, model, err := nonlinearParts(in)
	if err != nil {
		return nil, rep, err
	}
	start := time.Now()
	p := &Posterior{K: obs.K, N: n, Q: make([]float64, obs.K*n*D), NFE: make([]int, obs.K), RHat: make([]float64, obs.K)}
	var solves, chord, evals, fallbacks, failures, collapsed, iters atomic.Int64
	accept := make([]float64, obs.K)
	if j, err := eachCase(ctx, obs.K, func(j int) error {
		y := obs.Readings[j*D : (j+1)*D]
		lin, lg, yShift, k, err := linearisedPosterior(model, prior, prior.Mean, y, in.NoiseStd)
		solves.Add(int64(k))
		if err != nil {
			return err
		}
		inv := 1 / (2 * in.NoiseStd * in.NoiseStd)
		h := make([]float64, D)
		loglik := func(q []float64) float64 {
			if ctx.Err() != nil {
				return math.Inf(-1) // stop cheaply: the result is discarded
			}
			it, err := lin.ReadingsIter(q, h)
			evals.Add(1)
			if err != nil {
				failures.Add(1)
				return math.Inf(-1)
			}
			if it == 0 {
				fallbacks.Add(1)
			}
			chord.Add(int64(it))
			var s float64
			for i, v := range h {
				d := y[i] - v
				s += d * d
			}
			return -s * inv
		}
		r, err := essDraws(p, j, lg, yShift, n, ess, seed, loglik)
		if err != nil {
			return err
		}
		solves.Add(r.LogLikEvals)
		collapsed.Add(int64(r.Collapsed))
		accept[j] = r.IndependenceAcceptance
		iters.Add(int64(r.Chains * r.Rounds * r.Iterations))
		p.NFE[j] += k
		return nil
	}); err != nil {
		if j < 0 {
			return nil, rep, err
		}
		return nil, rep, fmt.Errorf("fluxinv: nonlinear reference of observation %d: %w", j, err)
	}
	p.sampleMoments()
	p.Seconds = time.Since(start).Seconds()
	rep = ReferenceReport{Solves: solves.Load(), Fallbacks: fallbacks.Load(), Failures: failures.Load(), Collapsed: int(collapsed.Load())}
	if ok := evals.Load() - fallbacks.Load() - failures.Load(); ok > 0 {
		rep.ChordIterations = float64(chord.Load()) / float64(ok)
	}
	if it := iters.Load(); it > 0 {
		rep.EvalsPerIteration = float64(evals.Load()) / float64(it)
	}
	for _, a := range accept {
		rep.IndependenceAcceptance += a / float64(obs.K)
	}
	return p, rep, nil
}

// linearisedPosterior returns the linearisation of the model after
// GaussNewtonSteps Gauss–Newton steps from q0, the Gaussian posterior of its
// linear surrogate H(q) ≈ H(q*) + G (q − q*) and the shifted readings
// y − H(q*) + G q* it is conditioned on, and the number of forward solves.
func linearisedPosterior(model *physics.NonlinearModel, prior posterior.Gaussian, q0, y []float64, noiseStd float64) (*physics.Linearization, *posterior.LinearGaussian, []float64, int, error) {
	q := make([]float64, D)
	for i, v := range q0 {
		q[i] = max(0, v)
	}
	var (
		lin *physics.Linearization
		lg  *posterior.LinearGaussian
		ys  []float64
	)
	for step := 0; step < GaussNewtonSteps; step++ {
		var err error
		if lin, err = model.Linearize(q); err != nil {
			return nil, nil, nil, step, err
		}
		g, h0 := lin.Tangent(), lin.Readings0()
		ys = make([]float64, D)
		for i := range ys {
			s := y[i] - h0[i]
			for k := 0; k < D; k++ {
				s += g[i*D+k] * q[k]
			}
			ys[i] = s
		}
		l, err := posterior.FluxLinear(g, noiseStd, nil)
		if err != nil {
			return nil, nil, nil, step + 1, err
		}
		if lg, err = posterior.NewLinearGaussian(prior, l); err != nil {
			return nil, nil, nil, step + 1, err
		}
		if step == GaussNewtonSteps-1 {
			break
		}
		m, err := lg.Mean(ys)
		if err != nil {
			return nil, nil, nil, step + 1, err
		}
		for i, v := range m {
			q[i] = max(0, v)
		}
	}
	return lin, lg, ys, GaussNewtonSteps, nil
}

// essDraws runs the ESS chains of observation j (as exactCase does for the
// linear problem) with the log-likelihood loglik and the ellipse of lg at the
// readings y, and fills its draws, NFE and R̂.
func essDraws(p *Posterior, j int, lg *posterior.LinearGaussian, y []float64, n int, ess ESSSettings, seed uint64, loglik func([]float64) float64) (*posterior.ESSResult, error) {
	chains := max(1, ess.Chains)
	per := max(4, (n+chains-1)/chains)
	if ess.Adapt > 0 {
		per = max(per, (2*D+chains)/chains+1) // adaptation needs more than 2·30 pooled draws
	}
	thin := max(1, (ess.Iterations+per-1)/per)
	r, err := lg.ESS(y, posterior.ESSOptions{Chains: chains, Samples: per, BurnIn: ess.BurnIn, Thin: thin,
		Seed: ObservationSeed(seed, j), Clip: true, Inflate: ess.Inflate, Adapt: ess.Adapt, Workers: 1, LogLik: loglik, Independence: ess.Independence})
	if err != nil {
		return nil, err
	}
	pool := chains * per
	out := p.Case(j)
	for l := 0; l < n; l++ {
		src := l * pool / n // evenly over the chains' pooled draws
		copy(out[l*D:(l+1)*D], r.Draws[src*D:(src+1)*D])
	}
	p.NFE[j] = int(r.LogLikEvals)
	p.RHat[j] = r.RHatMax
	return r, nil
}

// LinearisedGaussian returns the Gaussian posterior of the nonlinear
// problem's linear surrogate for readings y (physical units, 30 values): the
// forward model linearised after GaussNewtonSteps Gauss–Newton steps from
// the prior mean, H(q) ≈ H(q*) + G (q − q*), with the unclipped Gaussian
// prior; condition it on the returned shifted readings y − H(q*) + G q*
// (LinearGaussian.Mean, Draws). It is the ellipse NonlinearReference starts
// from, and a cheap approximation of the posterior in its own right (it
// ignores the curvature of H and the clipping of the prior).
func LinearisedGaussian(in Info, y []float64) (*posterior.LinearGaussian, []float64, error) {
	if in.Problem != physics.ProblemNonlinear {
		return nil, nil, fmt.Errorf("fluxinv: LinearisedGaussian is for the nonlinear problem; this model is of the %s problem", in.Problem)
	}
	if len(y) != D || !(in.NoiseStd > 0) {
		return nil, nil, fmt.Errorf("fluxinv: LinearisedGaussian needs 30 readings and noise > 0 (got %d readings, noise std %v)", len(y), in.NoiseStd)
	}
	prior, model, err := nonlinearParts(in)
	if err != nil {
		return nil, nil, err
	}
	_, lg, ys, _, err := linearisedPosterior(model, prior, prior.Mean, y, in.NoiseStd)
	return lg, ys, err
}

// nonlinearParts returns the latent Gaussian prior and the nonlinear
// forward model a model's Info records.
func nonlinearParts(in Info) (posterior.Gaussian, *physics.NonlinearModel, error) {
	pr, err := flux.NewPrior(in.Prior)
	if err != nil {
		return posterior.Gaussian{}, nil, err
	}
	model, err := physics.NewNonlinearModel(in.Physics)
	return posterior.FluxPrior(pr), model, err
}
