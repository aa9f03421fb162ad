package train

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute"

	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/backend"
	"github.com/pdediff/pdediff/lib/scorenet"
)

// linVP is a private test process: VP with β linear in t (theory eq. 36), closed form.
type linVP struct{ bmin, bmax float64 }

func (p linVP) B(t float64) float64    { return p.bmin*t + 0.5*(p.bmax-p.bmin)*t*t }
func (p linVP) Name() string           { return "test-vp" }
func (p linVP) T() float64             { return 1 }
func (p linVP) Mean(t float64) float64 { return math.Exp(-0.5 * p.B(t)) }
func (p linVP) Std(t float64) float64  { return math.Sqrt(-math.Expm1(-p.B(t))) }
func (p linVP) Beta(t float64) float64 { return p.bmin + t*(p.bmax-p.bmin) }
func (p linVP) G2(t float64) float64   { return p.Beta(t) }
func (p linVP) PriorStd() float64      { return 1 }
func (p linVP) exactScore(x, mu, sigma, t float64) float64 { // score of p_t for x0 ~ N(mu, sigma²)
	m, s := p.Mean(t), p.Std(t)
	return -(x - m*mu) / (m*m*sigma*sigma + s*s)
}

var proc = linVP{bmin: 0.1, bmax: 10}

func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := backend.Shared()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gaussData(n int, mu, sigma float64, seed uint64) Data {
	rng := rand.New(rand.NewPCG(seed, 99))
	x := make([]float64, n)
	for i := range x {
		x[i] = mu + sigma*rng.NormFloat64()
	}
	return Data{X: x, N: n}
}

