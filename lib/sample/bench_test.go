package sample_test

import (
	"math/rand/v2"
	"strconv"
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

// BenchmarkPFODEAccuracy reports the max error against the exact flow map and
// the NFE of each PF-ODE solver on Gaussian data N(1, 0.5²) (2000 exact p_T
// draws, toy VP and VE): the error-vs-NFE table of docs/perf-sampling.md.
// Run with -benchtime 1x.
func BenchmarkPFODEAccuracy(b *testing.B) {
	for _, c := range []sde.Config{sde.ToyConfig("vp"), sde.ToyConfig("ve")} {
		p := mustProc(b, c)
		g := gaussian1D(b, 1, 0.5)
		xT, err := g.SampleAt(p, 1, rand.New(rand.NewPCG(1, 1)), 2000)
		if err != nil {
			b.Fatal(err)
		}
		want := exactFlow(p, 1, 0.5, 1e-3, xT)
		type cfg struct {
			name string
			f    sampler
			opts sample.Options
		}
		var cfgs []cfg
		for _, n := range []int{10, 30, 100, 1000} {
			cfgs = append(cfgs, cfg{"euler-" + strconv.Itoa(n), sample.ODEEuler, sample.Options{Steps: n}},
				cfg{"heun-" + strconv.Itoa(n), sample.ODEHeun, sample.Options{Steps: n}},
				cfg{"rk4-" + strconv.Itoa(n), sample.ODERK4, sample.Options{Steps: n}})
		}
		for _, tol := range []float64{1e-3, 1e-5, 1e-7} {
			cfgs = append(cfgs, cfg{"dopri5-tol" + strconv.FormatFloat(tol, 'g', -1, 64), sample.DoPri5, sample.Options{Rtol: tol, Atol: tol}})
		}
		for _, k := range cfgs {
			b.Run(c.Process+"/"+k.name, func(b *testing.B) {
				var r sample.Result
				for b.Loop() {
					o := k.opts
					o.D, o.XT = 1, xT
					var err error
					if r, err = k.f(p, g.ScoreFunc(p), o); err != nil {
						b.Fatal(err)
					}
				}
				// in units of 1e-6: the benchmark format prints few decimals
				b.ReportMetric(maxAbsDiff(r.X, want)*1e6, "maxerr_1e-6")
				b.ReportMetric(float64(r.NFE), "NFE")
			})
		}
	}
}
