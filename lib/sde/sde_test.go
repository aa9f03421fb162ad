package sde

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/integrate/quad"
)

// testProcesses returns the processes every property test runs over: VE and VP
// at the toy settings of theory §5.1 and the family at κ ∈ {0.5, 2} in both variants.
func testProcesses(t *testing.T) map[string]Process {
	t.Helper()
	lin, err := NewLinearBeta(0.001, 15)
	if err != nil {
		t.Fatal(err)
	}
	ve, err := NewVE(12, 1)
	if err != nil {
		t.Fatal(err)
	}
	vp, err := NewVP(lin, 1)
	if err != nil {
		t.Fatal(err)
	}
	ps := map[string]Process{"ve": ve, "vp": vp}
	for _, k := range []float64{0.5, 2} {
		for _, v := range Variants() {
			f, err := NewFamily(lin, k, v, 1)
			if err != nil {
				t.Fatal(err)
			}
			ps["family-"+string(v)+"-"+strconv.FormatFloat(k, 'g', -1, 64)] = f
		}
	}
	return ps
}

func TestClosedFormsMatchQuadrature(t *testing.T) {
	// VE: σ²(t) = ∫₀ᵗ γ (theory eq. 5); VP: B(t) = ∫₀ᵗ β.
	ve, _ := NewVE(12, 1)
	lin, _ := NewLinearBeta(0.001, 15)
	for _, tt := range []float64{0.001, 0.1, 0.37, 0.8, 1} {
		got := ve.Std(tt) * ve.Std(tt)
		want := quad.Fixed(ve.G2, 0, tt, 20, nil, 0)
		if math.Abs(got-want) > 1e-12*math.Max(1, want) {
			t.Errorf("VE sigma^2(%v) = %.15g, quadrature %.15g", tt, got, want)
		}
		gotB := lin.Integral(tt)
		wantB := quad.Fixed(lin.Beta, 0, tt, 5, nil, 0)
		if math.Abs(gotB-wantB) > 1e-12 {
			t.Errorf("B(%v) = %.15g, quadrature %.15g", tt, gotB, wantB)
		}
	}
	c, _ := NewConstantBeta(1)
	if got := c.Integral(7); got != 7 {
		t.Errorf("constant B(7) = %v, want 7", got)
	}
	// Known endpoints (theory §1.5): VE σ(1) ≈ 5.36 (σ_max=12), ≈ 2.73 (σ_max=5); VP m(1) = e^{-3.75/…}.
	ve5, _ := NewVE(5, 1)
	vp, _ := NewVP(lin, 1)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"VE12 s(1)", ve.Std(1), math.Sqrt((144 - 1) / (2 * math.Log(12)))},
		{"VE5 s(1)", ve5.Std(1), math.Sqrt((25 - 1) / (2 * math.Log(5)))},
		{"VP m(1)", vp.Mean(1), math.Exp(-0.5 * (0.001 + 0.5*(15-0.001)))},
	} {
		if math.Abs(c.got-c.want) > 1e-14 {
			t.Errorf("%s = %.16g, want %.16g", c.name, c.got, c.want)
		}
	}
	if math.Abs(ve.Std(1)-5.37) > 0.01 || math.Abs(ve5.Std(1)-2.73) > 0.01 {
		t.Errorf("VE endpoints %v %v, theory §1.5 gives about 5.36 and 2.73", ve.Std(1), ve5.Std(1))
	}
}

func TestInitialValues(t *testing.T) {
	for name, p := range testProcesses(t) {
		if m := p.Mean(0); m != 1 {
			t.Errorf("%s: m(0) = %v, want 1", name, m)
		}
		if s := p.Std(0); s != 0 {
			t.Errorf("%s: s(0) = %v, want 0", name, s)
		}
		for _, tt := range []float64{0, 1e-9, 1e-3, 0.5, 1} {
			for _, v := range []float64{p.Mean(tt), p.Std(tt), p.Beta(tt)} {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Errorf("%s: non-finite coefficient at t=%v", name, tt)
				}
			}
			if g := p.G2(tt); math.IsNaN(g) || (tt > 0 && math.IsInf(g, 0)) {
				t.Errorf("%s: g2(%v) = %v", name, tt, g)
			}
		}
	}
}

