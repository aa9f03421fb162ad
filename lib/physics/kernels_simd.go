//go:build goexperiment.simd && amd64

package physics

import "simd/archsimd"

var (
	axpy4  = axpy4Generic
	comb32 = comb32Generic
)

func init() {
	if archsimd.X86.AVX512() {
		axpy4 = axpy4AVX512
		comb32 = comb32AVX512
	}
}

func axpy4AVX512(dst []float64, a0, a1, a2, a3 float64, x0, x1, x2, x3 []float64) {
	n := len(dst)
	x0, x1, x2, x3 = x0[:n], x1[:n], x2[:n], x3[:n]
	v0, v1 := archsimd.BroadcastFloat64x8(a0), archsimd.BroadcastFloat64x8(a1)
	v2, v3 := archsimd.BroadcastFloat64x8(a2), archsimd.BroadcastFloat64x8(a3)
	j := 0
	for ; j+8 <= n; j += 8 {
		d := archsimd.LoadFloat64x8Slice(dst[j:])
		d = archsimd.LoadFloat64x8Slice(x0[j:]).MulAdd(v0, d)
		d = archsimd.LoadFloat64x8Slice(x1[j:]).MulAdd(v1, d)
		d = archsimd.LoadFloat64x8Slice(x2[j:]).MulAdd(v2, d)
		d = archsimd.LoadFloat64x8Slice(x3[j:]).MulAdd(v3, d)
		d.StoreSlice(dst[j:])
	}
	for ; j < n; j++ {
		dst[j] += a0*x0[j] + a1*x1[j] + a2*x2[j] + a3*x3[j]
	}
}

func comb32AVX512(acc *[rhsPad]float64, c []float64, b []float64) {
	b = b[:len(c)*rhsPad]
	s0 := archsimd.LoadFloat64x8Slice(acc[0:])
	s1 := archsimd.LoadFloat64x8Slice(acc[8:])
	s2 := archsimd.LoadFloat64x8Slice(acc[16:])
	s3 := archsimd.LoadFloat64x8Slice(acc[24:])
	for t, ct := range c {
		v := archsimd.BroadcastFloat64x8(-ct)
		row := b[t*rhsPad : t*rhsPad+rhsPad]
		s0 = archsimd.LoadFloat64x8Slice(row[0:]).MulAdd(v, s0)
		s1 = archsimd.LoadFloat64x8Slice(row[8:]).MulAdd(v, s1)
		s2 = archsimd.LoadFloat64x8Slice(row[16:]).MulAdd(v, s2)
		s3 = archsimd.LoadFloat64x8Slice(row[24:]).MulAdd(v, s3)
	}
	s0.StoreSlice(acc[0:])
	s1.StoreSlice(acc[8:])
	s2.StoreSlice(acc[16:])
	s3.StoreSlice(acc[24:])
}
