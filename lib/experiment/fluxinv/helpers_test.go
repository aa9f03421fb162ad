package fluxinv

import (
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/pdediff/pdediff/datasets/flux"
	"github.com/pdediff/pdediff/lib/sample"
	"github.com/pdediff/pdediff/lib/sde"
)

// gaussScore is the exact score, in scaled units, of the Gaussian law
// N(mu, cov) of the physical flux under the forward process proc: with
// x = a∘q + b the scaled flux, x_t ~ N(m(t)(a∘mu + b), m² diag(a) cov diag(a) + s² I).
func gaussScore(proc sde.Process, qs flux.MinMax, mu []float64, cov mat.Symmetric) sample.ScoreFunc {
	a := make([]float64, D)
	mx := make([]float64, D)
	for j := 0; j < D; j++ {
		a[j] = 2 / (qs.Max[j] - qs.Min[j])
		mx[j] = a[j]*(mu[j]-qs.Min[j]) - 1
	}
	return func(t float64, x []float64, n, d int, out []float64) error {
		m, s := proc.Mean(t), proc.Std(t)
		k := mat.NewSymDense(D, nil)
		for i := 0; i < D; i++ {
			for j := i; j < D; j++ {
				v := m * m * a[i] * a[j] * cov.At(i, j)
				if i == j {
					v += s * s
				}
				k.SetSym(i, j, v)
			}
		}
		var ch mat.Cholesky
		if !ch.Factorize(k) {
			return errNotPD
		}
		r := mat.NewVecDense(D, nil)
		v := mat.NewVecDense(D, nil)
		for p := 0; p < n; p++ {
			for j := 0; j < D; j++ {
				r.SetVec(j, x[p*D+j]-m*mx[j])
			}
			if err := ch.SolveVecTo(v, r); err != nil {
				return err
			}
			for j := 0; j < D; j++ {
				out[p*D+j] = -v.AtVec(j)
			}
		}
		return nil
	}
}

type errString string

func (e errString) Error() string { return string(e) }

const errNotPD = errString("covariance not positive definite")

func meanAbs(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += math.Abs(x)
	}
	return s / float64(len(v))
}

func newProc(c sde.Config) (sde.Process, error) { return sde.New(c) }
