package flux

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// fakeModel is a fixed random linear map readings = G q + 1 (G ≥ 0).
type fakeModel struct{ g []float64 }

func newFake() *fakeModel {
	r := rand.New(rand.NewPCG(99, 1))
	g := make([]float64, N*N)
	for i := range g {
		g[i] = 3 * r.Float64()
	}
	return &fakeModel{g}
}

func (f *fakeModel) Readings(q, out []float64) error {
	for i := 0; i < N; i++ {
		s := 1.0
		for j := 0; j < N; j++ {
			s += f.g[i*N+j] * q[j]
		}
		out[i] = s
	}
	return nil
}

func (f *fakeModel) Describe() map[string]any { return map[string]any{"problem": "fake"} }

type failingModel struct{ after int }

func (f *failingModel) Readings(q, out []float64) error {
	if q[0] > 100 { // never
		return nil
	}
	f.after--
	if f.after < 0 {
		return errors.New("boom")
	}
	for i := range out {
		out[i] = q[i]
	}
	return nil
}
func (f *failingModel) Describe() map[string]any { return nil }

func TestPriorCovarianceMatchesKernel(t *testing.T) {
	for _, kind := range []PriorKind{PriorJoint, PriorIndependent} {
		p, err := NewPrior(PriorOptions{Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		xs, ys := SegmentCentres()
		// Kernel entries: exp(−d²/8), d between 2-D centres; independent: zero across walls.
		k := p.Covariance()
		for _, c := range [][2]int{{0, 1}, {0, 14}, {3, 18}, {20, 29}} {
			i, j := c[0], c[1]
			d2 := (xs[i]-xs[j])*(xs[i]-xs[j]) + (ys[i]-ys[j])*(ys[i]-ys[j])
			want := math.Exp(-d2 / 8)
			if kind == PriorIndependent && (i < 15) != (j < 15) {
				want = 0
			}
			if math.Abs(k.At(i, j)-want) > 1e-15 {
				t.Errorf("%s: k[%d][%d] = %v, want %v", kind, i, j, k.At(i, j), want)
			}
		}
		if math.Abs(xs[0]-7.0/30) > 1e-15 || ys[15] != 2 || math.Abs(xs[29]-7*14.5/15) > 1e-12 {
			t.Errorf("segment centres: %v %v", xs, ys)
		}
		// Empirical covariance of unclipped draws ≈ kernel.
		const n = 20000
		r := rand.New(rand.NewPCG(5, 5))
		draws := make([]float64, n*N)
		for s := 0; s < n; s++ {
			p.SampleGP(r, draws[s*N:(s+1)*N])
		}
		worst := 0.0
		for i := 0; i < N; i++ {
			for j := 0; j <= i; j++ {
				var c float64
				for s := 0; s < n; s++ {
					c += draws[s*N+i] * draws[s*N+j]
				}
				worst = math.Max(worst, math.Abs(c/n-k.At(i, j)))
			}
		}
		if worst > 0.05 {
			t.Errorf("%s: max |empirical cov − kernel| = %v", kind, worst)
		}
	}
}

func TestShiftClipAndPriorDraws(t *testing.T) {
	v := []float64{-3, -2, -1.5, 0, 1}
	ShiftClip(v, 2)
	if !slices.Equal(v, []float64{0, 0, 0.5, 2, 3}) {
		t.Errorf("ShiftClip = %v", v)
	}
	p, _ := NewPrior(PriorOptions{})
	const n = 20000
	q, err := p.Draws(n, 3)
	if err != nil {
		t.Fatal(err)
	}
	// E[max(0, f+2)] = 2Φ(2) + φ(2) = 2.008490; P(q = 0) = Φ(−2) = 0.02275.
	var mean, zeros float64
	for _, v := range q {
		if v < 0 {
			t.Fatalf("negative flux %v", v)
		}
		if v == 0 {
			zeros++
		}
		mean += v
	}
	mean /= float64(len(q))
	zeros /= float64(len(q))
	if math.Abs(mean-2.008490) > 0.03 || math.Abs(zeros-0.02275) > 0.006 {
		t.Errorf("clipped prior: mean %v (want 2.0085), P(0) %v (want 0.0228)", mean, zeros)
	}
	if p.Jitter() <= 0 || p.Jitter() > 1e-2 {
		t.Errorf("jitter %v", p.Jitter())
	}
}

func gen(t *testing.T, opts Options) *Dataset {
	t.Helper()
	ds, err := Generate(context.Background(), newFake(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestNoiseMaskScaling(t *testing.T) {
	ds := gen(t, Options{NTrain: 4000, NTest: 500, NoiseLevel: 0.1, Masks: true, Seed: 8, Workers: 2})
	tr := ds.Train
	// Noise scale: RMS of the per-sensor std of clean training readings.
	var acc float64
	for j := 0; j < N; j++ {
		col := make([]float64, tr.N)
		for i := range col {
			col[i] = tr.ReadingsClean[i*N+j]
		}
		var m, s2 float64
		for _, v := range col {
			m += v
		}
		m /= float64(len(col))
		for _, v := range col {
			s2 += (v - m) * (v - m)
		}
		acc += s2 / float64(len(col))
	}
	scale := math.Sqrt(acc / N)
	if math.Abs(ds.Meta.ReadingScale-scale) > 1e-9*scale || math.Abs(ds.Meta.NoiseStd-0.1*scale) > 1e-9*scale {
		t.Errorf("reading scale %v noise std %v, want %v and %v", ds.Meta.ReadingScale, ds.Meta.NoiseStd, scale, 0.1*scale)
	}
	var r2 float64
	for k := range tr.ReadingsNoisy {
		d := tr.ReadingsNoisy[k] - tr.ReadingsClean[k]
		r2 += d * d
	}
	if got := math.Sqrt(r2 / float64(len(tr.ReadingsNoisy))); math.Abs(got/ds.Meta.NoiseStd-1) > 0.02 {
		t.Errorf("empirical noise std %v, want %v", got, ds.Meta.NoiseStd)
	}
	// Masks: rate ≈ 0.7, off sensors read exactly −1, on sensors the scaled noisy reading.
	on := 0.0
	for k, m := range tr.Mask {
		s := 2*(tr.ReadingsNoisy[k]-ds.Meta.Scaling.Readings.Min[k%N])/(ds.Meta.Scaling.Readings.Max[k%N]-ds.Meta.Scaling.Readings.Min[k%N]) - 1
		switch m {
		case 1:
			on++
			if math.Abs(tr.Readings[k]-s) > 1e-12 {
				t.Fatalf("on sensor %d: reading %v, want %v", k, tr.Readings[k], s)
			}
		case 0:
			if tr.Readings[k] != -1 {
				t.Fatalf("off sensor %d reads %v, want -1", k, tr.Readings[k])
			}
		default:
			t.Fatalf("mask value %v", m)
		}
	}
	if rate := on / float64(len(tr.Mask)); math.Abs(rate-0.7) > 0.01 {
		t.Errorf("mask on-rate %v, want 0.7", rate)
	}
	// Scaling: train q_scaled spans exactly [−1, 1] per feature; round trip.
	for j := 0; j < N; j++ {
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := 0; i < tr.N; i++ {
			lo, hi = math.Min(lo, tr.QScaled[i*N+j]), math.Max(hi, tr.QScaled[i*N+j])
		}
		if math.Abs(lo+1) > 1e-12 || math.Abs(hi-1) > 1e-12 {
			t.Errorf("q_scaled feature %d spans [%v, %v]", j, lo, hi)
		}
	}
	back := make([]float64, len(ds.Test.QScaled))
	if err := ds.Meta.Scaling.Q.Invert(ds.Test.QScaled, back); err != nil {
		t.Fatal(err)
	}
	for k := range back {
		if math.Abs(back[k]-ds.Test.Q[k]) > 1e-12*(1+math.Abs(ds.Test.Q[k])) {
			t.Fatalf("round trip %v → %v", ds.Test.Q[k], back[k])
		}
	}
	// Without masks every sensor is on.
	ds2 := gen(t, Options{NTrain: 10, NTest: 2, Seed: 1})
	if slices.Min(ds2.Train.Mask) != 1 || ds2.Meta.NoiseStd != 0 || !slices.Equal(ds2.Train.ReadingsNoisy, ds2.Train.ReadingsClean) {
		t.Error("no-mask, zero-noise data set is not clean and unmasked")
	}
}

func TestMinMax(t *testing.T) {
	m, err := FitMinMax([]float64{0, 5, 10, 5, 4, 5}, 2)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, 4)
	if err := m.Apply([]float64{5, 5, 0, 7}, out); err != nil {
		t.Fatal(err)
	}
	// Feature 0 on [0, 10]; feature 1 constant 5 → 0.
	if !slices.Equal(out, []float64{0, 0, -1, 0}) {
		t.Errorf("Apply = %v", out)
	}
	if _, err := FitMinMax([]float64{1, math.NaN()}, 2); err == nil {
		t.Error("NaN fit: no error")
	}
	if _, err := FitMinMax([]float64{1, 2, 3}, 2); err == nil {
		t.Error("ragged fit: no error")
	}
	if err := m.Apply([]float64{1, 2, 3}, make([]float64, 3)); err == nil {
		t.Error("ragged apply: no error")
	}
}

func TestDeterminismAndWorkers(t *testing.T) {
	a := gen(t, Options{NTrain: 50, NTest: 10, NoiseLevel: 0.05, Masks: true, Seed: 4, Workers: 1})
	b := gen(t, Options{NTrain: 50, NTest: 10, NoiseLevel: 0.05, Masks: true, Seed: 4, Workers: 2})
	c := gen(t, Options{NTrain: 50, NTest: 10, NoiseLevel: 0.05, Masks: true, Seed: 5, Workers: 2})
	if !slices.Equal(a.Train.Readings, b.Train.Readings) || !slices.Equal(a.Test.Q, b.Test.Q) || !slices.Equal(a.Test.Mask, b.Test.Mask) {
		t.Error("same seed, different workers: different data")
	}
	if slices.Equal(a.Train.Q, c.Train.Q) {
		t.Error("different seeds: same flux")
	}
	// Prior draws of Generate equal Prior.Draws with the same seed.
	p, _ := NewPrior(PriorOptions{})
	q, _ := p.Draws(60, 4)
	if !slices.Equal(q[:50*N], a.Train.Q) || !slices.Equal(q[50*N:], a.Test.Q) {
		t.Error("Generate's flux differs from Prior.Draws")
	}
}

func TestSaveLoad(t *testing.T) {
	ds := gen(t, Options{NTrain: 20, NTest: 5, NoiseLevel: 0.02, Masks: true, Seed: 2})
	dir := t.TempDir()
	if err := Save(dir, ds); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Train.Readings, ds.Train.Readings) || !slices.Equal(got.Test.QScaled, ds.Test.QScaled) ||
		got.Meta.NoiseStd != ds.Meta.NoiseStd || !slices.Equal(got.Meta.Scaling.Q.Max, ds.Meta.Scaling.Q.Max) ||
		got.Meta.Version == "" || got.Meta.Problem != "fake" {
		t.Error("Load(Save(ds)) differs")
	}
}

func ones(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

// TestFixedMask checks that a fixed mask is every sample's mask and that the
// fluxes, noisy readings, noise std and scaling are those of the Bernoulli
// masks of the same seed (only the masks and the off readings differ).
func TestFixedMask(t *testing.T) {
	fixed := ones(N)
	for _, s := range []int{2, 5, 8, 17, 29} {
		fixed[s] = 0
	}
	a := gen(t, Options{NTrain: 300, NTest: 40, NoiseLevel: 0.05, Masks: true, Seed: 4, Workers: 2})
	b := gen(t, Options{NTrain: 300, NTest: 40, NoiseLevel: 0.05, Masks: true, FixedMask: fixed, Seed: 4, Workers: 2})
	if !slices.Equal(a.Train.Q, b.Train.Q) || !slices.Equal(a.Test.ReadingsNoisy, b.Test.ReadingsNoisy) ||
		a.Meta.NoiseStd != b.Meta.NoiseStd || !reflect.DeepEqual(a.Meta.Scaling, b.Meta.Scaling) {
		t.Fatal("a fixed mask changed the fluxes, readings, noise std or scaling")
	}
	if !slices.Equal(b.Meta.FixedMask, fixed) || a.Meta.FixedMask != nil {
		t.Errorf("meta fixed mask %v (Bernoulli: %v)", b.Meta.FixedMask, a.Meta.FixedMask)
	}
	for _, sp := range []Split{b.Train, b.Test} {
		for i := 0; i < sp.N; i++ {
			for j := 0; j < N; j++ {
				k := i*N + j
				if sp.Mask[k] != fixed[j] {
					t.Fatalf("sample %d sensor %d: mask %v, want %v", i, j, sp.Mask[k], fixed[j])
				}
				if fixed[j] == 0 && sp.Readings[k] != DefaultOffValue {
					t.Fatalf("sample %d sensor %d is off but reads %v", i, j, sp.Readings[k])
				}
			}
		}
	}
	if slices.Equal(a.Train.Mask, b.Train.Mask) {
		t.Error("Bernoulli masks equal the fixed ones")
	}
}

func TestBadOptions(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"n-train 1", Options{NTrain: 1, NTest: 1}},
		{"n-test 0", Options{NTrain: 5, NTest: 0}},
		{"negative noise", Options{NTrain: 5, NTest: 1, NoiseLevel: -0.1}},
		{"NaN noise", Options{NTrain: 5, NTest: 1, NoiseLevel: nan}},
		{"mask prob 1.5", Options{NTrain: 5, NTest: 1, MaskProb: 1.5}},
		{"NaN off value", Options{NTrain: 5, NTest: 1, OffValue: &nan}},
		{"unknown prior", Options{NTrain: 5, NTest: 1, Prior: PriorOptions{Kind: "banana"}}},
		{"negative length", Options{NTrain: 5, NTest: 1, Prior: PriorOptions{LengthScale: -1}}},
		{"negative workers", Options{NTrain: 5, NTest: 1, Workers: -1}},
		{"fixed mask without masks", Options{NTrain: 5, NTest: 1, FixedMask: ones(N)}},
		{"fixed mask of 29", Options{NTrain: 5, NTest: 1, Masks: true, FixedMask: ones(N - 1)}},
		{"fixed mask with a 2", Options{NTrain: 5, NTest: 1, Masks: true, FixedMask: append(ones(N-1), 2)}},
		{"fixed mask all off", Options{NTrain: 5, NTest: 1, Masks: true, FixedMask: make([]float64, N)}},
	} {
		if _, err := Generate(context.Background(), newFake(), tc.opts); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if _, err := Generate(context.Background(), &failingModel{after: 3}, Options{NTrain: 5, NTest: 1, Workers: 2}); err == nil {
		t.Error("failing model: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, newFake(), Options{NTrain: 5, NTest: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err %v", err)
	}
}
