package sample_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pdediff/pdediff/lib/analytic"
	"github.com/pdediff/pdediff/lib/sample"
	"github.com/pdediff/pdediff/lib/sde"
)

// groupData returns k data laws of dimension d of very different difficulty:
// Gaussians N(μ_j, s_j²) with s_j from 0.01 (a stiff PF-ODE near t = 0) to 2,
// and every fourth one a bimodal mixture. Group j's conditional score is the
// exact score of its law under the process.
func groupData(t testing.TB, k, d int) []analytic.Mixture {
	t.Helper()
	out := make([]analytic.Mixture, k)
	for j := range out {
		mu, sd := make([]float64, d), make([]float64, d)
		s := 0.01 * math.Pow(200, float64(j%5)/4) // 0.01 … 2
		for i := range d {
			mu[i] = -3 + 6*float64((j*7+i*3)%11)/10
			sd[i] = s * (1 + 0.1*float64(i))
		}
		var m analytic.Mixture
		var err error
		if j%4 == 3 {
			mu2 := make([]float64, d)
			for i := range mu2 {
				mu2[i] = mu[i] + 2
			}
			m, err = analytic.NewMixture([]float64{0.3, 0.7}, [][]float64{mu, mu2}, [][]float64{sd, sd})
		} else {
			m, err = analytic.NewGaussian(mu, sd)
		}
		if err != nil {
			t.Fatal(err)
		}
		out[j] = m
	}
	return out
}

// groupScore is the exact per-group score as a RowScoreFunc, counting calls.
func groupScore(p sde.Process, data []analytic.Mixture, calls *atomic.Int64) sample.RowScoreFunc {
	f := make([]sample.ScoreFunc, len(data))
	for j, m := range data {
		f[j] = m.ScoreFunc(p)
	}
	rs := sample.SplitRows(func(j int) sample.ScoreFunc { return f[j] })
	return func(t []float64, group []int, x []float64, n, d int, out []float64) error {
		if calls != nil {
			calls.Add(1)
		}
		return rs(t, group, x, n, d, out)
	}
}

// single runs group j alone with the registered sampler and its stream.
func single(t *testing.T, p sde.Process, m analytic.Mixture, spec sample.Spec, n, d int, seed uint64, j int) sample.Result {
	t.Helper()
	r, err := spec.Run(p, m.ScoreFunc(p), sample.Options{N: n, D: d, Seed: sample.GroupSeed(seed, j)})
	if err != nil {
		t.Fatalf("%s group %d alone: %v", spec.Name, j, err)
	}
	return r
}