func params(t *testing.T, net *scorenet.Net, scope string) [][]float32 {
	t.Helper()
	p, err := net.ParamValues(scope)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func maxDiff(a, b [][]float32) float64 {
	d := 0.0
	for i := range a {
		for j := range a[i] {
			d = max(d, math.Abs(float64(a[i][j]-b[i][j])))
		}
	}
	return d
}

// smallNet is the architecture used by the fast tests.
var smallNet = scorenet.Config{XDim: 1, HiddenLayers: 2, Width: 32}

// TestLearnsGaussianScore trains on N(1.5, 0.5²) data and compares the learnt
// score with the exact one, for both output parameterisations (the score
// itself, theory eq. 65, and the noise, eq. 120) and the time samplings.
func TestLearnsGaussianScore(t *testing.T) {
	for _, tc := range []struct{ output, times, lr string }{
		{"", "", ""},
		{scorenet.OutputNoise, "", ""},
		{scorenet.OutputNoise, TimeLogMix, LRCosine},
	} {
		t.Run(tc.output+"-"+tc.times+"-"+tc.lr, func(t *testing.T) { learnsGaussianScore(t, tc.output, tc.times, tc.lr) })
	}
}

func learnsGaussianScore(t *testing.T, output, times, lr string) {
	be := testBackend(t)
	const mu, sigma = 1.5, 0.5
	data := gaussData(4000, mu, sigma, 1)
	net, err := scorenet.New(be, scorenet.Config{XDim: 1, HiddenLayers: 2, Width: 64, Output: output}, 1)
	if err != nil {
		t.Fatal(err)
	}
	net.SetStd(proc.Std)
	res, err := Train(context.Background(), net, proc, data, Config{Epochs: 300, BatchSize: 500, Seed: 2, LearningRate: 2e-3, EMADecay: 0.995, StepsPerExec: 10,
		TimeSampling: times, LRSchedule: lr})
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 300*8 || len(res.Losses) != 300*8 {
		t.Fatalf("steps %d, losses %d, want 2400", res.Steps, len(res.Losses))
	}
	if err := net.SetUseEMA(true); err != nil {
		t.Fatal(err)
	}
	mean := func(a []float64) float64 {
		s := 0.0
		for _, v := range a {
			s += v
		}
		return s / float64(len(a))
	}
	first, last := mean(res.Losses[:50]), mean(res.Losses[len(res.Losses)-200:])
	if !(last < 0.8*first) {
		t.Errorf("loss did not decrease: first 50 steps %.4f, last 200 %.4f", first, last)
	}
	// Score error in units of the score's scale 1/sd_t, at the mean and ±1 sd_t.
	worst := 0.0
	for _, tt := range []float64{0.1, 0.3, 0.6, 0.9} {
		m, s := proc.Mean(tt), proc.Std(tt)
		sd := math.Sqrt(m*m*sigma*sigma + s*s)
		xs := []float64{m * mu, m*mu - sd, m*mu + sd}
		out := make([]float64, len(xs))
		if err := net.Score(tt, xs, len(xs), nil, out); err != nil {
			t.Fatal(err)
		}
		for i, x := range xs {
			want := proc.exactScore(x, mu, sigma, tt)
			e := math.Abs(out[i]-want) * sd
			worst = max(worst, e)
			t.Logf("t=%.1f x=%+.3f score %+.4f exact %+.4f scaled err %.3f", tt, x, out[i], want, e)
		}
	}
	// Measured (seed 2): 0.035 score output, 0.042 noise output, 0.040 noise
	// output with log-mix times and cosine learning rate; a wrong
	// loss weighting, time embedding or output conversion gives > 0.3.
	if worst > 0.06 {
		t.Errorf("worst scaled score error %.3f > 0.06", worst)
	}
}

func TestConditionalLearnsYDependence(t *testing.T) {
	be := testBackend(t)
	// x | y ~ N(a·y, σ²), y ~ U(−1, 1): the score of p_t(x | y) is Gaussian with mean a·y.
	const a, sigma = 2.0, 0.3
	rng := rand.New(rand.NewPCG(5, 6))
	n := 4000
	data := Data{X: make([]float64, n), Cond: make([]float64, n), N: n}
	for i := range n {
		y := 2*rng.Float64() - 1
		data.Cond[i] = y
		data.X[i] = a*y + sigma*rng.NormFloat64()
	}
	net, _ := scorenet.New(be, scorenet.Config{XDim: 1, YDim: 1, HiddenLayers: 2, Width: 64}, 3)
	if _, err := Train(context.Background(), net, proc, data, Config{Epochs: 300, BatchSize: 500, Seed: 4, LearningRate: 2e-3, EMADecay: 0.995, StepsPerExec: 10}); err != nil {
		t.Fatal(err)
	}
	worst := conditionalScoreError(t, net, a, sigma)
	// Measured: 0.069 (seed 4); ignoring y gives errors of order a·|y|/sd ≈ 1.
	if worst > 0.12 {
		t.Errorf("worst scaled conditional score error %.3f > 0.12", worst)
	}
}

// conditionalScoreError is the worst error, in units of the marginal std, of
// net's EMA score against the exact score of x | y ~ N(a·y, σ²) at y = −0.8,
// 0, 0.8 and t = 0.2, 0.5.
func conditionalScoreError(t *testing.T, net *scorenet.Net, a, sigma float64) float64 {
	t.Helper()
	if err := net.SetUseEMA(true); err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for _, y := range []float64{-0.8, 0, 0.8} {
		f, err := net.ScoreFunc([]float64{y})
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []float64{0.2, 0.5} {
			m, s := proc.Mean(tt), proc.Std(tt)
			sd := math.Sqrt(m*m*sigma*sigma + s*s)
			xs := []float64{m * a * y, m*a*y - sd, m*a*y + sd}
			out := make([]float64, 3)
			if err := f(tt, xs, 3, 1, out); err != nil {
				t.Fatal(err)
			}
			for i, x := range xs {
				want := proc.exactScore(x, a*y, sigma, tt)
				e := math.Abs(out[i]-want) * sd
				worst = max(worst, e)
				t.Logf("y=%+.1f t=%.1f x=%+.3f score %+.4f exact %+.4f scaled err %.3f", y, tt, x, out[i], want, e)
			}
		}
	}
	return worst
}

func TestDeterministicAndStepsPerExecEquivalent(t *testing.T) {
	be := testBackend(t)
	data := gaussData(600, 0.5, 1, 3)
	run := func(k int) ([]float64, [][]float32, [][]float32) {
		net, _ := scorenet.New(be, smallNet, 9)
		res, err := Train(context.Background(), net, proc, data, Config{Epochs: 5, BatchSize: 200, Seed: 9, StepsPerExec: k, EMADecay: 0.9})
		if err != nil {
			t.Fatal(err)
		}
		return res.Losses, params(t, net, scorenet.ParamScope), params(t, net, scorenet.EMAScope)
	}
	l1, p1, e1 := run(4)
	l2, p2, e2 := run(4)
	for i := range l1 {
		if l1[i] != l2[i] {
			t.Fatalf("same seed: loss %d differs: %v vs %v", i, l1[i], l2[i])
		}
	}
	if d := maxDiff(p1, p2) + maxDiff(e1, e2); d != 0 {
		t.Fatalf("same seed: weights differ by %g", d)
	}
	// K = 1 and K = 7 (15 steps: two executions of 7 and one of 1).
	for _, k := range []int{1, 7} {
		lk, pk, ek := run(k)
		if len(lk) != 15 {
			t.Fatalf("K=%d: %d losses, want 15", k, len(lk))
		}
		for i := range l1 {
			if math.Abs(lk[i]-l1[i]) > 1e-5*(1+math.Abs(l1[i])) {
				t.Errorf("K=%d: loss %d = %v, K=4 gives %v", k, i, lk[i], l1[i])
			}
		}
		if d := maxDiff(pk, p1) + maxDiff(ek, e1); d > 1e-5 {
			t.Errorf("K=%d: weights differ from K=4 by %g", k, d)
		}
	}
}

func TestResumeEqualsUninterrupted(t *testing.T) {
	be := testBackend(t)
	data := gaussData(600, 0.5, 1, 4)
	cfg := Config{Epochs: 6, BatchSize: 200, Seed: 5, StepsPerExec: 4, EMADecay: 0.95}
	full, _ := scorenet.New(be, smallNet, 2)
	rf, err := Train(context.Background(), full, proc, data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	half, _ := scorenet.New(be, smallNet, 2)
	c1 := cfg
	c1.Epochs, c1.CheckpointDir = 3, dir
	if _, err := Train(context.Background(), half, proc, data, c1); err != nil {
		t.Fatal(err)
	}
	loaded, err := scorenet.Load(be, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.UseEMA() || loaded.Meta().Step != 9 {
		t.Fatalf("loaded: use EMA %v, step %d; want true, 9", loaded.UseEMA(), loaded.Meta().Step)
	}
	c2 := cfg
	c2.CheckpointDir = dir
	rr, err := Train(context.Background(), loaded, proc, data, c2)
	if err != nil {
		t.Fatal(err)
	}
	if rr.StartStep != 9 || rr.Steps != 18 {
		t.Fatalf("resumed run: start %d end %d, want 9, 18", rr.StartStep, rr.Steps)
	}
	for i, l := range rr.Losses {
		if math.Abs(l-rf.Losses[9+i]) > 1e-6*(1+math.Abs(l)) {
			t.Errorf("resumed loss at step %d = %v, uninterrupted %v", 10+i, l, rf.Losses[9+i])
		}
	}
	if d := maxDiff(params(t, loaded, scorenet.ParamScope), params(t, full, scorenet.ParamScope)); d > 1e-6 {
		t.Errorf("resumed weights differ by %g", d)
	}
	if d := maxDiff(params(t, loaded, scorenet.EMAScope), params(t, full, scorenet.EMAScope)); d > 1e-6 {
		t.Errorf("resumed EMA weights differ by %g", d)
	}
	h, err := arrayio.ReadNPY(filepath.Join(dir, LossFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Data) != 18 || math.Abs(h.Data[17]-rf.Losses[17]) > 1e-6 {
		t.Errorf("loss history has %d entries (want 18), last %v vs %v", len(h.Data), h.Data[len(h.Data)-1], rf.Losses[17])
	}
	// Resuming with another seed is refused.
	again, _ := scorenet.Load(be, dir)
	c3 := c2
	c3.Seed, c3.Epochs = 6, 8
	if _, err := Train(context.Background(), again, proc, data, c3); err == nil || !strings.Contains(err.Error(), "seed") {
		t.Errorf("resume with another seed: %v", err)
	}
}

func TestFirstStepIsAdamAndEMA(t *testing.T) {
	be := testBackend(t)
	data := gaussData(100, 0, 1, 7)
	net, _ := scorenet.New(be, smallNet, 4)
	p0 := params(t, net, scorenet.ParamScope)
	const lr, d = 1e-3, 0.9
	if _, err := Train(context.Background(), net, proc, data, Config{Epochs: 1, BatchSize: 100, LearningRate: lr, EMADecay: d, StepsPerExec: 1}); err != nil {
		t.Fatal(err)
	}
	p1 := params(t, net, scorenet.ParamScope)
	e1 := params(t, net, scorenet.EMAScope)
	// Adam's first step moves every parameter by lr·g/(|g|+ε) ≈ ±lr (0 where g = 0).
	moved, total := 0, 0
	for i := range p0 {
		for j := range p0[i] {
			total++
			step := math.Abs(float64(p1[i][j] - p0[i][j]))
			if step > lr+2e-6 {
				t.Fatalf("param %d/%d moved by %g > lr: not an Adam first step", i, j, step)
			}
			if math.Abs(step-lr) < 2e-6 {
				moved++
			}
			wantE := d*float64(p0[i][j]) + (1-d)*float64(p1[i][j])
			if math.Abs(float64(e1[i][j])-wantE) > 1e-6 {
				t.Fatalf("EMA %d/%d = %v, want %v", i, j, e1[i][j], wantE)
			}
		}
	}
	if moved < total/2 {
		t.Errorf("only %d of %d parameters moved by lr", moved, total)
	}
}

func TestInterruptLeavesCheckpoint(t *testing.T) {
	be := testBackend(t)
	data := gaussData(400, 0, 1, 8)
	net, _ := scorenet.New(be, smallNet, 4)
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var progress bytes.Buffer
	res, err := Train(ctx, net, proc, data, Config{Epochs: 50, BatchSize: 100, StepsPerExec: 3, CheckpointDir: dir, Progress: &progress})
	if err != context.Canceled {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if res.Steps != 3 {
		t.Errorf("stopped at step %d, want 3 (one execution)", res.Steps)
	}
	if !strings.Contains(progress.String(), "loss") {
		t.Errorf("progress output lacks the running loss: %q", progress.String())
	}
	m, err := scorenet.ReadMeta(dir)
	if err != nil || m.Step != 3 || len(m.Training) == 0 || len(m.SDE) == 0 {
		t.Fatalf("checkpoint meta %+v, err %v", m, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp") {
			t.Errorf("temporary left behind: %s", e.Name())
		}
	}
}

func TestRejectsBadInput(t *testing.T) {
	be := testBackend(t)
	net, _ := scorenet.New(be, scorenet.Config{XDim: 2, YDim: 1, Width: 4}, 1)
	good := Data{X: []float64{1, 2, 3, 4}, Cond: []float64{0, 1}, N: 2}
	tests := []struct {
		name   string
		data   Data
		cfg    Config
		errHas string
	}{
		{"nan x", Data{X: []float64{1, math.NaN(), 3, 4}, Cond: []float64{0, 1}, N: 2}, Config{Epochs: 1}, "x value 1"},
		{"inf cond", Data{X: []float64{1, 2, 3, 4}, Cond: []float64{0, math.Inf(1)}, N: 2}, Config{Epochs: 1}, "conditioning value 1"},
		{"x rows", Data{X: []float64{1, 2, 3}, Cond: []float64{0, 1}, N: 2}, Config{Epochs: 1}, "x has 3 values"},
		{"cond rows", Data{X: []float64{1, 2, 3, 4}, Cond: []float64{0}, N: 2}, Config{Epochs: 1}, "conditioning has 1 values"},
		{"no rows", Data{}, Config{Epochs: 1}, "0 rows"},
		{"batch", good, Config{Epochs: 1, BatchSize: -1}, "batch size"},
		{"epochs", good, Config{}, "epochs"},
		{"lr", good, Config{Epochs: 1, LearningRate: math.NaN()}, "learning rate"},
		{"time", good, Config{Epochs: 1, TimeSampling: "beta"}, `unknown time sampling "beta"`},
		{"ema", good, Config{Epochs: 1, EMADecay: 1}, "EMA decay"},
		{"k", good, Config{Epochs: 1, StepsPerExec: -2}, "steps per execution"},
	}
	for _, tc := range tests {
		_, err := Train(context.Background(), net, proc, tc.data, tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.errHas)
		}
	}
}

// TestConcurrentTrainingMatchesSequential trains two models (different
// processes, as for the paper's VE and VP models) in two goroutines on the
// shared backend: each must equal its sequential run exactly.
func TestConcurrentTrainingMatchesSequential(t *testing.T) {
	be := testBackend(t)
	data := gaussData(600, 0.5, 1, 6)
	procs := []linVP{{0.1, 10}, {0.5, 5}}
	run := func(i int) [][]float32 {
		net, _ := scorenet.New(be, smallNet, uint64(i))
		if _, err := Train(context.Background(), net, procs[i], data, Config{Epochs: 4, BatchSize: 200, Seed: uint64(i), StepsPerExec: 3}); err != nil {
			t.Error(err)
			return nil
		}
		return params(t, net, scorenet.ParamScope)
	}
	seq := [][][]float32{run(0), run(1)}
	conc := make([][][]float32, 2)
	done := make(chan int)
	for i := range 2 {
		go func() { conc[i] = run(i); done <- i }()
	}
	<-done
	<-done
	for i := range 2 {
		if conc[i] == nil || seq[i] == nil {
			t.Fatal("a run failed")
		}
		if d := maxDiff(conc[i], seq[i]); d != 0 {
			t.Errorf("model %d: concurrent weights differ from sequential by %g", i, d)
		}
	}
}

// TestTimeSamplingAndLRSchedule checks the training-time laws (uniform on
// [t0, T]; the log-mix of theory eq. 121) by their CDFs, and the cosine
// learning-rate factor at its ends and midpoint.
func TestTimeSamplingAndLRSchedule(t *testing.T) {
	const n = 200000
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name string
		b    batcher
		cdf  func(x float64) float64
	}{
		{"uniform", batcher{T: 1}, func(x float64) float64 { return x }},
		{"uniform-eps", batcher{t0: 0.1, T: 1}, func(x float64) float64 { return max(0, (x-0.1)/0.9) }},
		{"log-mix", batcher{T: 1, logLo: 1e-4}, func(x float64) float64 {
			return 0.5*x + 0.5*max(0, math.Log(x/1e-4)/math.Log(1e4))
		}},
	} {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = tc.b.time(rng.Float64())
		}
		for _, x := range []float64{1e-3, 0.01, 0.1, 0.5, 0.9} {
			c := 0
			for _, v := range xs {
				if v <= x {
					c++
				}
			}
			if got, want := float64(c)/n, tc.cdf(x); math.Abs(got-want) > 0.005 {
				t.Errorf("%s: P(t ≤ %g) = %.4f, want %.4f", tc.name, x, got, want)
			}
		}
	}
	for _, c := range []struct {
		sched    string
		j, total int64
		want     float64
	}{{"", 5, 10, 1}, {LRConstant, 9, 10, 1}, {LRCosine, 0, 10, 1}, {LRCosine, 5, 10, 0.5}, {LRCosine, 10, 10, 0}} {
		if got := lrFactor(c.sched, c.j, c.total); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("lrFactor(%q, %d, %d) = %v, want %v", c.sched, c.j, c.total, got, c.want)
		}
	}
	if err := (Config{Epochs: 1, BatchSize: 1, LRSchedule: "step"}).WithDefaults().Validate(); err == nil || !strings.Contains(err.Error(), "schedule") {
		t.Errorf("unknown schedule accepted: %v", err)
	}
}

// TestEnginesTrainAlike trains the same network from the same seed on the
// host engine and on the backend's graph, with and without EMA, for both
// output parameterisations, and compares losses, weights, optimiser state
// and EMA: they differ only by float32 rounding.
func TestEnginesTrainAlike(t *testing.T) {
	be := testBackend(t)
	data := gaussData(500, 0.5, 1, 9)
	for _, tc := range []struct {
		name string
		net  scorenet.Config
		cfg  Config
	}{
		{"score", smallNet, Config{Epochs: 3, BatchSize: 100, Seed: 3}},
		{"noise+ema+cosine", scorenet.Config{XDim: 1, Width: 32, Output: scorenet.OutputNoise},
			Config{Epochs: 3, BatchSize: 130, Seed: 4, EMADecay: 0.9, LRSchedule: LRCosine}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			type out struct {
				losses   []float64
				p, m, em [][]float32
			}
			run := func(engine string) out {
				t.Setenv(scorenet.EngineEnv, engine)
				net, err := scorenet.New(be, tc.net, 8)
				if err != nil {
					t.Fatal(err)
				}
				net.SetStd(proc.Std)
				res, err := Train(context.Background(), net, proc, data, tc.cfg)
				if err != nil {
					t.Fatal(err)
				}
				o := out{losses: res.Losses, p: params(t, net, scorenet.ParamScope), m: params(t, net, adamMScope)}
				if tc.cfg.EMADecay > 0 {
					o.em = params(t, net, scorenet.EMAScope)
				}
				return o
			}
			g, h := run(scorenet.EngineGraph), run(scorenet.EngineHost)
			if len(g.losses) != len(h.losses) || len(g.losses) == 0 {
				t.Fatalf("%d graph losses, %d host losses", len(g.losses), len(h.losses))
			}
			for i := range g.losses {
				if math.Abs(g.losses[i]-h.losses[i]) > 1e-4*(1+g.losses[i]) {
					t.Errorf("step %d: loss %v (graph) vs %v (host)", i+1, g.losses[i], h.losses[i])
				}
			}
			t.Logf("weights max diff %g, moments %g, losses %v vs %v", maxDiff(g.p, h.p), maxDiff(g.m, h.m), g.losses[len(g.losses)-1], h.losses[len(h.losses)-1])
			if d := maxDiff(g.p, h.p); d > 1e-4 {
				t.Errorf("weights differ by %g", d)
			}
			if d := maxDiff(g.m, h.m); d > 1e-5 {
				t.Errorf("Adam first moments differ by %g", d)
			}
			if g.em != nil {
				if d := maxDiff(g.em, h.em); d > 1e-4 {
					t.Errorf("EMA weights differ by %g", d)
				}
			}
		})
	}
}