func TestFamilyInvariantAndKappaOne(t *testing.T) {
	lin, _ := NewLinearBeta(0.001, 15)
	con, _ := NewConstantBeta(1)
	for _, sched := range []BetaSchedule{lin, con} {
		vp, _ := NewVP(sched, 1)
		for _, v := range Variants() {
			one, _ := NewFamily(sched, 1, v, 1)
			for _, tt := range []float64{0, 1e-4, 0.01, 0.3, 0.77, 1} {
				for _, c := range []struct {
					name      string
					got, want float64
				}{
					{"m", one.Mean(tt), vp.Mean(tt)}, {"s", one.Std(tt), vp.Std(tt)},
					{"beta", one.Beta(tt), vp.Beta(tt)}, {"g2", one.G2(tt), vp.G2(tt)},
				} {
					if math.Abs(c.got-c.want) > 1e-12 {
						t.Errorf("%s %s kappa=1 %s(%v) = %.16g, VP %.16g", sched, v, c.name, tt, c.got, c.want)
					}
				}
			}
			if one.PriorStd() != vp.PriorStd() {
				t.Errorf("prior std differs")
			}
		}
		for _, k := range []float64{0.25, 0.5, 2, 4} {
			pw, _ := NewFamily(sched, k, VariantPower, 1)
			alt, _ := NewFamily(sched, k, VariantAlt, 1)
			for _, tt := range []float64{1e-3, 0.2, 1} {
				m, s := pw.Mean(tt), pw.Std(tt)
				if inv := math.Pow(m, 2*k) + math.Pow(s, 2*k); math.Abs(inv-1) > 1e-12 {
					t.Errorf("power kappa=%v: m^2k+s^2k = %.16g at t=%v", k, inv, tt)
				}
				ma, sa := alt.Mean(tt), alt.Std(tt)
				if inv := math.Pow(ma, 2*k) + sa*sa; math.Abs(inv-1) > 1e-12 {
					t.Errorf("alt kappa=%v: m^2k+s^2 = %.16g at t=%v", k, inv, tt)
				}
			}
		}
	}
}

// TestVarianceODE checks d(s²)/dt = −β s² + g² (theory eq. 32, the second moment of theory eq. 27)
// and dm/dt = −β m/2 by central differences.
func TestVarianceODE(t *testing.T) {
	for name, p := range testProcesses(t) {
		for _, tt := range []float64{0.01, 0.1, 0.5, 0.9} {
			h := 1e-5
			ds2 := (sq(p.Std(tt+h)) - sq(p.Std(tt-h))) / (2 * h)
			want := -p.Beta(tt)*sq(p.Std(tt)) + p.G2(tt)
			if math.Abs(ds2-want) > 1e-6*math.Max(1, math.Abs(want)) {
				t.Errorf("%s t=%v: d(s^2)/dt = %.10g, -beta s^2 + g2 = %.10g", name, tt, ds2, want)
			}
			dm := (p.Mean(tt+h) - p.Mean(tt-h)) / (2 * h)
			if wantm := -0.5 * p.Beta(tt) * p.Mean(tt); math.Abs(dm-wantm) > 1e-7 {
				t.Errorf("%s t=%v: dm/dt = %.10g, want %.10g", name, tt, dm, wantm)
			}
		}
	}
}

func sq(x float64) float64 { return x * x }

