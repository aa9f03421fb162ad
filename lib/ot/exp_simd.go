//go:build goexperiment.simd && amd64

package ot

import (
	"math"
	"simd/archsimd"
)

// hasVecExp reports whether expVec runs the AVX-512 kernel.
var hasVecExp = archsimd.X86.AVX512()

// expVec sets out[i] = exp(in[i]) for in[i] ≤ 0 (the only range the
// log-domain solver needs: arguments are shifted by their maximum). It is
// accurate to a few ulp (degree-12 Taylor after Cody–Waite reduction), unlike
// go-highway's ExpTransformFloat64 (~3e-5 relative). Inputs below −745 give 0.
func expVec(in, out []float64) {
	if !hasVecExp {
		expScalar(in, out)
		return
	}
	n := len(in) &^ 7
	log2e := archsimd.BroadcastFloat64x8(math.Log2E)
	ln2hi := archsimd.BroadcastFloat64x8(-6.93147180369123816490e-01)
	ln2lo := archsimd.BroadcastFloat64x8(-1.90821492927058770002e-10)
	lo := archsimd.BroadcastFloat64x8(-746)
	var c [13]archsimd.Float64x8
	f := 1.0
	for k := 0; k <= 12; k++ {
		if k > 0 {
			f *= float64(k)
		}
		c[k] = archsimd.BroadcastFloat64x8(1 / f)
	}
	for i := 0; i < n; i += 8 {
		x := archsimd.LoadFloat64x8Slice(in[i : i+8]).Max(lo)
		k := x.Mul(log2e).RoundToEvenScaled(0)
		r := k.MulAdd(ln2hi, x)
		r = k.MulAdd(ln2lo, r)
		p := c[12]
		for j := 11; j >= 0; j-- {
			p = p.MulAdd(r, c[j])
		}
		p.Scale(k).StoreSlice(out[i : i+8])
	}
	expScalar(in[n:], out[n:])
}
