package fluxinv

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/datasets/flux"
	"github.com/pdediff/pdediff/lib/experiment"
	"github.com/pdediff/pdediff/lib/physics"
	"github.com/pdediff/pdediff/lib/posterior"
)

// nonlinearCases returns the Info and the first k noisy test observations of
// a small nonlinear data set on the coarse 85 × 20 mesh.
func nonlinearCases(t *testing.T, level float64, k int) (Info, Observations, []float64) {
	t.Helper()
	cfg, _ := physics.DefaultConfig(physics.ProblemNonlinear)
	cfg.NX, cfg.NY = 85, 20
	sm, err := physics.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := flux.Generate(context.Background(), sm, flux.Options{NTrain: 200, NTest: k, NoiseLevel: level, Seed: 5, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	info, err := InfoFromMeta(ds.Meta)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := NewObservations(info, ds.Test.ReadingsNoisy[:k*D], nil)
	if err != nil {
		t.Fatal(err)
	}
	return info, obs, ds.Test.Q[:k*D]
}

// TestNonlinearReference checks the ESS reference with the nonlinear
// likelihood against an independent estimator of the same posterior:
// self-normalised importance sampling with the linearised Gaussian
// posterior as proposal, weights exp(ℓ(max(0, f)) − ℓ_G(f)) (theory eq.
// 124). Means agree to a fifth of the posterior std, stds to 15 %; every
// case has split-R̂ < 1.05.
func TestNonlinearReference(t *testing.T) {
	info, obs, _ := nonlinearCases(t, 0.05, 2)
	post, rep, err := NonlinearReference(context.Background(), info, obs, 400, NonlinearESS(), 7)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("reference: %+v, R̂ %v, %.1f s", rep, post.RHat, post.Seconds)
	if rep.Failures != 0 || rep.Collapsed != 0 {
		t.Errorf("failures %d, collapsed %d", rep.Failures, rep.Collapsed)
	}
	for j, r := range post.RHat {
		if !(r < 1.05) {
			t.Errorf("case %d: R̂ %v ≥ 1.05", j, r)
		}
	}
	pr, _ := flux.NewPrior(info.Prior)
	prior := posterior.FluxPrior(pr)
	model, err := physics.NewNonlinearModel(info.Physics)
	if err != nil {
		t.Fatal(err)
	}
	const n = 4000
	for j := 0; j < obs.K; j++ {
		y := obs.Readings[j*D : (j+1)*D]
		lin, lg, ys, _, err := linearisedPosterior(model, prior, prior.Mean, y, info.NoiseStd)
		if err != nil {
			t.Fatal(err)
		}
		lG, _ := lg.LogLikelihood(ys)
		f, err := lg.Draws(ys, n, uint64(100+j))
		if err != nil {
			t.Fatal(err)
		}
		logw := make([]float64, n)
		q := make([]float64, n*D)
		h := make([]float64, D)
		wmax := math.Inf(-1)
		for i := 0; i < n; i++ {
			fi, qi := f[i*D:(i+1)*D], q[i*D:(i+1)*D]
			for s, v := range fi {
				qi[s] = max(0, v)
			}
			if err := lin.Readings(qi, h); err != nil {
				t.Fatal(err)
			}
			var ss float64
			for s := range h {
				d := y[s] - h[s]
				ss += d * d
			}
			logw[i] = -ss/(2*info.NoiseStd*info.NoiseStd) - lG(fi)
			wmax = max(wmax, logw[i])
		}
		var sw, sw2 float64
		w := make([]float64, n)
		for i := range w {
			w[i] = math.Exp(logw[i] - wmax)
			sw += w[i]
			sw2 += w[i] * w[i]
		}
		if neff := sw * sw / sw2; neff < 1000 {
			t.Fatalf("case %d: importance sampling effective size %.0f < 1000 (linearisation too poor for the check)", j, neff)
		}
		var dm, sr float64
		for s := 0; s < D; s++ {
			var m, v float64
			for i := 0; i < n; i++ {
				m += w[i] * q[i*D+s]
			}
			m /= sw
			for i := 0; i < n; i++ {
				d := q[i*D+s] - m
				v += w[i] * d * d
			}
			sd := math.Sqrt(v / sw)
			dm += math.Abs(post.Mean[j*D+s]-m) / sd
			sr += post.Std[j*D+s] / sd
		}
		dm, sr = dm/D, sr/D
		t.Logf("case %d: mean |Δ mean|/std %.3f, std ratio %.3f", j, dm, sr)
		if dm > 0.2 || sr < 0.85 || sr > 1.15 {
			t.Errorf("case %d: ESS reference against importance sampling: mean |Δ mean|/std %.3f (≤ 0.2), std ratio %.3f (in [0.85, 1.15])", j, dm, sr)
		}
	}
}

// TestNonlinearRun runs a tiny nonlinear grid: the reference posterior of
// the first cases at the reference level only, comparisons on those cases,
// the same fluxes and clean readings at every level, and a second run that
// takes the reference from the first run's folder instead of computing it.
// tinyNonlinearPreset is tinyPreset on the nonlinear problem (coarse mesh,
// levels 0.05 and 0.2, a 3-case reference at 0.05 with short chains).
func tinyNonlinearPreset(t *testing.T) Preset {
	t.Helper()
	p := tinyPreset()
	p.Problem = physics.ProblemNonlinear
	p.MeshNX, p.MeshNY = 34, 8
	p.Levels = []float64{0.05, 0.2}
	p.RefLevel, p.RefCases = 0.05, 3
	p.Fig7Level = 0.05
	p.Samplers = []string{"ode"}
	p.Draws = 40
	p.ESS = ESSSettings{Chains: 2, BurnIn: 20, Iterations: 40, Adapt: 1, Inflate: 1.2}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestNonlinearEpochStudy: the epoch study of the nonlinear problem compares
// every point with the reference posterior, computed by the first point and
// taken by the second from the first point's folder; other levels than the
// reference level are refused.
func TestNonlinearEpochStudy(t *testing.T) {
	b := sharedBackend(t)
	p := tinyNonlinearPreset(t)
	out := t.TempDir()
	var log strings.Builder
	st, err := RunEpochStudy(context.Background(), b, p, 0.05, "ve", "ode", []int{1, 2}, 3, out, EpochOptions{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Points) != 2 || st.Points[0].ExactError != st.Points[1].ExactError || !(st.Points[0].ExactError > 0) {
		t.Fatalf("points %+v: want two, against the same reference", st.Points)
	}
	for _, pt := range st.Points {
		// The ratios are on the reference's 3 cases, Error on all 4.
		if !(pt.ErrorRatio > 0) || math.IsInf(pt.ErrorRatio, 0) || !(pt.StdRatio > 0) || pt.Steps == 0 {
			t.Errorf("point %+v", pt)
		}
	}
	// The converged-cases ratios: recomputed here from the files, on the
	// cases with R̂ < RHatConverged.
	ref0, err := ReadPosteriorFile(ExactPath(filepath.Join(out, "e1"), ExactESS, 0.05))
	if err != nil {
		t.Fatal(err)
	}
	var conv []int
	for j, r := range ref0.Post.RHat {
		if r < RHatConverged {
			conv = append(conv, j)
		}
	}
	pt := st.Points[0]
	t.Logf("reference R̂ %v: %d converged, ratios %.3f (all) %.3f (converged)", ref0.Post.RHat, len(conv), pt.ErrorRatio, pt.ErrorRatioConverged)
	if pt.ConvergedCases != len(conv) {
		t.Fatalf("converged cases %d, want %d (R̂ %v)", pt.ConvergedCases, len(conv), ref0.Post.RHat)
	}
	if len(conv) > 0 {
		mf, err := ReadPosteriorFile(filepath.Join(out, "e1", "posteriors", "ve-ode-0.05.npz"))
		if err != nil {
			t.Fatal(err)
		}
		ds, err := flux.Load(DataDir(filepath.Join(out, "e1"), 0.05))
		if err != nil {
			t.Fatal(err)
		}
		var em, er float64
		for _, j := range conv {
			for s := 0; s < D; s++ {
				q := ds.Test.Q[j*D+s]
				em += math.Abs(mf.Post.Mean[j*D+s] - q)
				er += math.Abs(ref0.Post.Mean[j*D+s] - q)
			}
		}
		if want := em / er; math.Abs(pt.ErrorRatioConverged-want) > 1e-9*want {
			t.Errorf("converged error ratio %v, want %v", pt.ErrorRatioConverged, want)
		}
		var sm, sr float64
		for _, j := range conv {
			for s := 0; s < D; s++ {
				sm += mf.Post.Std[j*D+s]
				sr += ref0.Post.Std[j*D+s]
			}
		}
		if want := sm / sr; math.Abs(pt.StdRatioConverged-want) > 1e-9*want {
			t.Errorf("converged std ratio %v, want %v", pt.StdRatioConverged, want)
		}
		if len(conv) == 3 && math.Abs(pt.ErrorRatioConverged-pt.ErrorRatio) > 1e-9 {
			t.Errorf("all cases converged, yet ratios %v and %v differ", pt.ErrorRatioConverged, pt.ErrorRatio)
		}
	}
	first, second := filepath.Join(out, "e1"), filepath.Join(out, "e2")
	if !strings.Contains(log.String(), "reference posterior taken from "+first) {
		t.Errorf("the second point did not take the first point's reference; log:\n%s", log.String())
	}
	a, err := ReadPosteriorFile(ExactPath(first, ExactESS, 0.05))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ReadPosteriorFile(ExactPath(second, ExactESS, 0.05))
	if err != nil {
		t.Fatal(err)
	}
	if a.Meta.RunID != c.Meta.RunID || !slices.Equal(a.Post.Q, c.Post.Q) {
		t.Error("the two points' reference posteriors differ")
	}
	// Only the studied cell ran: no data of the other level.
	if _, err := os.Stat(DataDir(first, 0.2)); err == nil {
		t.Error("the study made data for noise level 0.2")
	}
	if _, err := RunEpochStudy(context.Background(), b, p, 0.2, "ve", "ode", []int{1}, 3, t.TempDir(), EpochOptions{}); err == nil || !strings.Contains(err.Error(), "at noise level 0.05 only") {
		t.Errorf("study at level 0.2: %v", err)
	}
	f, err := EpochFigure(st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Save(experiment.Env{Out: out}, "curve"); err != nil {
		t.Fatal(err)
	}
}

func TestNonlinearRun(t *testing.T) {
	b := sharedBackend(t)
	p := tinyNonlinearPreset(t)
	out := t.TempDir()
	res, err := Run(context.Background(), b, p, 3, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	lo, hi, ref := res.Cell("ve-ode-0.05"), res.Cell("ve-ode-0.2"), res.Cell("exact-ess-0.05")
	if lo == nil || hi == nil || ref == nil || res.Cell("exact-gauss-0.05") != nil || res.Cell("exact-ess-0.2") != nil {
		t.Fatalf("cells: %v", cellNames(res))
	}
	if lo.Reference != ref.Name || lo.Metrics.Reference == nil || lo.Metrics.Reference.Cases != 3 || lo.Targets == nil {
		t.Errorf("ve-ode-0.05: reference %q, comparison %+v, targets %v", lo.Reference, lo.Metrics.Reference, lo.Targets)
	}
	if lo.Metrics.Cases != p.Cases || ref.Metrics.Cases != 3 {
		t.Errorf("cases: learnt %d (want %d), reference %d (want 3)", lo.Metrics.Cases, p.Cases, ref.Metrics.Cases)
	}
	if hi.Reference != "" || hi.Metrics.Reference != nil || hi.Targets != nil {
		t.Errorf("ve-ode-0.2 has a reference or targets: %q %+v %v", hi.Reference, hi.Metrics.Reference, hi.Targets)
	}
	if ref.ReferenceCost == nil || ref.ReferenceCost.Solves < int64(3*p.Draws) || ref.ReferenceCost.Failures != 0 {
		t.Errorf("reference cost %+v", ref.ReferenceCost)
	}
	// Case by case: the sums give the table's overall ratios.
	cases, err := CompareCases(out, res, Cell{Level: 0.05, Process: "ve", Sampler: "ode"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 3 {
		t.Fatalf("%d cases compared, want the reference's 3", len(cases))
	}
	var e, re, sd, rsd float64
	for j, c := range cases {
		if c.Case != j || !(c.RHat >= 1) || c.Clipped < 0 || c.Clipped > 1 || !(c.RefError > 0) || !(c.RefStd > 0) {
			t.Errorf("case %+v", c)
		}
		e, re, sd, rsd = e+c.Error, re+c.RefError, sd+c.Std, rsd+c.RefStd
	}
	if r := lo.Metrics.Reference; math.Abs(e/re-r.ErrorRatioOverall) > 1e-9 || math.Abs(sd/rsd-r.StdRatioOverall) > 1e-9 {
		t.Errorf("case sums give ratios %v, %v; the table %v, %v", e/re, sd/rsd, r.ErrorRatioOverall, r.StdRatioOverall)
	}
	// The cell's converged-case comparison is the same sums over the cases
	// with R̂ < RHatConverged (nil when all or none converged).
	var conv []int
	e, re, sd, rsd = 0, 0, 0, 0
	for _, c := range cases {
		if c.RHat < RHatConverged {
			conv = append(conv, c.Case)
			e, re, sd, rsd = e+c.Error, re+c.RefError, sd+c.Std, rsd+c.RefStd
		}
	}
	t.Logf("reference R̂ per case: converged %v of 3; cell's comparison %+v", conv, lo.Converged)
	switch cc := lo.Converged; {
	case len(conv) == 0 || len(conv) == 3:
		if cc != nil {
			t.Errorf("converged comparison %+v, want none", cc)
		}
	case cc == nil || !slices.Equal(cc.Cases, conv) || cc.Of != 3 || math.Abs(cc.ErrorRatio-e/re) > 1e-9 || math.Abs(cc.StdRatio-sd/rsd) > 1e-9:
		t.Errorf("converged comparison %+v, want cases %v, ratios %v, %v", cc, conv, e/re, sd/rsd)
	case !strings.Contains(res.Markdown(), "whose chains converged"):
		t.Error("the table does not report the converged-case comparison")
	}
	d1, err := flux.Load(DataDir(out, 0.05))
	if err != nil {
		t.Fatal(err)
	}
	d2, err := flux.Load(DataDir(out, 0.2))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d1.Train.Q, d2.Train.Q) || !slices.Equal(d1.Test.ReadingsClean, d2.Test.ReadingsClean) || slices.Equal(d1.Test.ReadingsNoisy, d2.Test.ReadingsNoisy) {
		t.Error("levels should share fluxes and clean readings and differ in noise")
	}
	for _, name := range []string{"fig16-ve-ode-posteriors.png", "fig17-ve-error.png", "fig20-vp-std.png", "nonlinear-calibration-ve.png"} {
		if _, err := os.Stat(filepath.Join(FiguresDir(out), name)); err != nil {
			t.Error(err)
		}
	}

	// Another training length, the reference taken from the first folder.
	p2 := p
	p2.Epochs = 4
	out2 := t.TempDir()
	var log strings.Builder
	res2, err := Run(context.Background(), b, p2, 3, out2, Options{Reference: out, Only: []string{"ve-ode-0.05"}, Log: &log, NoFigures: true})
	if err != nil {
		t.Fatal(err)
	}
	f1, err := ReadPosteriorFile(ExactPath(out, ExactESS, 0.05))
	if err != nil {
		t.Fatal(err)
	}
	f2, err := ReadPosteriorFile(ExactPath(out2, ExactESS, 0.05))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "reference posterior taken from") || f1.Meta.RunID != f2.Meta.RunID || res2.Cell("exact-ess-0.05") == nil {
		t.Errorf("reference not reused:\n%s", log.String())
	}
	// Another ESS setting: computed, not taken.
	p3 := p2
	p3.ESS.Iterations = 60
	log.Reset()
	if _, err := Run(context.Background(), b, p3, 3, t.TempDir(), Options{Reference: out, Only: []string{"ve-ode-0.05"}, Log: &log, NoFigures: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "computing it") {
		t.Errorf("a reference of other settings was taken:\n%s", log.String())
	}

	bad := p
	bad.Fig7Cases = []int{0, 1, 3}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "no reference") {
		t.Errorf("Figure 16 case without reference: %v", err)
	}
	bad = p
	bad.RefLevel = 0.2
	if err := bad.Validate(); err == nil {
		t.Error("fig7 level off the reference level accepted")
	}
}

func cellNames(r *Results) []string {
	var out []string
	for _, c := range r.Cells {
		out = append(out, c.Name)
	}
	return out
}
