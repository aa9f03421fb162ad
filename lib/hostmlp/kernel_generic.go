//go:build !(goexperiment.simd && amd64)

package hostmlp

// SIMD reports whether Forward uses the AVX-512 kernel; this build has only
// the portable kernel.
func SIMD() bool { return false }

func kernel(k int, a, b []float32, ldb int, bias, out []float32, ldo int, relu bool) {
	kernelGeneric(k, a, b, ldb, bias, out, ldo, relu)
}
