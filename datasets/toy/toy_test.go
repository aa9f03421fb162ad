package toy

import (
	"math"
	"slices"
	"testing"
)

func meanVar(v []float64) (m, s2 float64) {
	for _, x := range v {
		m += x
	}
	m /= float64(len(v))
	for _, x := range v {
		s2 += (x - m) * (x - m)
	}
	return m, s2 / float64(len(v)-1)
}

func TestExactConditionalMoments(t *testing.T) {
	const n = 200000
	for _, y0 := range []float64{-2, -0.5, 1, 2.5} {
		x, err := ExactConditional(Tanh, y0, n, 7)
		if err != nil {
			t.Fatal(err)
		}
		m, v := meanVar(x)
		// Exp(mean 0.3): E = tanh(y)+0.3, Var = 0.09, min = tanh(y).
		if math.Abs(m-(math.Tanh(y0)+0.3)) > 4*0.3/math.Sqrt(n) {
			t.Errorf("tanh y=%v: mean %v, want %v", y0, m, math.Tanh(y0)+0.3)
		}
		if math.Abs(v-0.09) > 0.003 {
			t.Errorf("tanh y=%v: var %v, want 0.09", y0, v)
		}
		if slices.Min(x) < math.Tanh(y0) {
			t.Errorf("tanh y=%v: sample below tanh(y)", y0)
		}
	}
	for _, y0 := range []float64{-1, 0.5} {
		x, err := ExactConditional(Bimodal, y0, n, 7)
		if err != nil {
			t.Fatal(err)
		}
		cubes := make([]float64, n)
		for i, v := range x {
			cubes[i] = v * v * v
		}
		m, v := meanVar(cubes) // x³ | y ~ N(y, 1)
		if math.Abs(m-y0) > 4/math.Sqrt(n) || math.Abs(v-1) > 0.02 {
			t.Errorf("bimodal y=%v: E[x³] = %v (want %v), Var[x³] = %v (want 1)", y0, m, y0, v)
		}
	}
}

func TestJointMoments(t *testing.T) {
	const n = 200000
	// Tanh: E[x] = E[tanh y] + 0.3 = 0.3; E[y] = 0; Var y = 3.
	x, y, err := Sample(Tanh, n, 3)
	if err != nil {
		t.Fatal(err)
	}
	mx, _ := meanVar(x)
	my, vy := meanVar(y)
	if math.Abs(mx-0.3) > 0.01 || math.Abs(my) > 0.02 || math.Abs(vy-3) > 0.03 || slices.Max(y) > 3 || slices.Min(y) < -3 {
		t.Errorf("tanh joint: E[x]=%v E[y]=%v Var[y]=%v", mx, my, vy)
	}
	// Bimodal: E[x³] = 0, E[x³ y] = E[y²] = 1, Var[x³] = 2.
	x, y, err = Sample(Bimodal, n, 3)
	if err != nil {
		t.Fatal(err)
	}
	var s3, s3y, s6 float64
	for i := range x {
		c := x[i] * x[i] * x[i]
		s3 += c
		s3y += c * y[i]
		s6 += c * c
	}
	if math.Abs(s3/n) > 0.015 || math.Abs(s3y/n-1) > 0.03 || math.Abs(s6/n-2) > 0.04 {
		t.Errorf("bimodal joint: E[x³]=%v E[x³y]=%v E[x⁶]=%v (want 0, 1, 2)", s3/n, s3y/n, s6/n)
	}
	// Spiral: E[x² + y²] = 0.01 E[ϑ²] + 2·0.01 with ϑ ~ U(a, b): E[ϑ²] = (a²+ab+b²)/3;
	// E[x] = 0.1·(sin ϑ − ϑ cos ϑ)|/(b−a) = 0.2/(3π); E[y] = 0.1·(cos ϑ + ϑ sin ϑ)|/(b−a) = 0.2.
	x, y, err = Sample(Spiral, n, 3)
	if err != nil {
		t.Fatal(err)
	}
	a, b := SpiralThetaMin, SpiralThetaMax
	wantR2 := 0.01*(a*a+a*b+b*b)/3 + 0.02
	var r2 float64
	for i := range x {
		r2 += x[i]*x[i] + y[i]*y[i]
	}
	mx, _ = meanVar(x)
	my, _ = meanVar(y)
	if math.Abs(r2/n-wantR2) > 0.01 || math.Abs(mx-0.2/(3*math.Pi)) > 0.006 || math.Abs(my-0.2) > 0.006 {
		t.Errorf("spiral joint: E[r²]=%v (want %v) E[x]=%v (want %v) E[y]=%v (want 0.2)", r2/n, wantR2, mx, 0.2/(3*math.Pi), my)
	}
}

