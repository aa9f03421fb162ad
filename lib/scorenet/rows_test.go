package scorenet

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/pdediff/pdediff/lib/sample"
	"github.com/pdediff/pdediff/lib/sde"
)

func rowsNet(t *testing.T) *Net {
	t.Helper()
	net, err := New(testBackend(t), Config{XDim: 3, YDim: 2, MaskDim: 2, HiddenLayers: 2, Width: 16}, 5)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// TestScoreRowsEqualTimesIsScore: with every t equal, ScoreRows equals Score
// bit for bit.
func TestScoreRowsEqualTimesIsScore(t *testing.T) {
	net := rowsNet(t)
	rng := rand.New(rand.NewPCG(1, 1))
	const rows = 7
	x, cond := randSlice(rng, rows*3), randSlice(rng, rows*4)
	for _, tt := range []float64{0.001, 0.37, 1} {
		a, b := make([]float64, rows*3), make([]float64, rows*3)
		if err := net.Score(tt, x, rows, cond, a); err != nil {
			t.Fatal(err)
		}
		ts := make([]float64, rows)
		for i := range ts {
			ts[i] = tt
		}
		if err := net.ScoreRows(ts, x, rows, cond, b); err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
				t.Fatalf("t=%v entry %d: ScoreRows %v, Score %v", tt, i, b[i], a[i])
			}
		}
	}
}

// TestScoreRowsPerRowTimes: rows at different times equal separate Score
// calls over the rows of each time to float32 rounding (the backend's float32
// kernels may round a row differently in a batch of another size) and the
// float64 host forward pass.
func TestScoreRowsPerRowTimes(t *testing.T) {
	net := rowsNet(t)
	params, err := net.ParamValues(ParamScope)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	const rows = 9
	x, cond := randSlice(rng, rows*3), randSlice(rng, rows*4)
	times := []float64{0.02, 0.5, 0.93}
	ts := make([]float64, rows)
	for i := range ts {
		ts[i] = times[(i*5)%3]
	}
	got := make([]float64, rows*3)
	if err := net.ScoreRows(ts, x, rows, cond, got); err != nil {
		t.Fatal(err)
	}
	for _, tt := range times {
		var idx []int
		var xs, cs []float64
		for i := range rows {
			if ts[i] == tt {
				idx = append(idx, i)
				xs = append(xs, x[i*3:(i+1)*3]...)
				cs = append(cs, cond[i*4:(i+1)*4]...)
			}
		}
		want := make([]float64, len(xs))
		if err := net.Score(tt, xs, len(idx), cs, want); err != nil {
			t.Fatal(err)
		}
		for r, i := range idx {
			host := hostForward(net.Config(), params, x[i*3:(i+1)*3], cond[i*4:(i+1)*4], tt)
			for j := range 3 {
				g, w := got[i*3+j], want[r*3+j]
				if math.Abs(g-w) > 1e-6*(1+math.Abs(w)) {
					t.Errorf("t=%v row %d comp %d: ScoreRows %v, Score on its rows %v", tt, i, j, g, w)
				}
				if math.Abs(g-host[j]) > 1e-5*(1+math.Abs(host[j])) {
					t.Errorf("t=%v row %d comp %d: ScoreRows %v, host %v", tt, i, j, g, host[j])
				}
			}
		}
	}
}

// TestRowScoreFuncGathersGroups: row i is conditioned on the row of its
// group.
func TestRowScoreFuncGathersGroups(t *testing.T) {
	net := rowsNet(t)
	rng := rand.New(rand.NewPCG(3, 3))
	const k, rows = 3, 6
	cond := randSlice(rng, k*4)
	f, err := net.RowScoreFunc(cond)
	if err != nil {
		t.Fatal(err)
	}
	group := []int{2, 0, 0, 1, 2, 1}
	ts := []float64{0.1, 0.2, 0.2, 0.3, 0.1, 0.9}
	x := randSlice(rng, rows*3)
	got := make([]float64, rows*3)
	if err := f(ts, group, x, rows, 3, got); err != nil {
		t.Fatal(err)
	}
	perRow := make([]float64, 0, rows*4)
	for _, j := range group {
		perRow = append(perRow, cond[j*4:(j+1)*4]...)
	}
	want := make([]float64, rows*3)
	if err := net.ScoreRows(ts, x, rows, perRow, want); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("entry %d: RowScoreFunc %v, ScoreRows with gathered rows %v", i, got[i], want[i])
		}
	}
}

