//go:build !(goexperiment.simd && amd64)

package hostmlp

// SIMD reports whether Forward uses the AVX-512 kernel; this build has only
// the portable kernel.
func SIMD() bool { return false }

func kernel(k int, a, b []float32, ldb int, out []float32, ldo int, op kop) {
	kernelGeneric(k, a, b, ldb, out, ldo, op)
}