func TestBandSelection(t *testing.T) {
	x := []float64{10, 11, 12, 13, 14, 15}
	y := []float64{0.94, 0.951, 1.0, 1.049, 1.0500001, -1}
	got, err := Band(x, y, 1, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{11, 12, 13}
	if !slices.Equal(got, want) {
		t.Errorf("band = %v, want %v", got, want)
	}
	got, _ = Band(x, y, 1, 0.0601)
	if !slices.Equal(got, []float64{10, 11, 12, 13, 14}) {
		t.Errorf("band 0.051 = %v", got)
	}
	for _, bad := range []struct {
		name   string
		x, y   []float64
		y0, hw float64
	}{
		{"length mismatch", x, y[:2], 1, 0.05},
		{"NaN y0", x, y, math.NaN(), 0.05},
		{"zero width", x, y, 1, 0},
		{"negative width", x, y, 1, -1},
		{"inf width", x, y, 1, math.Inf(1)},
	} {
		if _, err := Band(bad.x, bad.y, bad.y0, bad.hw); err == nil {
			t.Errorf("%s: no error", bad.name)
		}
	}
}

func TestReferenceMatchesExact(t *testing.T) {
	// The band conditional's mean agrees with the exact conditional's.
	ys := []float64{-1, 1}
	for _, c := range []Case{Tanh, Bimodal} {
		ref, err := Reference(c, ys, ReferenceOptions{}, 11)
		if err != nil {
			t.Fatal(err)
		}
		for i, y0 := range ys {
			if len(ref[i]) < 500 {
				t.Fatalf("%s y=%v: only %d band samples", c, y0, len(ref[i]))
			}
			m, v := meanVar(ref[i])
			var want float64
			if c == Tanh {
				want = math.Tanh(y0) + 0.3
			} else {
				ex, _ := ExactConditional(c, y0, 100000, 1)
				want, _ = meanVar(ex)
			}
			if se := math.Sqrt(v / float64(len(ref[i]))); math.Abs(m-want) > 4*se+0.01 {
				t.Errorf("%s y=%v: band mean %v (n=%d), exact %v", c, y0, m, len(ref[i]), want)
			}
		}
	}
}

func TestDensitiesNormalisedAndConsistent(t *testing.T) {
	for _, tc := range []struct {
		c      Case
		y0     float64
		lo, hi float64
	}{
		{Tanh, 1, -2, 6}, {Bimodal, 0.5, -4, 4}, {Spiral, 0.4, -2.5, 2.5}, {Spiral, -0.8, -2.5, 2.5},
	} {
		const m = 2000
		h := (tc.hi - tc.lo) / m
		var mass, mean float64
		for k := 0; k < m; k++ {
			x := tc.lo + (float64(k)+0.5)*h
			p, err := ConditionalDensity(tc.c, x, tc.y0)
			if err != nil {
				t.Fatal(err)
			}
			mass += p * h
			mean += x * p * h
		}
		if math.Abs(mass-1) > 0.01 {
			t.Errorf("%s y=%v: ∫p(x|y)dx = %v", tc.c, tc.y0, mass)
		}
		// Compare the density's mean with the band mean of the reference set.
		ref, err := Reference(tc.c, []float64{tc.y0}, ReferenceOptions{HalfWidth: 0.02}, 5)
		if err != nil {
			t.Fatal(err)
		}
		bm, bv := meanVar(ref[0])
		if se := math.Sqrt(bv / float64(len(ref[0]))); math.Abs(bm-mean) > 4*se+0.01 {
			t.Errorf("%s y=%v: density mean %v, band mean %v ± %v", tc.c, tc.y0, mean, bm, se)
		}
	}
	// Closed-form spot values.
	p, _ := ConditionalDensity(Tanh, math.Tanh(1)+0.3, 1)
	if want := math.Exp(-1) / 0.3; math.Abs(p-want) > 1e-12 {
		t.Errorf("tanh density %v, want %v", p, want)
	}
	if p, _ := ConditionalDensity(Bimodal, 0, 0.3); p != 0 {
		t.Errorf("bimodal density at x=0 is %v, want 0", p)
	}
	j, _ := JointDensity(Tanh, 0.5, 4)
	if j != 0 {
		t.Errorf("tanh joint outside support = %v", j)
	}
}

func TestDeterminismAndErrors(t *testing.T) {
	for _, c := range Cases() {
		x1, y1, err := Sample(c, 1000, 42)
		if err != nil {
			t.Fatal(err)
		}
		x2, y2, _ := Sample(c, 1000, 42)
		x3, _, _ := Sample(c, 1000, 43)
		x4, y4, _ := Sample(c, 10, 42)
		if !slices.Equal(x1, x2) || !slices.Equal(y1, y2) {
			t.Errorf("%s: same seed, different samples", c)
		}
		if slices.Equal(x1, x3) {
			t.Errorf("%s: different seeds, same samples", c)
		}
		if !slices.Equal(x4, x1[:10]) || !slices.Equal(y4, y1[:10]) {
			t.Errorf("%s: a shorter draw is not a prefix", c)
		}
	}
	if _, err := ParseCase("swissroll"); err == nil {
		t.Error("ParseCase(swissroll): no error")
	}
	if c, err := ParseCase(" Spiral "); err != nil || c != Spiral {
		t.Errorf("ParseCase(Spiral) = %v, %v", c, err)
	}
	if _, _, err := Sample("nope", 10, 1); err == nil {
		t.Error("Sample(nope): no error")
	}
	if _, _, err := Sample(Tanh, 0, 1); err == nil {
		t.Error("Sample(n=0): no error")
	}
	if _, err := ExactConditional(Spiral, 0, 10, 1); err == nil {
		t.Error("ExactConditional(spiral): no error")
	}
	if _, err := ExactConditional(Tanh, math.Inf(1), 10, 1); err == nil {
		t.Error("ExactConditional(y=Inf): no error")
	}
	if _, err := ConditionalDensity(Tanh, 0, 3.5); err == nil {
		t.Error("ConditionalDensity(tanh, y outside support): no error")
	}
	if _, err := JointDensity(Bimodal, math.NaN(), 0); err == nil {
		t.Error("JointDensity(NaN): no error")
	}
	if _, err := DefaultYValues("x"); err == nil {
		t.Error("DefaultYValues(x): no error")
	}
	if ys, _ := DefaultYValues(Tanh); !slices.Equal(ys, []float64{-2, -1, 1, 2}) {
		t.Errorf("tanh y values %v", ys)
	}
}
