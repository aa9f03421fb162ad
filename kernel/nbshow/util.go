package nbshow

import (
	"fmt"
	"math"
)

// Get returns v and panics on a non-nil error (GoNB reports the panic, which
// fails the cell): fig := nbshow.Get(processes.Family(sde.VariantPower)).
func Get[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Get2 is Get for functions returning two values and an error.
func Get2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

// Linspace returns n ≥ 2 equally spaced values from a to b, both included.
func Linspace(a, b float64, n int) []float64 {
	if n < 2 {
		panic(fmt.Sprintf("nbshow: Linspace needs n >= 2, got %d", n))
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = a + (b-a)*float64(i)/float64(n-1)
	}
	out[n-1] = b
	return out
}

// MaxAbsDiff returns max_i |a_i − b_i| (a and b of equal length).
func MaxAbsDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("nbshow: MaxAbsDiff of %d and %d values", len(a), len(b)))
	}
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// MaxAbs returns max_i |v_i|.
func MaxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

// MeanStd returns the sample mean and the sample standard deviation
// (divisor n − 1) of v (at least two values).
func MeanStd(v []float64) (mean, std float64) {
	if len(v) < 2 {
		panic(fmt.Sprintf("nbshow: MeanStd needs at least 2 values, got %d", len(v)))
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	ss := 0.0
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(v)-1))
}

// Trapezoid returns the trapezoidal-rule integral of the samples y over the
// increasing abscissae x.
func Trapezoid(x, y []float64) float64 {
	if len(x) != len(y) || len(x) < 2 {
		panic(fmt.Sprintf("nbshow: Trapezoid of %d x and %d y values", len(x), len(y)))
	}
	s := 0.0
	for i := 1; i < len(x); i++ {
		s += 0.5 * (y[i] + y[i-1]) * (x[i] - x[i-1])
	}
	return s
}
