package posterior

import (
	"fmt"
	"math"
)

// SplitRHat returns the split-R̂ convergence diagnostic (Gelman et al.,
// Bayesian Data Analysis, 3rd ed., Sec. 11.4) of every coordinate of draws,
// row-major (chains·perChain)×dim with the draws of chain 0 first. Each chain
// is split into a first and a second half (the middle draw of an odd-length
// chain is dropped), giving M = 2·chains sequences of n draws; with W the mean
// within-sequence variance and B/n the variance of the sequence means (both
// with n−1 and M−1 denominators),
//
//	R̂ = sqrt(((n−1)/n · W + B/n) / W).
//
// Values near 1 indicate that the chains agree; > 1.05 (or the stricter 1.01)
// signals a lack of convergence. A coordinate that is constant within every
// sequence gets R̂ = 1 if all sequences share the constant and +Inf otherwise.
// perChain must be ≥ 4.
func SplitRHat(draws []float64, chains, perChain, dim int) ([]float64, error) {
	if chains < 1 || perChain < 4 || dim < 1 {
		return nil, fmt.Errorf("posterior: split-R̂ needs ≥ 1 chain, ≥ 4 draws per chain and dim ≥ 1, got %d, %d, %d", chains, perChain, dim)
	}
	if len(draws) != chains*perChain*dim {
		return nil, fmt.Errorf("posterior: split-R̂ of %d values, want %d chains × %d draws × %d", len(draws), chains, perChain, dim)
	}
	n := perChain / 2
	seqs := 2 * chains
	out := make([]float64, dim)
	means := make([]float64, seqs)
	for j := 0; j < dim; j++ {
		var w float64
		for c := 0; c < chains; c++ {
			for h := 0; h < 2; h++ {
				start := c * perChain
				if h == 1 {
					start += perChain - n // skips the middle draw when perChain is odd
				}
				var m float64
				for k := 0; k < n; k++ {
					m += draws[(start+k)*dim+j]
				}
				m /= float64(n)
				var s2 float64
				for k := 0; k < n; k++ {
					e := draws[(start+k)*dim+j] - m
					s2 += e * e
				}
				means[2*c+h] = m
				w += s2 / float64(n-1)
			}
		}
		w /= float64(seqs)
		var gm float64
		for _, m := range means {
			gm += m
		}
		gm /= float64(seqs)
		var b float64
		for _, m := range means {
			b += (m - gm) * (m - gm)
		}
		b = float64(n) * b / float64(seqs-1)
		out[j] = rhat(w, b, n)
	}
	return out, nil
}

// rhat combines the within variance w and between variance b of sequences of length n.
func rhat(w, b float64, n int) float64 {
	const tiny = 1e-300
	if w <= tiny {
		if b <= tiny {
			return 1
		}
		return math.Inf(1)
	}
	v := (float64(n-1)/float64(n))*w + b/float64(n)
	return math.Sqrt(v / w)
}