// TestKernelSolvesForwardPDE checks by finite differences that the 1-D Gaussian
// kernel N(x; m x0, s²) solves ∂p/∂t = β/2 ∂x(x p) + g²/2 ∂²p/∂x² (theory eq. 27).
func TestKernelSolvesForwardPDE(t *testing.T) {
	const x0 = 0.7
	for name, p := range testProcesses(t) {
		kern := func(x, tt float64) float64 {
			m, s := p.Mean(tt), p.Std(tt)
			return math.Exp(-sq(x-m*x0)/(2*s*s)) / (s * math.Sqrt(2*math.Pi))
		}
		for _, tt := range []float64{0.05, 0.3, 0.8} {
			s := p.Std(tt)
			for _, z := range []float64{-1.5, -0.3, 0.4, 2} {
				x := p.Mean(tt)*x0 + z*s
				ht, hx := 1e-6, 1e-4*s
				dt := (kern(x, tt+ht) - kern(x, tt-ht)) / (2 * ht)
				flux := func(x float64) float64 { return x * kern(x, tt) }
				dxflux := (flux(x+hx) - flux(x-hx)) / (2 * hx)
				dxx := (kern(x+hx, tt) - 2*kern(x, tt) + kern(x-hx, tt)) / (hx * hx)
				rhs := 0.5*p.Beta(tt)*dxflux + 0.5*p.G2(tt)*dxx
				scale := math.Abs(0.5*p.Beta(tt)*dxflux) + math.Abs(0.5*p.G2(tt)*dxx) + 1e-3
				if math.Abs(dt-rhs) > 1e-4*scale {
					t.Errorf("%s t=%v x=%v: dp/dt = %.8g, PDE rhs = %.8g", name, tt, x, dt, rhs)
				}
			}
		}
	}
}

func TestFamilyG2AtZero(t *testing.T) {
	lin, _ := NewLinearBeta(0.001, 15)
	lin0, _ := NewLinearBeta(0, 15)
	for _, c := range []struct {
		sched BetaSchedule
		kappa float64
		want  float64
	}{
		{lin, 0.5, 0}, {lin, 1, 0.001}, {lin, 2, math.Inf(1)},
		{lin0, 0.5, 0}, {lin0, 1.5, 0}, {lin0, 2, math.Sqrt(15)}, {lin0, 3, math.Inf(1)},
	} {
		f, _ := NewFamily(c.sched, c.kappa, VariantPower, 1)
		got := f.G2(0)
		if !(got == c.want || math.Abs(got-c.want) < 1e-6) {
			t.Errorf("%s kappa=%v: g2(0) = %v, want %v", c.sched, c.kappa, got, c.want)
		}
		// the right limit agrees with small t where finite
		if !math.IsInf(c.want, 0) {
			if near := f.G2(1e-9); math.Abs(near-c.want) > 1e-2 {
				t.Errorf("%s kappa=%v: g2(1e-9) = %v, g2(0) = %v", c.sched, c.kappa, near, got)
			}
		}
	}
	alt, _ := NewFamily(lin, 2, VariantAlt, 1)
	if got := alt.G2(0); math.Abs(got-2*0.001) > 1e-15 {
		t.Errorf("alt kappa=2 g2(0) = %v, want kappa*beta_min = 0.002", got)
	}
}

