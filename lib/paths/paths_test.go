package paths

import (
	"math"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/lib/analytic"
	"github.com/pdediff/pdediff/lib/sample"
	"github.com/pdediff/pdediff/lib/sde"
)

func meanVar(x []float64) (m, v float64) {
	for _, xi := range x {
		m += xi
	}
	m /= float64(len(x))
	for _, xi := range x {
		v += (xi - m) * (xi - m)
	}
	return m, v / float64(len(x)-1)
}

func proc(t *testing.T, name string) sde.Process {
	t.Helper()
	p, err := sde.New(sde.ToyConfig(name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Forward paths from x0 = 2 have mean m(t)·2, variance s²(t), and covariance
// Cov(x_t, x_u) = m(u)/m(t)·s²(t) for t < u (theory eq. 33 / the Markov property).
func TestForwardMoments(t *testing.T) {
	const n = 20000
	for _, name := range []string{"ve", "vp"} {
		p := proc(t, name)
		x0 := make([]float64, n)
		for i := range x0 {
			x0[i] = 2
		}
		times := []float64{0.1, 0.3, 1}
		tr, err := Forward(p, x0, 1, times, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Times) != 4 || tr.Times[0] != 0 || len(tr.States) != 4 {
			t.Fatalf("%s: recorded %d times %v", name, len(tr.Times), tr.Times)
		}
		for k, tt := range times {
			m, v := meanVar(tr.States[k+1])
			wm, wv := 2*p.Mean(tt), p.Std(tt)*p.Std(tt)
			if math.Abs(m-wm) > 4*math.Sqrt(wv/n) || math.Abs(v/wv-1) > 4*math.Sqrt(2.0/n) {
				t.Errorf("%s t=%v: mean %v var %v, want %v, %v", name, tt, m, v, wm, wv)
			}
		}
		// Covariance between t = 0.3 and t = 1 (correlation check).
		a, b := tr.States[2], tr.States[3]
		ma, _ := meanVar(a)
		mb, _ := meanVar(b)
		c := 0.0
		for i := range a {
			c += (a[i] - ma) * (b[i] - mb)
		}
		c /= n - 1
		wc := p.Mean(1) / p.Mean(0.3) * p.Std(0.3) * p.Std(0.3)
		sd := math.Sqrt(p.Std(0.3) * p.Std(0.3) * p.Std(1) * p.Std(1) / n)
		if math.Abs(c-wc) > 5*sd {
			t.Errorf("%s: Cov(x_0.3, x_1) = %v, want %v (±%v)", name, c, wc, 5*sd)
		}
		if got := tr.Path(5, 0); got[0] != 2 || got[3] != tr.States[3][5] {
			t.Errorf("%s: Path(5,0) = %v inconsistent with States", name, got)
		}
	}
}

// Reverse's final state equals sample.EulerMaruyama's for the same options, and
// with the exact score the samples have the data's mean and spread (a small
// data mean: the VE prior N(0, s(T)²) ignores it, which the ODE does not correct).
func TestReverseMatchesSamplerAndData(t *testing.T) {
	data, err := analytic.NewGaussian([]float64{0.2}, []float64{0.5})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ve", "vp"} {
		p := proc(t, name)
		for _, alpha := range []float64{0, 1} {
			opts := sample.Options{N: 4000, D: 1, Seed: 11, Steps: 400, Alpha: alpha}
			tr, err := Reverse(p, data.ScoreFunc(p), opts)
			if err != nil {
				t.Fatal(err)
			}
			res, err := sample.EulerMaruyama(p, data.ScoreFunc(p), opts)
			if err != nil {
				t.Fatal(err)
			}
			last := tr.States[len(tr.States)-1]
			for i := range last {
				if math.Abs(last[i]-res.X[i]) > 1e-12*(1+math.Abs(res.X[i])) {
					t.Fatalf("%s α=%v: path end %v != EulerMaruyama %v at %d", name, alpha, last[i], res.X[i], i)
				}
			}
			if len(tr.Times) != 401 || tr.Times[0] != 1 || math.Abs(tr.Times[400]-sample.DefaultEps) > 1e-12 {
				t.Errorf("%s: times %d from %v to %v", name, len(tr.Times), tr.Times[0], tr.Times[len(tr.Times)-1])
			}
			m, v := meanVar(last)
			if math.Abs(m-0.2) > 0.05 || math.Abs(math.Sqrt(v)-0.5) > 0.05 {
				t.Errorf("%s α=%v: samples mean %v std %v, want 0.2, 0.5", name, alpha, m, math.Sqrt(v))
			}
		}
	}
}

func TestSameSeedSameNumbers(t *testing.T) {
	p := proc(t, "vp")
	x0 := []float64{0, 1, 2}
	a, _ := Forward(p, x0, 1, []float64{0.5, 1}, 3)
	b, _ := Forward(p, x0, 1, []float64{0.5, 1}, 3)
	c, _ := Forward(p, x0, 1, []float64{0.5, 1}, 4)
	if a.States[2][1] != b.States[2][1] || a.States[2][1] == c.States[2][1] {
		t.Error("Forward: same seed must give the same numbers, another seed others")
	}
	if f := a.Flat(2, 0); len(f) != 6 || f[3] != 1 || f[5] != a.States[2][1] {
		t.Errorf("Flat = %v", f)
	}
}

func TestErrors(t *testing.T) {
	p := proc(t, "vp")
	data, _ := analytic.NewGaussian([]float64{0}, []float64{1})
	score := data.ScoreFunc(p)
	fwd := func(x0 []float64, d int, times []float64) error { _, err := Forward(p, x0, d, times, 1); return err }
	rev := func(o sample.Options) error { _, err := Reverse(p, score, o); return err }
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"nil proc", func() error { _, err := Forward(nil, []float64{1}, 1, []float64{1}, 1); return err }(), "nil process"},
		{"ragged x0", fwd([]float64{1, 2, 3}, 2, []float64{1}), "multiple of D=2"},
		{"NaN x0", fwd([]float64{math.NaN()}, 1, []float64{1}), "x0[0]"},
		{"times order", fwd([]float64{1}, 1, []float64{0.5, 0.5}), "times[1]"},
		{"times > T", fwd([]float64{1}, 1, []float64{2}), "T=1"},
		{"nil score", func() error { _, err := Reverse(p, nil, sample.Options{N: 1, D: 1}); return err }(), "score function"},
		{"alpha", rev(sample.Options{N: 1, D: 1, Alpha: -1}), "alpha=-1"},
		{"D", rev(sample.Options{N: 1}), "D=0"},
		{"N", rev(sample.Options{D: 1}), "N=0"},
		{"XT shape", rev(sample.Options{N: 2, D: 1, XT: []float64{1}}), "XT has 1 values"},
		{"XT NaN", rev(sample.Options{D: 1, XT: []float64{math.Inf(1)}}), "XT[0]"},
		{"eps", rev(sample.Options{N: 1, D: 1, Eps: 2}), "eps=2"},
		{"steps", rev(sample.Options{N: 1, D: 1, Steps: -1}), "steps=-1"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, c.err, c.want)
		}
	}
}