// TestAugmentRedrawsConditioning checks Data.Augment: every batch row's
// conditioning is the function's output for that row, drawn from a stream of
// (seed, step) alone (the same step gives the same batch, other steps other
// draws), x_t, t and z are those of the run without it, and a network trained
// with conditioning that only Augment reveals learns it.
func TestAugmentRedrawsConditioning(t *testing.T) {
	const n, B = 40, 8
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i)
	}
	reveal := func(rng *rand.Rand, row int, cond []float64) { cond[0], cond[1] = float64(row), rng.Float64() }
	cfg := scorenet.Config{XDim: 1, YDim: 2, HiddenLayers: 1, Width: 4}
	mk := func(aug func(*rand.Rand, int, []float64)) *batcher {
		return &batcher{data: Data{X: x, Cond: make([]float64, 2*n), N: n, Augment: aug}, cfg: cfg, proc: proc,
			seed: 7, B: B, spe: n / B, T: 1, epoch: -1}
	}
	type batch struct{ xt, cond, t, s, z []float32 }
	fill := func(b *batcher, j int64) batch {
		o := batch{make([]float32, B), make([]float32, 2*B), make([]float32, B), make([]float32, B), make([]float32, B)}
		b.fill(j, o.xt, o.cond, o.t, o.s, o.z)
		return o
	}
	plain, aug := mk(nil), mk(reveal)
	for j := int64(0); j < 12; j++ {
		p, a := fill(plain, j), fill(aug, j)
		for i := range B {
			if p.xt[i] != a.xt[i] || p.t[i] != a.t[i] || p.z[i] != a.z[i] || p.cond[i] != 0 {
				t.Fatalf("step %d row %d: augmentation changed x_t, t or z, or plain conditioning is not the data's", j, i)
			}
			row := aug.perm[int(j%int64(aug.spe))*B+i]
			if a.cond[i] != float32(row) {
				t.Fatalf("step %d row %d: conditioning %v, want the row index %d", j, i, a.cond[i], row)
			}
		}
		if again := fill(mk(reveal), j); !slices.Equal(again.cond, a.cond) {
			t.Fatalf("step %d: a fresh batcher draws other conditioning", j)
		}
		if j > 0 {
			if prev := fill(mk(reveal), j-1); slices.Equal(prev.cond[B:], a.cond[B:]) {
				t.Fatalf("steps %d and %d draw the same augmentation", j-1, j)
			}
		}
	}

	// Learning: x | y ~ N(a·y, σ²) with y stored nowhere but in Augment.
	be := testBackend(t)
	const a, sigma = 2.0, 0.3
	rng := rand.New(rand.NewPCG(5, 6))
	m := 4000
	ys := make([]float64, m)
	data := Data{X: make([]float64, m), Cond: make([]float64, m), N: m,
		Augment: func(_ *rand.Rand, row int, cond []float64) { cond[0] = ys[row] }}
	for i := range m {
		ys[i] = 2*rng.Float64() - 1
		data.X[i] = a*ys[i] + sigma*rng.NormFloat64()
	}
	net, _ := scorenet.New(be, scorenet.Config{XDim: 1, YDim: 1, HiddenLayers: 2, Width: 64}, 3)
	tc := Config{Epochs: 300, BatchSize: 500, Seed: 4, LearningRate: 2e-3, EMADecay: 0.995, StepsPerExec: 10, Augment: "reveal-y"}
	if _, err := Train(context.Background(), net, proc, data, tc); err != nil {
		t.Fatal(err)
	}
	// Measured: as TestConditionalLearnsYDependence; without y the error is ≈ 1.
	if worst := conditionalScoreError(t, net, a, sigma); worst > 0.12 {
		t.Errorf("worst scaled conditional score error %.3f > 0.12 (the y revealed only by Augment is not learnt)", worst)
	}

	// Config.Augment and Data.Augment come together; resuming needs the same name.
	bad := tc
	bad.Augment = ""
	if _, err := Train(context.Background(), net, proc, data, bad); err == nil || !strings.Contains(err.Error(), "must come together") {
		t.Errorf("Data.Augment without Config.Augment: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	first, _ := scorenet.New(be, scorenet.Config{XDim: 1, YDim: 1, HiddenLayers: 1, Width: 8}, 3)
	short := tc
	short.Epochs, short.CheckpointDir = 1, dir
	if _, err := Train(context.Background(), first, proc, data, short); err != nil {
		t.Fatal(err)
	}
	loaded, err := scorenet.Load(be, dir)
	if err != nil {
		t.Fatal(err)
	}
	other := short
	other.Epochs, other.Augment = 2, "another"
	if _, err := Train(context.Background(), loaded, proc, data, other); err == nil || !strings.Contains(err.Error(), "augmentation") {
		t.Errorf("resume with another augmentation: %v", err)
	}
}
