package heat

import (
	"math"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/lib/sde"
)

func maxAbsDiff(a, b []float64) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

// exact is the solution for Gaussian data N(mu0, v0): N(m mu0, m² v0 + s²) (theory eq. 34).
func exact(g Grid, p sde.Process, t, mu0, v0 float64) []float64 {
	m, s := p.Mean(t), p.Std(t)
	return g.Eval(func(x float64) float64 { return Normal(x, m*mu0, math.Sqrt(m*m*v0+s*s)) })
}

func processes(t *testing.T) map[string]sde.Process {
	t.Helper()
	out := map[string]sde.Process{}
	for name, c := range map[string]sde.Config{
		"ve":          {Process: "ve", SigmaMax: 3, T: 1},
		"vp":          sde.ToyConfig("vp"),
		"family k=2":  {Process: "vpfamily", Kappa: 2, BetaConst: 1, T: 1},
		"family k=.5": {Process: "vpfamily", Kappa: 0.5, BetaConst: 1, T: 1},
	} {
		p, err := sde.New(c)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = p
	}
	return out
}

// Both the finite-difference solution and the Green's-function integral match
// the exact Gaussian solution; the FD error falls ~4x when dx and dt halve.
func TestSolveAndGreenMatchExact(t *testing.T) {
	const mu0, v0 = 1.0, 0.25
	for name, p := range processes(t) {
		// Start at t0 = 0.05 from the exact density, so the κ > 1 family's g² singularity at 0 is avoided.
		t0, t1 := 0.05, 1.0
		var errs []float64
		for _, n := range []int{301, 601} {
			g := Grid{Min: -14, Max: 14, N: n}
			p0 := exact(g, p, t0, mu0, v0)
			got, err := Solve(g, p0, p, t0, t1, (n-1)/2)
			if err != nil {
				t.Fatal(err)
			}
			want := exact(g, p, t1, mu0, v0)
			peak := 0.0
			for _, v := range want {
				peak = math.Max(peak, v)
			}
			errs = append(errs, maxAbsDiff(got, want)/peak)
			if mass := g.Mass(got); math.Abs(mass-1) > 1e-6 {
				t.Errorf("%s: FD mass %v, want 1", name, mass)
			}
		}
		if errs[1] > 1e-3 {
			t.Errorf("%s: FD max error %g (relative to the peak) at N=601, want <= 1e-3", name, errs[1])
		}
		if ratio := errs[0] / errs[1]; ratio < 3 || ratio > 5 {
			t.Errorf("%s: FD error ratio %g (errors %g, %g), want ~4 (second order)", name, ratio, errs[0], errs[1])
		}

		g := Grid{Min: -14, Max: 14, N: 1401}
		// Green's function from t = 0: p0 is the data density itself (theory eq. 3).
		p0 := g.Eval(func(x float64) float64 { return Normal(x, mu0, math.Sqrt(v0)) })
		got, err := Green(g, p0, p.Mean(t1), p.Std(t1))
		if err != nil {
			t.Fatal(err)
		}
		if e := maxAbsDiff(got, exact(g, p, t1, mu0, v0)); e > 1e-9 {
			t.Errorf("%s: Green max error %g, want <= 1e-9", name, e)
		}
	}
}

// The pure heat equation (theory eq. 1) with γ(t) = 2t spreads a Gaussian by σ²(t) = t² (theory eq. 5).
func TestHeatGamma(t *testing.T) {
	g := Grid{Min: -10, Max: 10, N: 801}
	p0 := g.Eval(func(x float64) float64 { return Normal(x, 0, 0.5) })
	got, err := Solve(g, p0, Heat{Gamma: func(t float64) float64 { return 2 * t }}, 0, 2, 400)
	if err != nil {
		t.Fatal(err)
	}
	want := g.Eval(func(x float64) float64 { return Normal(x, 0, math.Sqrt(0.25+4)) })
	if e := maxAbsDiff(got, want); e > 2e-5 {
		t.Errorf("heat equation max error %g, want <= 2e-5", e)
	}
}

func TestErrors(t *testing.T) {
	g := Grid{Min: -1, Max: 1, N: 5}
	ok := []float64{0, 1, 2, 1, 0}
	heat := Heat{Gamma: func(float64) float64 { return 1 }}
	bad := Heat{Gamma: func(float64) float64 { return -1 }}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"small grid", func() error { _, err := Solve(Grid{Min: 0, Max: 1, N: 2}, ok[:2], heat, 0, 1, 1); return err }(), "N >= 3"},
		{"empty interval", func() error { _, err := Solve(Grid{Min: 1, Max: 1, N: 5}, ok, heat, 0, 1, 1); return err }(), "Max > Min"},
		{"NaN interval", func() error { _, err := Solve(Grid{Min: math.NaN(), Max: 1, N: 5}, ok, heat, 0, 1, 1); return err }(), "finite"},
		{"length", func() error { _, err := Solve(g, ok[:4], heat, 0, 1, 1); return err }(), "4 values, grid has 5"},
		{"NaN density", func() error { _, err := Solve(g, []float64{0, math.NaN(), 0, 0, 0}, heat, 0, 1, 1); return err }(), "value 1"},
		{"times", func() error { _, err := Solve(g, ok, heat, 1, 0, 1); return err }(), "t1 >= t0"},
		{"steps", func() error { _, err := Solve(g, ok, heat, 0, 1, 0); return err }(), "steps=0"},
		{"nil coeffs", func() error { _, err := Solve(g, ok, nil, 0, 1, 1); return err }(), "nil coefficients"},
		{"negative g2", func() error { _, err := Solve(g, ok, bad, 0, 1, 1); return err }(), "g2=-1"},
		{"green m", func() error { _, err := Green(g, ok, 0, 1); return err }(), "m=0"},
		{"green s", func() error { _, err := Green(g, ok, 1, 0.1); return err }(), "grid spacing"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, c.err, c.want)
		}
	}
}

func TestGridHelpers(t *testing.T) {
	g := Grid{Min: -1, Max: 1, N: 5}
	x := g.X()
	want := []float64{-1, -0.5, 0, 0.5, 1}
	if maxAbsDiff(x, want) != 0 || g.Dx() != 0.5 {
		t.Errorf("X = %v, Dx = %v", x, g.Dx())
	}
	// Trapezoid of 1 - x² on [-1, 1] with h = 0.5: 0.5*(0 + 0.75 + 1 + 0.75 + 0) = 1.25.
	if m := g.Mass(g.Eval(func(x float64) float64 { return 1 - x*x })); math.Abs(m-1.25) > 1e-15 {
		t.Errorf("Mass = %v, want 1.25", m)
	}
}
