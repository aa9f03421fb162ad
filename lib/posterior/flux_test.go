package posterior

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/pdediff/pdediff/datasets/flux"
	"github.com/pdediff/pdediff/lib/physics"
)

// The response matrix of the default linear mesh, computed once per test binary
// (about 0.2 s; no on-disk cache is touched).
var (
	fluxGOnce sync.Once
	fluxG     []float64
	fluxGErr  error
)

func fluxMatrix(t *testing.T) []float64 {
	t.Helper()
	fluxGOnce.Do(func() {
		cfg, err := physics.DefaultConfig(physics.ProblemLinear)
		if err != nil {
			fluxGErr = err
			return
		}
		cfg.CacheDir = "-"
		m, err := physics.NewLinearModel(cfg)
		if err != nil {
			fluxGErr = err
			return
		}
		fluxG = m.Matrix()
	})
	if fluxGErr != nil {
		t.Fatal(fluxGErr)
	}
	return fluxG
}

// matrixModel is the linear sensor model y = G q for flux.Generate.
type matrixModel struct{ g []float64 }

func (m matrixModel) Readings(q, out []float64) error {
	for s := 0; s < flux.N; s++ {
		v := 0.0
		for k := 0; k < flux.N; k++ {
			v += m.g[s*flux.N+k] * q[k]
		}
		out[s] = v
	}
	return nil
}

func (m matrixModel) Describe() map[string]any { return map[string]any{"problem": "linear"} }

