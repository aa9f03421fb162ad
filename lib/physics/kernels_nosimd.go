//go:build !(goexperiment.simd && amd64)

package physics

var (
	axpy4  = axpy4Generic
	comb32 = comb32Generic
)
