package fluxinv

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/datasets/flux"
	"github.com/pdediff/pdediff/lib/physics"
	"github.com/pdediff/pdediff/lib/posterior"
	"github.com/pdediff/pdediff/lib/sample"
)

// genData draws a data set of the default linear model.
func genData(t *testing.T, nTrain, nTest int, level float64, masks bool, seed uint64) *flux.Dataset {
	t.Helper()
	cfg, err := physics.DefaultConfig(physics.ProblemLinear)
	if err != nil {
		t.Fatal(err)
	}
	m, err := physics.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := flux.Generate(context.Background(), m, flux.Options{NTrain: nTrain, NTest: nTest, NoiseLevel: level, Masks: masks, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func mustInfo(t *testing.T, ds *flux.Dataset) Info {
	t.Helper()
	in, err := InfoFromMeta(ds.Meta)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestConditioningMatchesTheDataSet(t *testing.T) {
	for _, masks := range []bool{false, true} {
		ds := genData(t, 300, 6, 0.05, masks, 2)
		in := mustInfo(t, ds)
		if in.Masks != masks || in.CondDim() != map[bool]int{false: 30, true: 60}[masks] || in.Physics.NX != 170 || in.NoiseStd != ds.Meta.NoiseStd {
			t.Fatalf("info %+v", in)
		}
		// Physical readings, with NaN at the off sensors of a masked set.
		y := append([]float64(nil), ds.Test.ReadingsNoisy...)
		if masks {
			for i, m := range ds.Test.Mask {
				if m == 0 {
					y[i] = math.NaN()
				}
			}
		}
		obs, err := NewObservations(in, y, nil)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := in.Conditioning(obs)
		if err != nil {
			t.Fatal(err)
		}
		want := TrainData(&flux.Dataset{Meta: ds.Meta, Train: ds.Test}).Cond // the test split as the network sees it
		for j, r := range rows {
			for s, v := range r {
				if math.Abs(v-want[j*in.CondDim()+s]) > 1e-12 {
					t.Fatalf("masks %v: conditioning[%d][%d] = %v, data set %v", masks, j, s, v, want[j*in.CondDim()+s])
				}
			}
		}
	}
}

func TestObservationsRefuseBadReadings(t *testing.T) {
	plain := mustInfo(t, genData(t, 50, 2, 0.05, false, 1))
	masked := plain
	masked.Masks = true
	y := make([]float64, 2*D)
	nan := append([]float64(nil), y...)
	nan[D+17] = math.NaN() // observation 1, top sensor 3
	for _, c := range []struct {
		name string
		in   Info
		y    []float64
		mask []float64
		want string
	}{
		{"k = 0", plain, nil, nil, "k = 0"},
		{"ragged", plain, y[:D+3], nil, "rows of 30"},
		{"NaN without masks", plain, nan, nil, "reading[1, 17] (top sensor 3) is NaN"},
		{"Inf", masked, append(append([]float64(nil), y[:5]...), append([]float64{math.Inf(1)}, y[6:]...)...), nil, "infinite"},
		{"mask for a plain model", plain, y, make([]float64, 2*D), "without masks"},
		{"mask values", masked, y, append(make([]float64, 2*D-1), 0.5), "want 0 or 1"},
		{"NaN on an on sensor", masked, nan, onesMask(2), "mask says the sensor is on"},
		{"mask rows", masked, y, onesMask(1), "mask has 30 values"},
	} {
		if _, err := NewObservations(c.in, c.y, c.mask); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	// A masked model takes the mask from the NaNs.
	obs, err := NewObservations(masked, nan, nil)
	if err != nil || obs.Mask[D+17] != 0 || obs.Mask[D+16] != 1 || obs.Mask[3] != 1 {
		t.Errorf("mask from NaN: %v, %v", obs.Mask, err)
	}
}

func onesMask(k int) []float64 {
	m := make([]float64, k*D)
	for i := range m {
		m[i] = 1
	}
	return m
}

// TestSamplePosteriorExactScoreReproducesGaussian checks the sampling path
// (per-observation sampler calls, seeds, inverse scaling) without a network:
// with the exact score of the scaled Gaussian posterior the VP ODE sampler
// reproduces the posterior mean and std.
func TestSamplePosteriorExactScoreReproducesGaussian(t *testing.T) {
	ds := genData(t, 2000, 3, 0.05, false, 1)
	in := mustInfo(t, ds)
	g, err := ResponseMatrix(in)
	if err != nil {
		t.Fatal(err)
	}
	pr, _ := flux.NewPrior(in.Prior)
	lin, _ := posterior.FluxLinear(g, in.NoiseStd, nil)
	lg, err := posterior.NewLinearGaussian(posterior.FluxPrior(pr), lin)
	if err != nil {
		t.Fatal(err)
	}
	obs, _ := NewObservations(in, ds.Test.ReadingsNoisy, nil)
	pc, _ := ProcessConfig("vp", 1)
	proc, _ := newProc(pc)
	scoreOf := func(j int) (sample.ScoreFunc, error) {
		mu, err := lg.Mean(obs.Readings[j*D : (j+1)*D])
		return gaussScore(proc, in.Scaling.Q, mu, lg.Cov()), err
	}
	n := 400
	post, err := sampleScores(context.Background(), proc, in.Scaling.Q, obs.K, sample.SplitRows(func(j int) sample.ScoreFunc { f, _ := scoreOf(j); return f }), n, sample.Spec{Name: "ode", Rtol: 1e-4, Atol: 1e-4}, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	var bias, std float64
	for j := 0; j < obs.K; j++ {
		mu, _ := lg.Mean(obs.Readings[j*D : (j+1)*D])
		for s := 0; s < D; s++ {
			bias = math.Max(bias, math.Abs(post.Mean[j*D+s]-mu[s])/lg.Std()[s])
			std += post.Std[j*D+s] / lg.Std()[s] / float64(obs.K*D)
		}
	}
	t.Logf("VP ODE with the exact score: largest |mean − exact| = %.3f exact std; mean std ratio %.4f; NFE %v", bias, std, post.NFE)
	// 400 draws: the sample mean's own std is 0.05 exact stds; the largest of 90 stays below 0.25.
	if bias > 0.25 || math.Abs(std-1) > 0.05 {
		t.Errorf("largest mean bias %.3f std (want ≤ 0.25), std ratio %.4f (want 1 ± 0.05)", bias, std)
	}
}

func TestExactGaussAndESS(t *testing.T) {
	ds := genData(t, 2000, 4, 0.05, false, 5)
	in := mustInfo(t, ds)
	g, err := ResponseMatrix(in)
	if err != nil {
		t.Fatal(err)
	}
	obs, _ := NewObservations(in, ds.Test.ReadingsNoisy, nil)
	ctx := context.Background()
	gauss, err := Exact(ctx, in, g, obs, 2000, ExactGauss, DefaultESS(), 1)
	if err != nil {
		t.Fatal(err)
	}
	// Gaussian draws: sample moments agree with the analytic Mean and Std.
	gauss2 := *gauss
	gauss2.sampleMoments()
	for i := range gauss.Mean {
		if d := math.Abs(gauss2.Mean[i] - gauss.Mean[i]); d > 4*gauss.Std[i]/math.Sqrt(2000) {
			t.Fatalf("gauss draw mean %d off by %v (std %v)", i, d, gauss.Std[i])
		}
	}
	ess, err := Exact(ctx, in, g, obs, 400, ExactESS, DefaultESS(), 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ESS split-R̂ per case %.4f, log-likelihood evaluations %v", ess.RHat, ess.NFE)
	for j, r := range ess.RHat {
		if r > 1.05 {
			t.Errorf("case %d: split-R̂ %.4f > 1.05", j, r)
		}
	}
	for _, v := range ess.Q {
		if v < 0 {
			t.Fatalf("ESS draw %v < 0 under the clipped prior", v)
		}
	}
	// Reproducible, and independent of the number of workers (one per case).
	again, _ := Exact(ctx, in, g, obs, 400, ExactESS, DefaultESS(), 1)
	for i := range ess.Q {
		if again.Q[i] != ess.Q[i] {
			t.Fatal("ESS with the same seed gave other draws")
		}
	}
	// ESS needs noise; the exact posterior needs the linear problem.
	quiet := in
	quiet.NoiseStd, quiet.NoiseLevel = 0, 0
	if _, err := Exact(ctx, quiet, g, obs, 10, ExactESS, DefaultESS(), 1); err == nil || !strings.Contains(err.Error(), "noise > 0") {
		t.Errorf("ESS at zero noise: err = %v", err)
	}
	z, err := Exact(ctx, quiet, g, obs, 10, ExactGauss, DefaultESS(), 1)
	if err != nil {
		t.Fatalf("Gaussian posterior at zero noise: %v", err)
	}
	if m := meanAbs(z.Std); m > 0.05 {
		t.Errorf("zero-noise exact std %.4f, want ≈ 0", m)
	}
	nl := in
	nl.Problem = physics.ProblemNonlinear
	if _, err := Exact(ctx, nl, g, obs, 10, ExactGauss, DefaultESS(), 1); err == nil || !strings.Contains(err.Error(), "linear problem only") {
		t.Errorf("nonlinear: err = %v", err)
	}
}

func TestSelectCellsAndPresets(t *testing.T) {
	for _, p := range Presets() {
		if err := p.Validate(); err != nil {
			t.Errorf("preset %s: %v", p.Name, err)
		}
	}
	p, _ := PresetFor("quick")
	all, _ := SelectCells(p, nil)
	if len(all) != len(p.Levels)*4 {
		t.Errorf("%d cells, want %d", len(all), len(p.Levels)*4)
	}
	ode, err := SelectCells(p, []string{"*-ode-*"})
	if err != nil || len(ode) != 2*len(p.Levels) {
		t.Errorf("*-ode-*: %v, %v", ode, err)
	}
	one, err := SelectCells(p, []string{Cell{Level: p.Levels[0], Process: "ve", Sampler: "sde"}.Name()})
	if err != nil || len(one) != 1 || one[0].Sampler != "sde" {
		t.Errorf("one cell: %v, %v", one, err)
	}
	if _, err := SelectCells(p, []string{"ve-ode-0.123"}); err == nil || !strings.Contains(err.Error(), "matches none") {
		t.Errorf("unknown cell: err = %v", err)
	}
	if _, err := PresetFor("huge"); err == nil {
		t.Error("unknown preset accepted")
	}
}

// TestMaskedModelEndToEnd runs the masked path (theory §6.6) on a tiny model:
// training rows with the mask, NaN readings as off sensors, sampling, and the
// exact posterior per mask. The numbers mean nothing.
func TestMaskedModelEndToEnd(t *testing.T) {
	ds := genData(t, 200, 3, 0.1, true, 4)
	b := sharedBackend(t)
	pc, _ := ProcessConfig("vp", 1)
	m, _, err := Train(context.Background(), b, ds, pc, TrainSettings{Epochs: 2, BatchSize: 100, LR: 1e-3, HiddenLayers: 1, Width: 8}, 1, filepath.Join(t.TempDir(), "m"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Data.MaskDim != D || m.Data.Name != "flux/linear-masked" || !m.Info.Masks {
		t.Fatalf("masked model data %+v", m.Data)
	}
	y := append([]float64(nil), ds.Test.ReadingsNoisy...)
	off := 0
	for i, v := range ds.Test.Mask {
		if v == 0 {
			y[i] = math.NaN()
			off++
		}
	}
	if off == 0 {
		t.Fatal("no off sensor in the test masks")
	}
	obs, err := NewObservations(m.Info, y, nil)
	if err != nil {
		t.Fatal(err)
	}
	cond, _ := m.Info.Conditioning(obs)
	post, err := SamplePosterior(context.Background(), m, cond, 10, sample.Spec{Name: "sde", Steps: 5}, 1, nil)
	if err != nil || post.K != 3 {
		t.Fatalf("sampling a masked model: %v", err)
	}
	// The same readings with an explicit mask (finite values at the off
	// sensors) give the same draws, bit for bit.
	obs2, err := NewObservations(m.Info, ds.Test.ReadingsNoisy, ds.Test.Mask)
	if err != nil {
		t.Fatal(err)
	}
	cond2, _ := m.Info.Conditioning(obs2)
	post2, err := SamplePosterior(context.Background(), m, cond2, 10, sample.Spec{Name: "sde", Steps: 5}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range post.Q {
		if math.Float64bits(post.Q[i]) != math.Float64bits(post2.Q[i]) {
			t.Fatalf("draw %d: NaN readings %v, explicit mask %v", i, post.Q[i], post2.Q[i])
		}
	}
	g, _ := ResponseMatrix(m.Info)
	ex, err := Exact(context.Background(), m.Info, g, obs, 10, ExactGauss, DefaultESS(), 1)
	if err != nil {
		t.Fatal(err)
	}
	// Each case's posterior uses its own mask: with fewer sensors on, a wider posterior than with all on.
	all := obs
	all.Mask = onesMask(3)
	all.Readings = ds.Test.ReadingsNoisy
	full, err := Exact(context.Background(), m.Info, g, all, 10, ExactGauss, DefaultESS(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !(meanAbs(ex.Std) > meanAbs(full.Std)) {
		t.Errorf("masked exact std %.4f not above the all-on std %.4f", meanAbs(ex.Std), meanAbs(full.Std))
	}
}

// TestMaskResampler checks the conditioning TrainSettings.MaskResample
// draws: the mask law is Bernoulli(MaskProb) per sensor, an on sensor reads
// the pair's scaled noisy reading (the data set's own conditioning where its
// mask is on too), an off sensor the off value; data without drawn masks are
// refused.
func TestMaskResampler(t *testing.T) {
	ds := genData(t, 200, 5, 0.05, true, 3)
	aug, err := MaskResampler(ds)
	if err != nil {
		t.Fatal(err)
	}
	base := TrainData(ds).Cond
	rng := rand.New(rand.NewPCG(1, 2))
	cond := make([]float64, 2*D)
	on, total, agree := 0, 0, 0
	for r := 0; r < ds.Train.N; r++ {
		for range 5 {
			aug(rng, r, cond)
			for j := 0; j < D; j++ {
				total++
				switch cond[D+j] {
				case 1:
					on++
					if ds.Train.Mask[r*D+j] == 1 {
						agree++
						if cond[j] != base[r*2*D+j] {
							t.Fatalf("row %d sensor %d: resampled on-reading %v, data set's %v", r, j, cond[j], base[r*2*D+j])
						}
					}
					if cond[j] < -1-1e-9 || cond[j] > 1+1e-9 {
						t.Fatalf("row %d sensor %d: scaled reading %v outside the training range", r, j, cond[j])
					}
				case 0:
					if cond[j] != ds.Meta.OffValue {
						t.Fatalf("row %d sensor %d: off sensor reads %v, want the off value %v", r, j, cond[j], ds.Meta.OffValue)
					}
				default:
					t.Fatalf("row %d: mask value %v", r, cond[D+j])
				}
			}
		}
	}
	// 30,000 Bernoulli(0.7) draws: std of the fraction 0.0026.
	if f := float64(on) / float64(total); math.Abs(f-ds.Meta.MaskProb) > 0.012 {
		t.Errorf("fraction on %.4f, want %v", f, ds.Meta.MaskProb)
	}
	if agree == 0 {
		t.Error("no resampled on-sensor was on in the data set's mask")
	}
	for _, c := range []struct {
		name string
		ds   *flux.Dataset
		want string
	}{
		{"plain", genData(t, 20, 2, 0.05, false, 3), "needs a masked data set"},
		{"fixed", func() *flux.Dataset { d := genData(t, 20, 2, 0.05, true, 3); d.Meta.FixedMask = onesMask(1); return d }(), "one fixed mask"},
		{"nil", nil, "no data set"},
	} {
		if _, err := MaskResampler(c.ds); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