func TestConfigAndValidation(t *testing.T) {
	p, err := New(ToyConfig("ve"))
	if err != nil || p.Name() != "ve" || p.(*VE).SigmaMax() != 12 {
		t.Fatalf("toy ve: %v %v", p, err)
	}
	p, err = New(FluxConfig("ve"))
	if err != nil || p.(*VE).SigmaMax() != 5 {
		t.Fatalf("flux ve: %v %v", p, err)
	}
	if math.Abs(p.PriorStd()-p.Std(1)) != 0 {
		t.Errorf("VE prior std %v != s(T) %v", p.PriorStd(), p.Std(1))
	}
	fc := ToyConfig("vpfamily")
	fc.Kappa, fc.Variant, fc.BetaConst = 2, VariantAlt, 1
	p, err = New(fc)
	if err != nil {
		t.Fatal(err)
	}
	if f := p.(*Family); f.Kappa() != 2 || f.Variant() != VariantAlt || f.Beta(0.3) != 1 {
		t.Errorf("family config not applied: %+v", f)
	}
	bad := []struct {
		name string
		mod  func(c *Config)
		msg  string
	}{
		{"unknown process", func(c *Config) { c.Process = "vv" }, "ve, vp, vpfamily"},
		{"sigma_max<=1", func(c *Config) { c.Process, c.SigmaMax = "ve", 1 }, "sigma_max"},
		{"sigma_max NaN", func(c *Config) { c.Process, c.SigmaMax = "ve", math.NaN() }, "sigma_max"},
		{"beta_max<beta_min", func(c *Config) { c.BetaMax = 0.0001 }, "beta_max"},
		{"beta_min<0", func(c *Config) { c.BetaMin = -1 }, "beta_min"},
		{"kappa<=0", func(c *Config) { c.Kappa = 0 }, "kappa"},
		{"kappa<0", func(c *Config) { c.Kappa = -1 }, "kappa"},
		{"variant", func(c *Config) { c.Variant = "cube" }, "variant"},
		{"T<=0", func(c *Config) { c.T = 0 }, "T="},
		{"T Inf", func(c *Config) { c.T = math.Inf(1) }, "T="},
		{"const beta<0", func(c *Config) { c.BetaConst = -2 }, "constant beta"},
	}
	for _, b := range bad {
		c := ToyConfig("vpfamily")
		b.mod(&c)
		if _, err := New(c); err == nil || !strings.Contains(err.Error(), b.msg) {
			t.Errorf("%s: error %v, want one mentioning %q", b.name, err, b.msg)
		}
	}
	vp, _ := New(ToyConfig("vp"))
	for _, tt := range []float64{-0.1, 1.0001, math.NaN()} {
		if err := CheckTime(vp, tt); err == nil {
			t.Errorf("CheckTime(%v) accepted", tt)
		}
	}
	for _, tt := range []float64{0, 0.5, 1} {
		if err := CheckTime(vp, tt); err != nil {
			t.Errorf("CheckTime(%v): %v", tt, err)
		}
	}
}

// TestTransition: composing the transitions 0→t1→t2 reproduces the kernel at t2,
// and the transition variance satisfies the variance ODE for small steps.
func TestTransition(t *testing.T) {
	for name, p := range testProcesses(t) {
		for _, c := range [][2]float64{{0, 0.4}, {0.2, 0.5}, {0.5, 1}, {0.7, 0.7}} {
			r, sd, err := Transition(p, c[0], c[1])
			if err != nil {
				t.Fatal(err)
			}
			if got, want := r*p.Mean(c[0]), p.Mean(c[1]); math.Abs(got-want) > 1e-14 {
				t.Errorf("%s %v: composed mean factor %v, want %v", name, c, got, want)
			}
			if got, want := r*r*sq(p.Std(c[0]))+sd*sd, sq(p.Std(c[1])); math.Abs(got-want) > 1e-12*math.Max(1, want) {
				t.Errorf("%s %v: composed variance %v, want %v", name, c, got, want)
			}
		}
		// For a small step the transition variance is ≈ g² dt.
		h := 1e-6
		_, sd, _ := Transition(p, 0.5, 0.5+h)
		if got, want := sd*sd/h, p.G2(0.5); math.Abs(got-want) > 1e-4*want {
			t.Errorf("%s: transition var/dt = %v, g2 = %v", name, got, want)
		}
	}
	vp, _ := New(ToyConfig("vp"))
	if _, _, err := Transition(vp, 0.5, 0.2); err == nil {
		t.Error("t2 < t1 accepted")
	}
	if _, _, err := Transition(vp, 0.5, 2); err == nil {
		t.Error("t2 > T accepted")
	}
}
