package sample_test

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/lib/analytic"
	"github.com/pdediff/pdediff/lib/sde"
)

// mustProc builds a process from a config or fails the test.
func mustProc(t testing.TB, c sde.Config) sde.Process {
	t.Helper()
	p, err := sde.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// family returns the toy-schedule VP family member.
func family(kappa float64, v sde.Variant) sde.Config {
	c := sde.ToyConfig("vpfamily")
	c.Kappa, c.Variant = kappa, v
	return c
}

// exactFlow maps x_T to x_eps under the PF-ODE for Gaussian data N(mu, sd²):
// the standardised coordinate (x − m μ)/sqrt(m²sd² + s²) is constant along
// the flow, so the map is linear.
func exactFlow(p sde.Process, mu, sd, eps float64, xT []float64) []float64 {
	v := func(t float64) float64 { m, s := p.Mean(t), p.Std(t); return m*m*sd*sd + s*s }
	ratio := math.Sqrt(v(eps) / v(p.T()))
	out := make([]float64, len(xT))
	for i, x := range xT {
		out[i] = p.Mean(eps)*mu + (x-p.Mean(p.T())*mu)*ratio
	}
	return out
}

func maxAbsDiff(a, b []float64) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

func gaussian1D(t testing.TB, mu, sd float64) analytic.Mixture {
	t.Helper()
	g, err := analytic.NewGaussian([]float64{mu}, []float64{sd})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// fmtSscan parses the leading float of s.
func fmtSscan(s string, v *float64) (int, error) {
	end := strings.IndexFunc(s, func(r rune) bool { return !strings.ContainsRune("0123456789.eE+-", r) })
	if end < 0 {
		end = len(s)
	}
	f, err := strconv.ParseFloat(s[:end], 64)
	*v = f
	return end, err
}
