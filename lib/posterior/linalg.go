package posterior

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// finite reports whether v is neither NaN nor ±Inf.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// checkFinite returns an error naming the first non-finite entry of v.
func checkFinite(what string, v []float64) error {
	for i, x := range v {
		if !finite(x) {
			return fmt.Errorf("posterior: %s[%d] = %v is not finite", what, i, x)
		}
	}
	return nil
}

// cholJitter factorises s + j·I = L Lᵀ and returns L row-major (lower, n×n)
// and the absolute jitter j used: first j = 0, then, if allowed (maxRel > 0),
// j = scale·rel for rel = startRel, 10·startRel, … ≤ maxRel. A factorisation
// counts as failed when a squared pivot L_ii² falls below minRatio·(s_ii + j)
// (numerically singular: rounding alone can leave a tiny positive pivot).
func cholJitter(s *mat.SymDense, scale, startRel, maxRel, minRatio float64) (l []float64, jitter float64, ok bool) {
	n := s.SymmetricDim()
	try := func(j float64) ([]float64, bool) {
		a := mat.NewSymDense(n, nil)
		a.CopySym(s)
		if j > 0 {
			for i := 0; i < n; i++ {
				a.SetSym(i, i, a.At(i, i)+j)
			}
		}
		var ch mat.Cholesky
		if !ch.Factorize(a) {
			return nil, false
		}
		var t mat.TriDense
		ch.LTo(&t)
		out := make([]float64, n*n)
		for i := 0; i < n; i++ {
			for k := 0; k <= i; k++ {
				out[i*n+k] = t.At(i, k)
			}
		}
		// A factor with a zero, tiny or non-finite pivot is useless for solves.
		for i := 0; i < n; i++ {
			if d := out[i*n+i]; !(d > 0) || !finite(d) || d*d < minRatio*a.At(i, i) {
				return nil, false
			}
		}
		return out, true
	}
	if l, ok := try(0); ok {
		return l, 0, true
	}
	if !(maxRel > 0) || !(scale > 0) {
		return nil, 0, false
	}
	for rel := startRel; rel <= maxRel*(1+1e-9); rel *= 10 {
		if l, ok := try(rel * scale); ok {
			return l, rel * scale, true
		}
	}
	return nil, 0, false
}

// forwardSolve overwrites b with L⁻¹ b for a lower-triangular row-major n×n L.
func forwardSolve(l []float64, n int, b []float64) {
	for i := 0; i < n; i++ {
		s := b[i]
		row := l[i*n : i*n+i]
		for k, v := range row {
			s -= v * b[k]
		}
		b[i] = s / l[i*n+i]
	}
}

// lowerMulVec writes L z into out for a lower-triangular row-major n×n L.
func lowerMulVec(l []float64, n int, z, out []float64) {
	for i := 0; i < n; i++ {
		s := 0.0
		row := l[i*n : i*n+i+1]
		for k, v := range row {
			s += v * z[k]
		}
		out[i] = s
	}
}

// meanDiag returns the mean of the diagonal of s.
func meanDiag(s mat.Symmetric) float64 {
	n := s.SymmetricDim()
	if n == 0 {
		return 0
	}
	t := 0.0
	for i := 0; i < n; i++ {
		t += s.At(i, i)
	}
	return t / float64(n)
}
