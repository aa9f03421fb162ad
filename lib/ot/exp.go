package ot

import "math"

// expScalar sets out[i] = math.Exp(in[i]).
func expScalar(in, out []float64) {
	for i, v := range in {
		out[i] = math.Exp(v)
	}
}