func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// TestRunGroupsDoPri5MatchesSingleRuns: every group keeps its own step-size
// controller: its draws, NFE, accepted and rejected steps equal DoPri5 run on
// that group alone (bit for bit), while the groups' step counts differ.
func TestRunGroupsDoPri5MatchesSingleRuns(t *testing.T) {
	const k, n, d, seed = 10, 40, 3, 7
	for _, c := range []sde.Config{sde.ToyConfig("vp"), sde.ToyConfig("ve")} {
		p := mustProc(t, c)
		data := groupData(t, k, d)
		spec := sample.Spec{Name: "ode"}
		var calls atomic.Int64
		res, err := sample.RunGroups(p, groupScore(p, data, &calls), spec, sample.GroupOptions{Groups: k, PerGroup: n, D: d, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		minNFE, maxNFE := math.MaxInt, 0
		for j := range k {
			want := single(t, p, data[j], spec, n, d, seed, j)
			got := res.Group(j)
			if !sameBits(got, want.X) {
				t.Errorf("%s group %d: draws differ from DoPri5 alone by %g", c.Process, j, maxAbsDiff(got, want.X))
			}
			if res.NFE[j] != want.NFE || res.Steps[j] != want.Steps || res.Rejected[j] != want.Rejected {
				t.Errorf("%s group %d: NFE/steps/rejected %d/%d/%d, alone %d/%d/%d", c.Process, j,
					res.NFE[j], res.Steps[j], res.Rejected[j], want.NFE, want.Steps, want.Rejected)
			}
			minNFE, maxNFE = min(minNFE, want.NFE), max(maxNFE, want.NFE)
		}
		if maxNFE < minNFE+20 {
			t.Errorf("%s: NFE range %d..%d: the groups should differ in difficulty", c.Process, minNFE, maxNFE)
		}
		// All groups are active in one chunk: one call per round, as many
		// rounds as the hardest group's evaluations.
		if res.Calls != maxNFE || int64(res.Calls) != calls.Load() || res.MaxBatch != k*n || res.TFinal != sample.DefaultEps {
			t.Errorf("%s: %d calls (%d counted), max batch %d, TFinal %v; want %d calls, batch %d", c.Process,
				res.Calls, calls.Load(), res.MaxBatch, res.TFinal, maxNFE, k*n)
		}
		var rows int64
		for _, v := range res.NFE {
			rows += int64(v * n)
		}
		if res.Rows != rows {
			t.Errorf("%s: %d rows evaluated, want Σ NFE·N = %d", c.Process, res.Rows, rows)
		}
		t.Logf("%s: NFE per group %v, %d calls", c.Process, res.NFE, res.Calls)
	}
}

// TestRunGroupsChunkIndependence: MaxRows = N (one group per call), 3N, 3N+1,
// and all rows give bit-identical draws, for every registered sampler; the
// first groups of a larger run equal a smaller run (streams keyed by (seed, j)).
func TestRunGroupsChunkIndependence(t *testing.T) {
	const k, n, d, seed = 8, 20, 2, 3
	p := mustProc(t, family(2, sde.VariantPower))
	data := groupData(t, k, d)
	for _, info := range sample.Samplers() {
		spec := sample.Spec{Name: info.Name}
		if !info.Adaptive {
			spec.Steps = 40
		}
		if info.TakesAlpha {
			spec.Alpha = 0.5
		}
		var ref sample.GroupResult
		for i, maxRows := range []int{0, n, 3 * n, 3*n + 1, k * n} {
			res, err := sample.RunGroups(p, groupScore(p, data, nil), spec, sample.GroupOptions{Groups: k, PerGroup: n, D: d, Seed: seed, MaxRows: maxRows})
			if err != nil {
				t.Fatalf("%s MaxRows %d: %v", info.Name, maxRows, err)
			}
			if maxRows > 0 && res.MaxBatch > maxRows {
				t.Errorf("%s MaxRows %d: a call had %d rows", info.Name, maxRows, res.MaxBatch)
			}
			if i == 0 {
				ref = res
				continue
			}
			if !sameBits(res.X, ref.X) {
				t.Errorf("%s MaxRows %d: draws differ from the one-chunk run by %g", info.Name, maxRows, maxAbsDiff(res.X, ref.X))
			}
			for j := range k {
				if res.NFE[j] != ref.NFE[j] || res.Steps[j] != ref.Steps[j] || res.Rejected[j] != ref.Rejected[j] {
					t.Errorf("%s MaxRows %d group %d: counts differ", info.Name, maxRows, j)
				}
			}
			if maxRows == n && res.Calls != sum(res.NFE) {
				t.Errorf("%s MaxRows = N: %d calls, want Σ NFE = %d", info.Name, res.Calls, sum(res.NFE))
			}
		}
		fewer, err := sample.RunGroups(p, groupScore(p, data, nil), spec, sample.GroupOptions{Groups: k - 3, PerGroup: n, D: d, Seed: seed, MaxRows: 2 * n})
		if err != nil {
			t.Fatal(err)
		}
		if !sameBits(fewer.X, ref.X[:(k-3)*n*d]) {
			t.Errorf("%s: the first %d groups of %d differ from a run of %d groups", info.Name, k-3, k, k-3)
		}
	}
}

func sum(v []int) int {
	s := 0
	for _, x := range v {
		s += x
	}
	return s
}

// TestRunGroupsFixedStepMatchesSingleRuns: the fixed-step samplers (sde, em,
// euler, heun, rk4, and a user grid) equal their single runs with the stream
// GroupSeed(seed, j), bit for bit.
func TestRunGroupsFixedStepMatchesSingleRuns(t *testing.T) {
	const k, n, d, seed = 6, 15, 2, 11
	p := mustProc(t, sde.ToyConfig("vp"))
	data := groupData(t, k, d)
	for _, spec := range []sample.Spec{
		{Name: "sde", Steps: 30}, {Name: "em", Alpha: 0.3, Steps: 25}, {Name: "euler", Steps: 30},
		{Name: "heun", Steps: 20}, {Name: "rk4", Steps: 10}, {Name: "heun", Times: []float64{1, 0.5, 0.2, 0.05, 0.01}},
	} {
		res, err := sample.RunGroups(p, groupScore(p, data, nil), spec, sample.GroupOptions{Groups: k, PerGroup: n, D: d, Seed: seed, MaxRows: 2 * n})
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		for j := range k {
			want := single(t, p, data[j], spec, n, d, seed, j)
			if !sameBits(res.X[j*n*d:(j+1)*n*d], want.X) || res.NFE[j] != want.NFE || res.Steps[j] != want.Steps {
				t.Errorf("%s group %d: differs from the run alone (max %g, NFE %d/%d)", spec, j,
					maxAbsDiff(res.X[j*n*d:(j+1)*n*d], want.X), res.NFE[j], want.NFE)
			}
		}
		if res.TFinal != finalTime(spec) {
			t.Errorf("%s: TFinal %v", spec, res.TFinal)
		}
	}
}

func finalTime(s sample.Spec) float64 {
	if s.Times != nil {
		return s.Times[len(s.Times)-1]
	}
	return sample.DefaultEps
}

// TestRunGroupsAccuracy: each group's sample mean and standard deviation
// match its exact marginal at eps (theory eqs. 29, 34) within Monte-Carlo
// error, for the PF-ODE (DoPri5) and the reverse SDE (1000 steps), groups
// processed in chunks of 2.
func TestRunGroupsAccuracy(t *testing.T) {
	const k, n, d, seed = 5, 2000, 1, 5
	p := mustProc(t, sde.ToyConfig("vp"))
	data := make([]analytic.Mixture, k)
	for j := range k {
		mu, sd := -2+float64(j), 0.2+0.4*float64(j)
		if j == 4 {
			m, err := analytic.NewMixture([]float64{0.3, 0.7}, [][]float64{{-1.5}, {1.5}}, [][]float64{{0.3}, {0.5}})
			if err != nil {
				t.Fatal(err)
			}
			data[j] = m
			continue
		}
		data[j] = gaussian1D(t, mu, sd)
	}
	for _, spec := range []sample.Spec{{Name: "ode"}, {Name: "sde"}} {
		res, err := sample.RunGroups(p, groupScore(p, data, nil), spec, sample.GroupOptions{Groups: k, PerGroup: n, D: d, Seed: seed, MaxRows: 2 * n})
		if err != nil {
			t.Fatal(err)
		}
		for j := range k {
			q, err := data[j].Marginal(p, sample.DefaultEps)
			if err != nil {
				t.Fatal(err)
			}
			wm, wv := q.Mean()[0], q.Var()[0]
			m, v := meanVar(res.X[j*n : (j+1)*n])
			zm := (m - wm) / math.Sqrt(wv/n)
			zv := (v - wv) / math.Sqrt((fourthCentral(q)-wv*wv)/n)
			if math.Abs(zm) > 4 || math.Abs(zv) > 4 {
				t.Errorf("%s group %d: mean %.4f (exact %.4f, z %.2f), std %.4f (exact %.4f, z %.2f)",
					spec.Name, j, m, wm, zm, math.Sqrt(v), math.Sqrt(wv), zv)
			}
		}
	}
}

// TestRunGroupsCancel: a context cancelled during the run stops it between
// rounds with ctx.Err() and leaves no goroutine behind; a cancelled context
// is refused before any call.
func TestRunGroupsCancel(t *testing.T) {
	const k, n, d = 6, 10, 2
	p := mustProc(t, sde.ToyConfig("vp"))
	data := groupData(t, k, d)
	before := runtime.NumGoroutine()
	var ctx context.Context
	var cancel context.CancelFunc
	var calls atomic.Int64
	inner := groupScore(p, data, &calls)
	score := func(tt []float64, g []int, x []float64, rows, dd int, out []float64) error {
		err := inner(tt, g, x, rows, dd, out)
		if calls.Load() == 5 {
			cancel() // the 5th call completes; the run stops before a 6th
		}
		return err
	}
	for _, name := range []string{"ode", "sde"} {
		calls.Store(0)
		ctx, cancel = context.WithCancel(context.Background())
		_, err := sample.RunGroups(p, score, sample.Spec{Name: name}, sample.GroupOptions{Groups: k, PerGroup: n, D: d, MaxRows: 2 * n, Context: ctx})
		if !errors.Is(err, context.Canceled) || err != ctx.Err() {
			t.Errorf("%s: error %v, want context.Canceled", name, err)
		}
		if c := calls.Load(); c != 5 {
			t.Errorf("%s: %d calls after cancelling at the 5th, want 5", name, c)
		}
		cancel()
	}
	calls.Store(0)
	if _, err := sample.RunGroups(p, score, sample.Spec{Name: "ode"}, sample.GroupOptions{Groups: k, PerGroup: n, D: d, Context: ctx}); err != context.Canceled || calls.Load() != 0 {
		t.Errorf("cancelled context: error %v after %d calls", err, calls.Load())
	}
	for range 100 {
		if runtime.NumGoroutine() <= before {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines left running (%d before)", g, before)
	}
}

// TestRunGroupsErrors: bad options are refused up front; a failing group or
// score stops the run with an error naming it, leaving no goroutine behind.
func TestRunGroupsErrors(t *testing.T) {
	const k, n, d = 4, 5, 2
	p := mustProc(t, sde.ToyConfig("vp"))
	data := groupData(t, k, d)
	score := groupScore(p, data, nil)
	for _, c := range []struct {
		spec sample.Spec
		g    sample.GroupOptions
		msg  string
	}{
		{sample.Spec{Name: "bogus"}, sample.GroupOptions{Groups: k, PerGroup: n, D: d}, "unknown sampler"},
		{sample.Spec{Name: "ode"}, sample.GroupOptions{Groups: 0, PerGroup: n, D: d}, "≥ 1"},
		{sample.Spec{Name: "ode"}, sample.GroupOptions{Groups: k, PerGroup: n, D: d, MaxRows: n - 1}, "MaxRows = 4"},
		{sample.Spec{Name: "ode"}, sample.GroupOptions{Groups: k, PerGroup: n, D: d, XT: make([]float64, 3)}, "XT has 3"},
		{sample.Spec{Name: "ode"}, sample.GroupOptions{Groups: k, PerGroup: n, D: d, Out: make([]float64, 3)}, "Out has 3"},
		{sample.Spec{Name: "ode"}, sample.GroupOptions{Groups: k, PerGroup: n, D: d, Eps: 2}, "group 0: sample: eps=2"},
		{sample.Spec{Name: "ode"}, sample.GroupOptions{Groups: k, PerGroup: n, D: d, MaxSteps: 3, MaxRows: 2 * n}, "group 0: sample: dopri5 exceeded 3 steps"},
	} {
		if _, err := sample.RunGroups(p, score, c.spec, c.g); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%+v: error %v, want one containing %q", c.g, err, c.msg)
		}
	}
	// Group 2's score turns NaN below t = 0.5: the run fails naming group 2.
	nan := func(tt []float64, g []int, x []float64, rows, dd int, out []float64) error {
		if err := score(tt, g, x, rows, dd, out); err != nil {
			return err
		}
		for i := range rows {
			if g[i] == 2 && tt[i] < 0.5 {
				out[i*dd] = math.NaN()
			}
		}
		return nil
	}
	for _, name := range []string{"ode", "sde", "rk4"} {
		if _, err := sample.RunGroups(p, nan, sample.Spec{Name: name, Steps: 20}, sample.GroupOptions{Groups: k, PerGroup: n, D: d, MaxRows: 2 * n}); err == nil || !strings.Contains(err.Error(), "group 2:") {
			t.Errorf("%s NaN in group 2: error %v", name, err)
		}
	}
	boom := errors.New("boom")
	fail := func([]float64, []int, []float64, int, int, []float64) error { return boom }
	if _, err := sample.RunGroups(p, fail, sample.Spec{Name: "ode"}, sample.GroupOptions{Groups: k, PerGroup: n, D: d}); !errors.Is(err, boom) {
		t.Errorf("score error: %v", err)
	}
}

// TestRunGroupsXTOutProgress: a given start XT and result buffer Out are used
// (the PF-ODE from x_T equals DoPri5 from the same x_T); the progress bar
// reports observations.
func TestRunGroupsXTOutProgress(t *testing.T) {
	const k, n, d = 3, 4, 2
	p := mustProc(t, sde.ToyConfig("ve"))
	data := groupData(t, k, d)
	xT := make([]float64, k*n*d)
	for i := range xT {
		xT[i] = 12 * math.Sin(float64(i))
	}
	out := make([]float64, k*n*d)
	var buf bytes.Buffer
	res, err := sample.RunGroups(p, groupScore(p, data, nil), sample.Spec{Name: "ode"},
		sample.GroupOptions{Groups: k, PerGroup: n, D: d, XT: xT, Out: out, MaxRows: n, Progress: &buf})
	if err != nil {
		t.Fatal(err)
	}
	if &res.X[0] != &out[0] {
		t.Error("X is not the caller's Out buffer")
	}
	for j := range k {
		want, err := sample.DoPri5(p, data[j].ScoreFunc(p), sample.Options{D: d, XT: xT[j*n*d : (j+1)*n*d]})
		if err != nil {
			t.Fatal(err)
		}
		if !sameBits(out[j*n*d:(j+1)*n*d], want.X) {
			t.Errorf("group %d from XT differs from DoPri5", j)
		}
	}
	if !strings.Contains(buf.String(), "obs") {
		t.Errorf("progress output %q lacks the observations rate", buf.String())
	}
}

// TestGroupSeed: distinct groups get distinct seeds; the map depends on the
// seed.
func TestGroupSeed(t *testing.T) {
	seen := map[uint64]bool{}
	for _, s := range []uint64{0, 1, 2} {
		for j := range 1000 {
			v := sample.GroupSeed(s, j)
			if seen[v] {
				t.Fatalf("GroupSeed(%d, %d) = %d repeats", s, j, v)
			}
			seen[v] = true
		}
	}
}

// BenchmarkRunGroupsDoPri5: k = 100 groups × N = 100 draws × d = 30 with the
// exact Gaussian score per group (cheap), all groups in one chunk; reports
// rows·NFE per second (row evaluations per second, score included).
func BenchmarkRunGroupsDoPri5(b *testing.B) {
	const k, n, d = 100, 100, 30
	p := mustProc(b, sde.ToyConfig("vp"))
	data := make([]analytic.Mixture, k)
	for j := range k {
		mu, sd := make([]float64, d), make([]float64, d)
		for i := range d {
			mu[i], sd[i] = float64(j%7)-3, 0.1+0.02*float64((j+i)%50)
		}
		g, err := analytic.NewGaussian(mu, sd)
		if err != nil {
			b.Fatal(err)
		}
		data[j] = g
	}
	score := groupScore(p, data, nil)
	var rows int64
	var calls int
	for b.Loop() {
		res, err := sample.RunGroups(p, score, sample.Spec{Name: "ode"}, sample.GroupOptions{Groups: k, PerGroup: n, D: d, Seed: 1, MaxRows: 10000})
		if err != nil {
			b.Fatal(err)
		}
		rows += res.Rows
		calls += res.Calls
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
}