// TestRunGroupsWithNet: sample.RunGroups with the network's RowScoreFunc.
// With one group per call (MaxRows = N) group j equals DoPri5 on its own
// conditioning row bit for bit. Larger chunks agree to float32 rounding only:
// the backend's float32 kernels round a row differently depending on the
// batch size and the row's position in it (measured: ~1e-7 relative per
// score), so bitwise chunk independence holds for row-independent scores
// (exact, float64 host code), not for this network.
func TestRunGroupsWithNet(t *testing.T) {
	net := rowsNet(t)
	p, err := sde.New(sde.ToyConfig("vp"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	const k, n, d = 4, 5, 3
	cond := randSlice(rng, k*4)
	f, err := net.RowScoreFunc(cond)
	if err != nil {
		t.Fatal(err)
	}
	var ref sample.GroupResult
	for i, maxRows := range []int{n, 3 * n, 0} {
		res, err := sample.RunGroups(p, f, sample.Spec{Name: "ode"}, sample.GroupOptions{Groups: k, PerGroup: n, D: d, Seed: 9, MaxRows: maxRows})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			ref = res
			continue
		}
		worst := 0.0
		for j := range res.X {
			worst = math.Max(worst, math.Abs(res.X[j]-ref.X[j])/(1+math.Abs(ref.X[j])))
		}
		if worst > 1e-4 {
			t.Errorf("MaxRows %d: draws differ from one group per call by %g (relative)", maxRows, worst)
		}
		t.Logf("MaxRows %d: largest relative difference to one group per call %.2g, NFE %v vs %v", maxRows, worst, res.NFE, ref.NFE)
	}
	for j := range k {
		sf, err := net.ScoreFunc(cond[j*4 : (j+1)*4])
		if err != nil {
			t.Fatal(err)
		}
		alone, err := sample.DoPri5(p, sf, sample.Options{N: n, D: d, Seed: sample.GroupSeed(9, j)})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range alone.X {
			if ref.X[j*n*d+i] != v || ref.NFE[j] != alone.NFE {
				t.Fatalf("group %d: RunGroups differs from DoPri5 with its conditioning row (entry %d: %v vs %v, NFE %d vs %d)",
					j, i, ref.X[j*n*d+i], v, ref.NFE[j], alone.NFE)
			}
		}
	}
}

func TestScoreRowsRejectsBadInput(t *testing.T) {
	net := rowsNet(t)
	x, out, cond := make([]float64, 6), make([]float64, 6), make([]float64, 8)
	for _, c := range []struct {
		name string
		err  error
		msg  string
	}{
		{"rows", net.ScoreRows(nil, nil, 0, nil, nil), "≥ 1 row"},
		{"t len", net.ScoreRows([]float64{0.5}, x, 2, cond, out), "len(t) = 1"},
		{"t NaN", net.ScoreRows([]float64{0.5, math.NaN()}, x, 2, cond, out), "t[1] = NaN"},
		{"cond", net.ScoreRows([]float64{0.5, 0.5}, x, 2, cond[:4], out), "len(cond) = 4"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.msg) {
			t.Errorf("%s: error %v, want one containing %q", c.name, c.err, c.msg)
		}
	}
	if _, err := net.RowScoreFunc([]float64{1, 2, 3}); err == nil || !strings.Contains(err.Error(), "multiple of cond_dim 4") {
		t.Errorf("ragged cond: %v", err)
	}
	f, err := net.RowScoreFunc(cond) // 2 groups
	if err != nil {
		t.Fatal(err)
	}
	if err := f([]float64{0.5, 0.5}, []int{0, 2}, x, 2, 3, out); err == nil || !strings.Contains(err.Error(), "group 2") {
		t.Errorf("group out of range: %v", err)
	}
	if err := f([]float64{0.5, 0.5}, []int{0, 1}, x, 3, 2, out); err == nil || !strings.Contains(err.Error(), "d = 2") {
		t.Errorf("wrong d: %v", err)
	}
	unc, _ := New(testBackend(t), Config{XDim: 1, Width: 4}, 1)
	if _, err := unc.RowScoreFunc([]float64{1}); err == nil {
		t.Error("unconditional network accepted conditioning")
	}
	g, err := unc.RowScoreFunc(nil)
	if err != nil {
		t.Fatal(err)
	}
	o := make([]float64, 2)
	if err := g([]float64{0.1, 0.9}, []int{5, 7}, []float64{0.3, -0.2}, 2, 1, o); err != nil {
		t.Errorf("unconditional RowScoreFunc: %v", err)
	}
}

// TestScoreRowsFollowsUseEMA: switching to the EMA weights rebuilds the
// per-row graph (ScoreRows equals Score before and after the switch).
func TestScoreRowsFollowsUseEMA(t *testing.T) {
	net := rowsNet(t)
	params, err := net.ParamValues(ParamScope)
	if err != nil {
		t.Fatal(err)
	}
	vars, _ := net.Vars(ParamScope)
	for l := range len(vars) / 2 {
		wn, bn := net.paramPaths(EMAScope, l)
		for i, path := range []string{wn, bn} {
			v := params[2*l+i]
			half := make([]float32, len(v))
			for j := range v {
				half[j] = 0.5 * v[j]
			}
			if _, err := net.Store().CreateVariable(path, tensors.FromFlatDataAndDimensions(half, vars[2*l+i].Shape().Dimensions...)); err != nil {
				t.Fatal(err)
			}
		}
	}
	rng := rand.New(rand.NewPCG(5, 5))
	const rows = 4
	x, cond := randSlice(rng, rows*3), randSlice(rng, rows*4)
	ts := []float64{0.4, 0.4, 0.4, 0.4}
	var before []float64
	for _, ema := range []bool{false, true} {
		if err := net.SetUseEMA(ema); err != nil {
			t.Fatal(err)
		}
		a, b := make([]float64, rows*3), make([]float64, rows*3)
		if err := net.Score(0.4, x, rows, cond, a); err != nil {
			t.Fatal(err)
		}
		if err := net.ScoreRows(ts, x, rows, cond, b); err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("EMA %v entry %d: ScoreRows %v, Score %v", ema, i, b[i], a[i])
			}
		}
		if ema && a[0] == before[0] {
			t.Error("EMA weights gave the raw weights' score")
		}
		before = b
	}
}

