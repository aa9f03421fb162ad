package ot

import "github.com/pdediff/pdediff/lib/exp"

// expScalar sets out[i] = e**in[i] (pure-Go exp: see package lib/exp).
func expScalar(in, out []float64) {
	for i, v := range in {
		out[i] = exp.Exp(v)
	}
}
