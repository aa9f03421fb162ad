package analytic

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/lib/sde"
)

func bimodal(t *testing.T) Mixture {
	t.Helper()
	m, err := NewMixture([]float64{0.3, 0.7}, [][]float64{{-1.5}, {1}}, [][]float64{{0.3}, {0.5}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func procs(t *testing.T) []sde.Process {
	t.Helper()
	var out []sde.Process
	for _, c := range []sde.Config{sde.ToyConfig("ve"), sde.ToyConfig("vp"), {Process: "vpfamily", Kappa: 2, BetaMin: 0.001, BetaMax: 15, T: 1}} {
		p, err := sde.New(c)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func TestScoreMatchesFiniteDifferenceOfLogDensity(t *testing.T) {
	g2, err := NewMixture([]float64{0.5, 0.5}, [][]float64{{-1, 2}, {1, 0}}, [][]float64{{0.4, 1}, {0.7, 0.2}})
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range []Mixture{bimodal(t), g2} {
		for _, p := range procs(t) {
			score := data.ScoreFunc(p)
			for _, tt := range []float64{0, 0.01, 0.5, 1} {
				mt, _ := data.Marginal(p, tt)
				d := data.Dim()
				x := []float64{-1.7, 0.2, 0.9, -0.4}[:d]
				out := make([]float64, d)
				if err := score(tt, x, 1, d, out); err != nil {
					t.Fatal(err)
				}
				for j := range d {
					h := 1e-5
					xp := append([]float64(nil), x...)
					xm := append([]float64(nil), x...)
					xp[j] += h
					xm[j] -= h
					fd := (mt.LogDensity(xp) - mt.LogDensity(xm)) / (2 * h)
					if math.Abs(fd-out[j]) > 1e-5*math.Max(1, math.Abs(fd)) {
						t.Errorf("%s d=%d t=%v coord %d: score %.10g, finite difference %.10g", p.Name(), d, tt, j, out[j], fd)
					}
				}
			}
		}
	}
}

func TestMarginalMatchesForwardSamples(t *testing.T) {
	data := bimodal(t)
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 200000
	for _, p := range procs(t) {
		for _, tt := range []float64{0.1, 0.6} {
			x0 := data.Sample(rng, n)
			m, s := p.Mean(tt), p.Std(tt)
			mean, m2 := 0.0, 0.0
			for i := range x0 {
				x := m*x0[i] + s*rng.NormFloat64() // theory eq. 31
				mean += x
				m2 += x * x
			}
			mean /= n
			v := m2/n - mean*mean
			mt, _ := data.Marginal(p, tt)
			wm, wv := mt.Mean()[0], mt.Var()[0]
			if se := math.Sqrt(wv / n); math.Abs(mean-wm) > 4*se {
				t.Errorf("%s t=%v: sample mean %v, exact %v (se %v)", p.Name(), tt, mean, wm, se)
			}
			if math.Abs(v-wv) > 0.02*wv {
				t.Errorf("%s t=%v: sample var %v, exact %v", p.Name(), tt, v, wv)
			}
		}
	}
	// analytic mean and variance of the data: 0.3(-1.5)+0.7(1) = 0.25; E x² = 0.3(0.09+2.25)+0.7(0.25+1)
	if got := data.Mean()[0]; math.Abs(got-0.25) > 1e-15 {
		t.Errorf("mixture mean %v, want 0.25", got)
	}
	if got, want := data.Var()[0], 0.3*(0.09+2.25)+0.7*(0.25+1)-0.0625; math.Abs(got-want) > 1e-14 {
		t.Errorf("mixture var %v, want %v", got, want)
	}
}

func TestResponsibilities(t *testing.T) {
	data := bimodal(t)
	x := []float64{-1.5, 0, 1}
	r, err := data.Responsibilities(x, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, xi := range x {
		n0 := 0.3 * math.Exp(-sq(xi+1.5)/(2*0.09)) / 0.3
		n1 := 0.7 * math.Exp(-sq(xi-1)/(2*0.25)) / 0.5
		if want := n0 / (n0 + n1); math.Abs(r[2*i]-want) > 1e-12 || math.Abs(r[2*i]+r[2*i+1]-1) > 1e-12 {
			t.Errorf("x=%v: P(0|x) = %v, want %v", xi, r[2*i], want)
		}
	}
	if _, err := data.Responsibilities(x, 2); err == nil {
		t.Error("wrong n accepted")
	}
}

func sq(x float64) float64 { return x * x }

func TestValidation(t *testing.T) {
	for _, c := range []struct {
		name  string
		w     []float64
		mu, s [][]float64
		msg   string
	}{
		{"empty", nil, nil, nil, "at least one"},
		{"rows", []float64{1}, [][]float64{{0}, {1}}, [][]float64{{1}}, "mean rows"},
		{"weight<0", []float64{-0.5, 1.5}, [][]float64{{0}, {1}}, [][]float64{{1}, {1}}, "weight 0"},
		{"sum", []float64{0.5, 0.6}, [][]float64{{0}, {1}}, [][]float64{{1}, {1}}, "sum to"},
		{"std0", []float64{1}, [][]float64{{0}}, [][]float64{{0}}, "std[0][0]"},
		{"mean NaN", []float64{1}, [][]float64{{math.NaN()}}, [][]float64{{1}}, "not finite"},
		{"dims", []float64{0.5, 0.5}, [][]float64{{0}, {1, 2}}, [][]float64{{1}, {1}}, "mean length"},
	} {
		if _, err := NewMixture(c.w, c.mu, c.s); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.msg)
		}
	}
	data := bimodal(t)
	p := procs(t)[0]
	out := make([]float64, 2)
	if err := data.ScoreFunc(p)(0.5, []float64{1, 2}, 1, 2, out); err == nil {
		t.Error("d mismatch accepted")
	}
	if err := data.ScoreFunc(p)(1.5, []float64{1}, 1, 1, out[:1]); err == nil {
		t.Error("t > T accepted")
	}
}