// TestNoiseOutputScore: a noise-predicting network (theory eq. 120) returns
// −ε̂/s(t), where ε̂ is the output of the score network with the same
// weights, in Score and per row in ScoreRows; without s(t) it refuses.
func TestNoiseOutputScore(t *testing.T) {
	b := testBackend(t)
	cfg := Config{XDim: 3, YDim: 4, HiddenLayers: 2, Width: 16}
	raw, err := New(b, cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Output = OutputNoise
	noise, err := New(b, cfg, 5) // the initial weights do not depend on Output
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	const rows = 5
	x, cond := randSlice(rng, rows*3), randSlice(rng, rows*4)
	out := make([]float64, rows*3)
	if err := noise.Score(0.5, x, rows, cond, out); err == nil || !strings.Contains(err.Error(), "SetStd") {
		t.Fatalf("noise output without s(t): %v", err)
	}
	std := func(t float64) float64 { return 0.1 + t*t }
	noise.SetStd(std)
	ts := []float64{0.01, 0.2, 0.5, 0.8, 1}
	want := make([]float64, rows*3)
	for i, tt := range ts {
		// Score at one time: every row at tt.
		if err := raw.Score(tt, x, rows, cond, want); err != nil {
			t.Fatal(err)
		}
		if err := noise.Score(tt, x, rows, cond, out); err != nil {
			t.Fatal(err)
		}
		for k := range out {
			if w := -want[k] / std(tt); math.Abs(out[k]-w) > 1e-12*math.Abs(w) {
				t.Fatalf("Score t=%v entry %d: %v, want −ε̂/s = %v", tt, k, out[k], w)
			}
		}
		// ScoreRows: row i at ts[i]; compare row i with the Score above.
		if err := noise.ScoreRows(ts, x, rows, cond, out); err != nil {
			t.Fatal(err)
		}
		for d := range 3 {
			k := i*3 + d
			if w := -want[k] / std(tt); math.Abs(out[k]-w) > 1e-5*(1+math.Abs(w)) {
				t.Fatalf("ScoreRows row %d (t=%v) entry %d: %v, want %v", i, tt, d, out[k], w)
			}
		}
	}
	noise.SetStd(func(float64) float64 { return 0 })
	if err := noise.Score(0.5, x, rows, cond, out); err == nil || !strings.Contains(err.Error(), "s(t)") {
		t.Fatalf("s(t) = 0 accepted: %v", err)
	}
}
