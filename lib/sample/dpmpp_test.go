package sample_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pdediff/pdediff/lib/sample"
	"github.com/pdediff/pdediff/lib/sde"
)

// The Karras grid starts at T, ends at eps, decreases, and its noise levels
// follow the rho = 7 schedule.
func TestKarrasTimes(t *testing.T) {
	for _, name := range []string{"ve", "vp"} {
		p := mustProc(t, sde.ToyConfig(name))
		ts, err := sample.KarrasTimes(p, 10, 1e-3, 7)
		if err != nil {
			t.Fatal(err)
		}
		sig := func(t float64) float64 { return p.Std(t) / p.Mean(t) }
		a, b := math.Pow(sig(1), 1.0/7), math.Pow(sig(1e-3), 1.0/7)
		for i, tt := range ts {
			want := math.Pow(a+float64(i)/10*(b-a), 7)
			if math.Abs(sig(tt)-want) > 1e-9*want || (i > 0 && !(tt < ts[i-1])) {
				t.Errorf("%s: grid[%d] = %v, sigma %v, want sigma %v", name, i, tt, sig(tt), want)
			}
		}
		if ts[0] != 1 || ts[10] != 1e-3 {
			t.Errorf("%s: grid ends %v, %v", name, ts[0], ts[10])
		}
	}
	if _, err := sample.KarrasTimes(mustProc(t, sde.ToyConfig("vp")), 0, 1e-3, 7); err == nil {
		t.Error("0 steps accepted")
	}
}

// With the exact score of Gaussian data the PF-ODE map is known
// (exactFlow). The few-step samplers converge at second order; the test logs
// how many score evaluations each needs to reach the error of Dormand–Prince
// at rtol = atol = 1e-5 (the paper's setting) — docs/perf-sampling.md records
// it.
func TestFewStepSamplersAgainstExactFlow(t *testing.T) {
	const mu, sd = 1.0, 0.5
	for _, name := range []string{"vp", "ve"} {
		p := mustProc(t, sde.ToyConfig(name))
		g := gaussian1D(t, mu, sd)
		rng := rand.New(rand.NewPCG(7, 8))
		xT := make([]float64, 2000)
		for i := range xT {
			xT[i] = p.PriorStd() * rng.NormFloat64()
		}
		exact := exactFlow(p, mu, sd, sample.DefaultEps, xT)
		base := sample.Options{XT: xT, D: 1}
		ref, err := sample.Spec{Name: "ode"}.Run(p, g.ScoreFunc(p), base)
		if err != nil {
			t.Fatal(err)
		}
		refErr := maxAbsDiff(ref.X, exact)
		t.Logf("%s: ode (rtol=atol=1e-5): NFE %d, max error %.2e", name, ref.NFE, refErr)
		for _, s := range []string{"dpmpp2m", "heun-edm"} {
			steps := []int{5, 10, 20, 40, 80, 160}
			errs := make([]float64, len(steps))
			line := ""
			reach := 0
			for i, n := range steps {
				r, err := sample.Spec{Name: s, Steps: n}.Run(p, g.ScoreFunc(p), base)
				if err != nil {
					t.Fatal(err)
				}
				errs[i] = maxAbsDiff(r.X, exact)
				line += fmt.Sprintf(" %d:%.1e", r.NFE, errs[i])
				if reach == 0 && errs[i] <= refErr {
					reach = r.NFE
				}
			}
			t.Logf("%s %s: NFE:error%s; reaches the ode error at NFE %d", name, s, line, reach)
			if ratio := errs[3] / errs[4]; ratio < 3 {
				t.Errorf("%s %s: error ratio 40 → 80 steps %.2f, want ≥ 3 (second order: 4)", name, s, ratio)
			}
			if !(errs[5] < errs[0]/100) {
				t.Errorf("%s %s: error at 160 steps %.2e not far below 5 steps' %.2e", name, s, errs[5], errs[0])
			}
		}
	}
}
