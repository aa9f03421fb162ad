//go:build !(goexperiment.simd && amd64)

package ot

// hasVecExp reports whether expVec runs a vector kernel (never in this build).
const hasVecExp = false

// expVec sets out[i] = exp(in[i]) with math.Exp (portable build).
func expVec(in, out []float64) { expScalar(in, out) }
