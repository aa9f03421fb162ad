package sample_test

import (
	"math/rand/v2"
	"testing"

	"github.com/pdediff/pdediff/lib/sample"
	"github.com/pdediff/pdediff/lib/sde"
)

// The benchmarks time sampler steps over 10,000 rows (d = 1) with the exact
// Gaussian score (cheap); BenchmarkScoreGaussian10k times that score alone so
// the sampler's own cost per step is the difference. Results:
// docs/perf-sampling.md.

const benchRows = 10000

// BenchmarkScoreGaussian10k: one exact-score call over 10,000 rows.
func BenchmarkScoreGaussian10k(b *testing.B) {
	p := mustProc(b, sde.ToyConfig("vp"))
	g := gaussian1D(b, 1, 0.5)
	score := g.ScoreFunc(p)
	x := make([]float64, benchRows)
	out := make([]float64, benchRows)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	b.ResetTimer()
	for b.Loop() {
		if err := score(0.5, x, benchRows, 1, out); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSteps runs f with `steps` steps and reports ns per (accepted) step.
func benchSteps(b *testing.B, f sampler, opts sample.Options) {
	p := mustProc(b, sde.ToyConfig("vp"))
	g := gaussian1D(b, 1, 0.5)
	score := g.ScoreFunc(p)
	opts.N, opts.D = benchRows, 1
	steps, nfe := 0, 0
	b.ResetTimer()
	for b.Loop() {
		r, err := f(p, score, opts)
		if err != nil {
			b.Fatal(err)
		}
		steps += r.Steps
		nfe += r.NFE
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(steps), "ns/step")
	b.ReportMetric(float64(nfe)/float64(steps), "NFE/step")
}

// BenchmarkEulerMaruyamaStep10k: SDE (α = 1) steps, 100 per run.
func BenchmarkEulerMaruyamaStep10k(b *testing.B) {
	benchSteps(b, sample.EulerMaruyama, sample.Options{Steps: 100, Alpha: 1})
}

// BenchmarkODEEulerStep10k: PF-ODE Euler steps, 100 per run.
func BenchmarkODEEulerStep10k(b *testing.B) {
	benchSteps(b, sample.ODEEuler, sample.Options{Steps: 100})
}

// BenchmarkDoPri5Step10k: adaptive DoPri5 steps (rtol = atol = 1e-5).
func BenchmarkDoPri5Step10k(b *testing.B) {
	benchSteps(b, sample.DoPri5, sample.Options{})
}
