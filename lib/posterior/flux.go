package posterior

import (
	"fmt"

	"github.com/pdediff/pdediff/datasets/flux"
	"gonum.org/v1/gonum/mat"
)

// FluxPrior returns the Gaussian law of the latent f of the flux prior of
// datasets/flux, q = max(0, f): f = g + Shift with g the zero-mean GP draw
// L z, so f ~ N(Shift·1, K + jitter·I) with K the kernel matrix and jitter
// the absolute jitter of the prior's Cholesky factor (the covariance the data
// sets actually sample from). Use it with ESSOptions.Clip for the clipped
// prior, or alone for the unclipped Gaussian approximation.
func FluxPrior(p *flux.Prior) Gaussian {
	c := p.Covariance()
	n := c.SymmetricDim()
	for i := 0; i < n; i++ {
		c.SetSym(i, i, c.At(i, i)+p.Jitter())
	}
	mu := make([]float64, n)
	for i := range mu {
		mu[i] = p.Options().Shift
	}
	return Gaussian{Mean: mu, Cov: c}
}

// FluxLinear returns the linear model of the flux problem: g is the row-major
// 30×30 response matrix of lib/physics (LinearModel.Matrix), noiseStd the
// data set's noise std (Meta.NoiseStd = NoiseLevel·ReadingScale) and mask,
// if non-nil, the data set's 0/1 mask row of one case (1 = on).
func FluxLinear(g []float64, noiseStd float64, mask []float64) (Linear, error) {
	if len(g) != flux.N*flux.N {
		return Linear{}, fmt.Errorf("posterior: response matrix has %d values, want %d×%d", len(g), flux.N, flux.N)
	}
	lin := Linear{G: mat.NewDense(flux.N, flux.N, append([]float64(nil), g...)), NoiseStd: []float64{noiseStd}}
	if mask != nil {
		if len(mask) != flux.N {
			return Linear{}, fmt.Errorf("posterior: mask has %d values, want %d", len(mask), flux.N)
		}
		lin.Mask = make([]bool, flux.N)
		for i, v := range mask {
			switch v {
			case 0:
			case 1:
				lin.Mask[i] = true
			default:
				return Linear{}, fmt.Errorf("posterior: mask[%d] = %v, want 0 or 1", i, v)
			}
		}
	}
	return lin, nil
}
