package physics

// Inner kernels of the banded LU. The portable versions below are used where the SIMD ones (kernels_simd.go,
// AVX-512 through GOEXPERIMENT=simd's archsimd) are unavailable; tests compare both.

// rhsPad is the padded number of right-hand sides of the multi-RHS solve (30 → 32, four 8-lane vectors).
const rhsPad = 32

// axpy4Generic computes dst[j] += a0·x0[j] + a1·x1[j] + a2·x2[j] + a3·x3[j] for j < len(dst).
func axpy4Generic(dst []float64, a0, a1, a2, a3 float64, x0, x1, x2, x3 []float64) {
	x0, x1, x2, x3 = x0[:len(dst)], x1[:len(dst)], x2[:len(dst)], x3[:len(dst)]
	for j := range dst {
		dst[j] += a0*x0[j] + a1*x1[j] + a2*x2[j] + a3*x3[j]
	}
}

// comb32Generic computes acc −= Σ_t c[t]·b[t·32 : t·32+32].
func comb32Generic(acc *[rhsPad]float64, c []float64, b []float64) {
	for t, ct := range c {
		row := b[t*rhsPad : t*rhsPad+rhsPad]
		for r := range rhsPad {
			acc[r] -= ct * row[r]
		}
	}
}
