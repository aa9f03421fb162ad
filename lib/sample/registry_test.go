package sample_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/lib/sample"
	"github.com/pdediff/pdediff/lib/sde"
)

// Every registered sampler runs through its Spec with an exact score and
// draws near the exact mean; fixed-step ones use NFEPerStep × steps score
// evaluations.
func TestRegistryRunsEverySampler(t *testing.T) {
	p := mustProc(t, sde.ToyConfig("vp"))
	g := gaussian1D(t, 1, 0.5)
	if got := sample.Names(); !slices.Equal(got, []string{"ode", "sde", "sde-karras", "em", "euler", "heun", "rk4", "heun-edm", "dpmpp2m"}) {
		t.Errorf("names %v", got)
	}
	for _, info := range sample.Samplers() {
		spec := sample.Spec{Name: info.Name, Steps: 200}
		if info.TakesAlpha {
			spec.Alpha = 0.5
		}
		r, err := spec.Run(p, g.ScoreFunc(p), sample.Options{N: 4000, D: 1, Seed: 3})
		if err != nil {
			t.Fatalf("%s: %v", info.Name, err)
		}
		m := 0.0
		for _, x := range r.X {
			m += x / float64(len(r.X))
		}
		if math.Abs(m-1) > 0.05 {
			t.Errorf("%s: mean %.3f, want 1 ± 0.05", info.Name, m)
		}
		if !info.Adaptive && r.NFE != info.NFEPerStep*200 {
			t.Errorf("%s: NFE %d, want %d", info.Name, r.NFE, info.NFEPerStep*200)
		}
	}
}

func TestSpecValidate(t *testing.T) {
	for _, c := range []struct {
		spec sample.Spec
		want string
	}{
		{sample.Spec{Name: "dopri5"}, "unknown sampler"},
		{sample.Spec{Name: "em", Alpha: math.NaN()}, "alpha"},
		{sample.Spec{Name: "em", Alpha: -1}, "alpha"},
		{sample.Spec{Name: "heun", Alpha: 1}, "fixes alpha"},
		{sample.Spec{Name: "rk4", Steps: -2}, "steps"},
		{sample.Spec{Name: "ode", Rtol: math.Inf(1)}, "rtol"},
		{sample.Spec{Name: "ode", Times: []float64{1, 0.5}}, "no time grid"},
		{sample.Spec{Name: "heun", Times: []float64{1, 1, 0.5}}, "decrease"},
		{sample.Spec{Name: "heun", Times: []float64{1}}, "at least 2"},
		{sample.Spec{Name: "heun", Times: []float64{1, 0}}, "must lie in"},
		{sample.Spec{Name: "ode", Eps: -1e-5}, "eps"},
		{sample.Spec{Name: "ode", Eps: math.NaN()}, "eps"},
		{sample.Spec{Name: "heun", Eps: 1e-5, Times: []float64{1, 0.5}}, "not both"},
	} {
		err := c.spec.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one containing %q", c.spec, err, c.want)
		}
	}
	for _, ok := range []sample.Spec{{Name: "ode"}, {Name: "sde", Steps: 10}, {Name: "em", Alpha: 2}, {Name: "euler", Times: []float64{1, 0.5, 0.001}}} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
}

// An explicit uniform grid gives the same numbers as Steps; the Observe hook
// sees every state, in decreasing time, the last one equal to the result.
func TestTimeGridAndObserve(t *testing.T) {
	p := mustProc(t, sde.ToyConfig("ve"))
	g := gaussian1D(t, 0, 1)
	const steps = 50
	grid := make([]float64, steps+1)
	for k := range grid {
		grid[k] = 1 - float64(k)*(1-sample.DefaultEps)/steps
	}
	grid[steps] = sample.DefaultEps
	for _, name := range []string{"sde", "heun", "rk4"} {
		base := sample.Options{N: 100, D: 1, Seed: 9}
		a, err := sample.Spec{Name: name, Steps: steps}.Run(p, g.ScoreFunc(p), base)
		if err != nil {
			t.Fatal(err)
		}
		var times []float64
		var last []float64
		obs := base
		obs.Observe = func(tt float64, x []float64) { times = append(times, tt); last = append(last[:0], x...) }
		b, err := sample.Spec{Name: name, Times: grid}.Run(p, g.ScoreFunc(p), obs)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(a.X, b.X); d > 1e-12 {
			t.Errorf("%s: grid vs steps differ by %g", name, d)
		}
		if len(times) != steps+1 || times[0] != 1 || times[steps] != sample.DefaultEps || !slices.IsSortedFunc(times, func(x, y float64) int { return -cmpF(x, y) }) {
			t.Errorf("%s: observed %d times %v…", name, len(times), times[:min(3, len(times))])
		}
		if !slices.Equal(last, b.X) {
			t.Errorf("%s: last observed state is not the result", name)
		}
	}
	var n int
	r, err := sample.Spec{Name: "ode"}.Run(p, g.ScoreFunc(p), sample.Options{N: 10, D: 1, Observe: func(float64, []float64) { n++ }})
	if err != nil || n != r.Steps+1 {
		t.Errorf("ode: %d observations for %d steps (%v)", n, r.Steps, err)
	}
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ReverseDrift is −β/2 x − (1+α)/2 g² S (theory eq. 47).
func TestReverseDrift(t *testing.T) {
	p := mustProc(t, family(2, sde.VariantPower))
	x, s := []float64{0.5, -2}, []float64{1.5, 0.25}
	out := make([]float64, 2)
	for _, alpha := range []float64{0, 1, 2.5} {
		sde.ReverseDrift(p, 0.3, alpha, x, s, out)
		for i := range x {
			want := -0.5*p.Beta(0.3)*x[i] - 0.5*(1+alpha)*p.G2(0.3)*s[i]
			if math.Abs(out[i]-want) > 1e-14*math.Abs(want) {
				t.Errorf("alpha %v: drift[%d] = %v, want %v", alpha, i, out[i], want)
			}
		}
	}
}

// TestSpecEps: Spec.Eps sets the end time. With the exact score of N(1, 0.02²)
// under VE, the PF-ODE draws at t = ε have std sqrt(0.02² + s(ε)²) (theory
// eq. 29): 0.037 at the default 1e-3, 0.0202 at 1e-5.
func TestSpecEps(t *testing.T) {
	p := mustProc(t, sde.FluxConfig("ve"))
	g := gaussian1D(t, 1, 0.02)
	for _, eps := range []float64{0, 1e-5} {
		spec := sample.Spec{Name: "ode", Eps: eps}
		r, err := spec.Run(p, g.ScoreFunc(p), sample.Options{N: 4000, D: 1, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		m, v := 0.0, 0.0
		for _, x := range r.X {
			m += x / float64(len(r.X))
		}
		for _, x := range r.X {
			v += (x - m) * (x - m) / float64(len(r.X)-1)
		}
		e := eps
		if e == 0 {
			e = sample.DefaultEps
		}
		want := math.Sqrt(0.02*0.02 + p.Std(e)*p.Std(e))
		if got := math.Sqrt(v); math.Abs(got/want-1) > 0.05 {
			t.Errorf("eps %g: std %.5f, want %.5f ± 5 %%", eps, got, want)
		}
		if eps > 0 && !strings.Contains(spec.String(), "eps 1e-05") {
			t.Errorf("label %q does not name eps", spec.String())
		}
	}
}
