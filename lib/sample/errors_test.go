package sample_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/lib/sample"
	"github.com/pdediff/pdediff/lib/sde"
)

func TestBadOptions(t *testing.T) {
	p := mustProc(t, sde.ToyConfig("vp"))
	g := gaussian1D(t, 0, 1)
	score := g.ScoreFunc(p)
	all := map[string]sampler{"em": sample.EulerMaruyama, "euler": sample.ODEEuler, "heun": sample.ODEHeun, "rk4": sample.ODERK4, "dopri5": sample.DoPri5}
	for _, c := range []struct {
		name string
		opts sample.Options
		msg  string
	}{
		{"steps<1", sample.Options{N: 2, D: 1, Steps: -1}, "steps=-1"},
		{"eps<0", sample.Options{N: 2, D: 1, Eps: -0.1}, "eps=-0.1"},
		{"eps>=T", sample.Options{N: 2, D: 1, Eps: 1}, "eps=1"},
		{"eps NaN", sample.Options{N: 2, D: 1, Eps: math.NaN()}, "eps=NaN"},
		{"D=0", sample.Options{N: 2}, "dimension D=0"},
		{"N=0", sample.Options{D: 1}, "N=0"},
		{"XT shape", sample.Options{N: 3, D: 2, XT: []float64{1, 2, 3, 4}}, "XT has 4 values"},
		{"XT NaN", sample.Options{D: 1, XT: []float64{1, math.Inf(1)}}, "XT[1]"},
	} {
		for name, f := range all {
			if _, err := f(p, score, c.opts); err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("%s %s: error %v, want one containing %q", name, c.name, err, c.msg)
			}
		}
	}
	if _, err := sample.EulerMaruyama(p, score, sample.Options{N: 2, D: 1, Alpha: -0.5}); err == nil || !strings.Contains(err.Error(), "alpha=-0.5") {
		t.Errorf("alpha<0: %v", err)
	}
	if _, err := sample.DoPri5(p, score, sample.Options{N: 2, D: 1, Rtol: -1}); err == nil || !strings.Contains(err.Error(), "rtol=-1") {
		t.Errorf("rtol<0: %v", err)
	}
	if _, err := sample.DoPri5(p, score, sample.Options{N: 2, D: 1, MaxSteps: 2}); err == nil || !strings.Contains(err.Error(), "exceeded 2 steps") {
		t.Errorf("max steps: %v", err)
	}
}

// TestNonFiniteAndScoreErrors: a score that turns NaN below t = 0.5 must stop
// every sampler with an error naming a time below 0.5; score errors propagate.
func TestNonFiniteAndScoreErrors(t *testing.T) {
	p := mustProc(t, sde.ToyConfig("ve"))
	nan := func(tt float64, x []float64, n, d int, out []float64) error {
		for i := range out {
			out[i] = -x[i]
			if tt < 0.5 {
				out[i] = math.NaN()
			}
		}
		return nil
	}
	sentinel := errors.New("boom")
	failing := func(float64, []float64, int, int, []float64) error { return sentinel }
	for name, f := range map[string]sampler{"em": sample.EulerMaruyama, "euler": sample.ODEEuler, "heun": sample.ODEHeun, "rk4": sample.ODERK4, "dopri5": sample.DoPri5} {
		_, err := f(p, nan, sample.Options{N: 3, D: 2, Steps: 10})
		if err == nil || !strings.Contains(err.Error(), "non-finite") && !strings.Contains(err.Error(), "NaN") {
			t.Errorf("%s: NaN score gave %v", name, err)
		} else {
			var at float64
			i := strings.LastIndex(err.Error(), "t=")
			if _, serr := fmtSscan(err.Error()[i+2:], &at); serr != nil || at >= 0.5 || at <= 0 {
				t.Errorf("%s: error %q does not name a time in (0, 0.5)", name, err)
			}
		}
		if _, err := f(p, failing, sample.Options{N: 3, D: 2, Steps: 10}); !errors.Is(err, sentinel) {
			t.Errorf("%s: score error not propagated: %v", name, err)
		}
	}
}

// TestSeeds: same seed, same numbers; another seed, other numbers.
func TestSeeds(t *testing.T) {
	p := mustProc(t, sde.ToyConfig("vp"))
	g := gaussian1D(t, 0.5, 0.2)
	run := func(seed uint64) []float64 {
		r, err := sample.EulerMaruyama(p, g.ScoreFunc(p), sample.Options{N: 100, D: 1, Steps: 20, Alpha: 1, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return r.X
	}
	a, b, c := run(4), run(4), run(5)
	if maxAbsDiff(a, b) != 0 {
		t.Error("same seed gave different samples")
	}
	if maxAbsDiff(a, c) == 0 {
		t.Error("different seeds gave identical samples")
	}
	// The prior draw has the prior's scale: VE starts at std s(T) ≈ 5.37.
	ve := mustProc(t, sde.ToyConfig("ve"))
	zero := func(float64, []float64, int, int, []float64) error { return nil }
	// One EM step with a zero score and alpha = 0 leaves the prior draw unchanged under VE (β = 0).
	r, err := sample.EulerMaruyama(ve, func(tt float64, x []float64, n, d int, out []float64) error {
		for i := range out {
			out[i] = 0
		}
		return zero(tt, x, n, d, out)
	}, sample.Options{N: 20000, D: 1, Steps: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, v := meanVar(r.X)
	if sd := math.Sqrt(v); math.Abs(sd-ve.PriorStd()) > 0.03*ve.PriorStd() {
		t.Errorf("VE prior std %v, want %v", sd, ve.PriorStd())
	}
}