func TestFluxHelpers(t *testing.T) {
	pr, err := flux.NewPrior(flux.PriorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := FluxPrior(pr)
	k := pr.Covariance()
	if g.Mean[0] != 2 || g.Cov.At(3, 3) != k.At(3, 3)+pr.Jitter() || g.Cov.At(3, 4) != k.At(3, 4) {
		t.Errorf("FluxPrior: mean %v, cov %v, want shift 2 and kernel + jitter", g.Mean[0], g.Cov.At(3, 3))
	}
	gm := make([]float64, flux.N*flux.N)
	mask := make([]float64, flux.N)
	mask[3] = 1
	lin, err := FluxLinear(gm, 0.1, mask)
	if err != nil || lin.Mask[2] || !lin.Mask[3] || lin.NoiseStd[0] != 0.1 {
		t.Errorf("FluxLinear: %+v, %v", lin.Mask, err)
	}
	for _, bad := range []struct {
		g, mask []float64
	}{{gm[:5], nil}, {gm, mask[:3]}, {gm, append(make([]float64, flux.N-1), 0.5)}} {
		if _, err := FluxLinear(bad.g, 0.1, bad.mask); err == nil {
			t.Errorf("FluxLinear accepted a bad input")
		}
	}
}

// TestFluxExactPosteriorLevel005 is the realistic check: the project's G and
// prior, noise level 0.05 of the reading scale, 200 test cases.
func TestFluxExactPosteriorLevel005(t *testing.T) {
	gmat := fluxMatrix(t)
	ds, err := flux.Generate(context.Background(), matrixModel{gmat}, flux.Options{NTrain: 9000, NTest: 200, NoiseLevel: 0.05, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := flux.NewPrior(ds.Meta.Prior)
	if err != nil {
		t.Fatal(err)
	}
	lin, err := FluxLinear(gmat, ds.Meta.NoiseStd, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := mustLG(t, FluxPrior(pr), lin)
	const ns = 500
	nt := ds.Test.N
	samples := make([]float64, 0, nt*ns*flux.N)
	means := make([]float64, 0, nt*flux.N)
	for n := 0; n < nt; n++ {
		y := ds.Test.ReadingsNoisy[n*flux.N : (n+1)*flux.N]
		m, err := p.Mean(y)
		if err != nil {
			t.Fatal(err)
		}
		means = append(means, m...)
		x, err := p.Draws(y, ns, uint64(n))
		if err != nil {
			t.Fatal(err)
		}
		samples = append(samples, x...)
	}
	// Prior std per segment: the std of the true flux over the training set (the paper's dashed line).
	priorStd := make([]float64, flux.N)
	for j := range priorStd {
		var s, s2 float64
		for n := 0; n < ds.Train.N; n++ {
			v := ds.Train.Q[n*flux.N+j]
			s += v
			s2 += v * v
		}
		mu := s / float64(ds.Train.N)
		priorStd[j] = math.Sqrt(s2/float64(ds.Train.N) - mu*mu)
	}
	met, err := Evaluate(samples, ds.Test.Q, nt, ns, flux.N, MetricsOptions{PriorStd: priorStd, Bins: 10})
	if err != nil {
		t.Fatal(err)
	}
	// The analytic mean's error and the analytic std, without Monte Carlo noise.
	errA := 0.0
	for i, m := range means {
		errA += math.Abs(m - ds.Test.Q[i])
	}
	errA /= float64(len(means)) * met.MeanTrueFlux
	stdA := mean(p.Std())
	t.Logf("noise std %.4g (reading scale %.4g); K jitter %g, draw jitter %g", ds.Meta.NoiseStd, ds.Meta.ReadingScale, p.KJitter(), p.DrawJitter())
	t.Logf("exact posterior, level 0.05, %d cases: normalised error %.4f (analytic mean %.4f), std %.4f (analytic %.4f), prior std %.4f",
		nt, met.ErrorMean, errA, met.StdMean, stdA, met.PriorStdMean)
	t.Logf("per-segment error: %.3f", met.Error)
	t.Logf("coverage 68/95 %.3f/%.3f; SBC pooled p %.3g, min p %.3g", met.Coverage68Mean, met.Coverage95Mean, met.SBC.PooledPValue, met.SBC.MinPValue)
	// A colleague measured ≈ 4.3 % and ≈ 0.11 (prior std ≈ 0.98); allow 30 %.
	if math.Abs(errA-0.043) > 0.3*0.043 {
		t.Errorf("normalised error %.4f, want ≈ 0.043 (±30 %%)", errA)
	}
	if math.Abs(stdA-0.11) > 0.3*0.11 {
		t.Errorf("posterior std %.4f, want ≈ 0.11 (±30 %%)", stdA)
	}
	if math.Abs(met.PriorStdMean-0.98) > 0.05 {
		t.Errorf("prior std %.4f, want ≈ 0.98", met.PriorStdMean)
	}
	if met.Coverage95Mean < 0.85 {
		t.Errorf("95 %% coverage of the exact Gaussian posterior %.3f, want ≥ 0.85", met.Coverage95Mean)
	}

	// ESS on the clipped prior for three cases: the first two and the one with the most clipped segments.
	worst, most := 0, -1
	for n := 0; n < nt; n++ {
		z := 0
		for _, v := range ds.Test.Q[n*flux.N : (n+1)*flux.N] {
			if v == 0 {
				z++
			}
		}
		if z > most {
			worst, most = n, z
		}
	}
	for _, n := range []int{0, 1, worst} {
		y := ds.Test.ReadingsNoisy[n*flux.N : (n+1)*flux.N]
		start := time.Now()
		res, err := p.ESS(y, ESSOptions{Chains: 4, Samples: 2000, BurnIn: 500, Seed: uint64(n), Clip: true, Inflate: 1.5, Adapt: 3})
		if err != nil {
			t.Fatal(err)
		}
		el := time.Since(start)
		gm, _ := p.Mean(y)
		em, es := chainMoments(res.Draws, flux.N)
		var dm, sd float64
		for j := range em {
			dm += math.Abs(em[j]-gm[j]) / flux.N
			sd += es[j] / flux.N
		}
		zeros := 0
		for _, v := range ds.Test.Q[n*flux.N : (n+1)*flux.N] {
			if v == 0 {
				zeros++
			}
		}
		t.Logf("ESS case %d (%d clipped true segments): R-hat max %.4f (latent %.4f), %.2f evaluations per iteration, %d evaluations, %v; mean |ESS − Gaussian mean| %.4f, ESS std %.4f",
			n, zeros, res.RHatMax, res.RHatLatentMax, res.EvalsPerIteration, res.LogLikEvals, el.Round(time.Millisecond), dm, sd)
		if res.RHatMax >= 1.05 {
			t.Errorf("case %d: ESS R-hat max %.4f, want < 1.05", n, res.RHatMax)
		}
		if res.Collapsed != 0 {
			t.Errorf("case %d: %d collapsed brackets", n, res.Collapsed)
		}
		if zeros == 0 && dm > 0.25*sd {
			t.Errorf("case %d (no clipped truth): ESS mean differs from the Gaussian mean by %.4f on average, std %.4f", n, dm, sd)
		}
	}
}
