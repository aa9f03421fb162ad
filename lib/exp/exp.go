// Package exp is the exponential function in pure Go (the algorithm of Go's
// portable math.exp, from FreeBSD's e_exp.c, accurate to < 1 ulp), for hot
// loops.
//
// Why it exists: on the project's AVX-512 machines, a binary built with
// GOEXPERIMENT=simd (mandatory for GoMLX and go-highway speed) runs
// math.Exp's amd64 assembly (legacy SSE) at 1–2 µs per call inside some loops
// instead of ~15 ns — measured 100× slower in lib/analytic's mixture score,
// which made the exact-score sampler tests take over ten minutes. The pure-Go
// version compiles to the same instruction encoding as its caller and runs at
// full speed. Results agree with math.Exp to within 2 ulp (both are within 1 ulp of e**x; TestMatchesMath).
package exp

import "math"

// Exp returns e**x. Special cases as math.Exp: Exp(+Inf) = +Inf,
// Exp(NaN) = NaN, very large values overflow to +Inf, very negative ones
// underflow to 0.
func Exp(x float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01
		ln2Lo = 1.90821492927058770002e-10
		log2e = 1.44269504088896338700e+00

		overflow  = 7.09782712893383973096e+02
		underflow = -7.45133219101941108420e+02
		nearZero  = 1.0 / (1 << 28) // 2**-28
	)
	switch {
	case x != x: // NaN
		return x
	case x > overflow:
		return math.Inf(1)
	case x < underflow:
		return 0
	case -nearZero < x && x < nearZero:
		return 1 + x
	}
	var k int
	switch {
	case x < 0:
		k = int(log2e*x - 0.5)
	case x > 0:
		k = int(log2e*x + 0.5)
	}
	hi := x - float64(k)*ln2Hi
	lo := float64(k) * ln2Lo
	const (
		p1 = 1.66666666666666657415e-01
		p2 = -2.77777777770155933842e-03
		p3 = 6.61375632143793436117e-05
		p4 = -1.65339022054652515390e-06
		p5 = 4.13813679705723846039e-08
	)
	r := hi - lo
	t := r * r
	c := r - t*(p1+t*(p2+t*(p3+t*(p4+t*p5))))
	y := 1 - ((lo - (r*c)/(2-c)) - hi)
	return math.Ldexp(y, k)
}
