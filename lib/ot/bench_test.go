package ot

import (
	"math/rand/v2"
	"testing"
)

// benchSamples returns n and m Exp(mean 0.3) = Gamma(1, 0.3) samples (the
// shape of the paper's Tanh conditionals), seeded.
func benchSamples(n, m int) ([]float64, []float64) {
	r := rand.New(rand.NewPCG(7, 7))
	x, y := make([]float64, n), make([]float64, m)
	for i := range x {
		x[i] = 0.3 * r.ExpFloat64()
	}
	for j := range y {
		y[j] = 0.3 * r.ExpFloat64()
	}
	return x, y
}

func benchSinkhorn(b *testing.B, n, m int, opts Options) {
	x, y := benchSamples(n, m)
	var res Result
	b.ResetTimer()
	for b.Loop() {
		var err error
		if res, err = Sinkhorn2(x, y, n, m, 1, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(res.Iterations), "iters")
	b.ReportMetric(res.Value, "value")
}

// The paper-size problem: 10,000 generated vs 1,000 reference samples, reg
// 0.01, Euclidean cost, POT's 1000-iteration cap.
func BenchmarkPOT1D10000x1000(b *testing.B) {
	benchSinkhorn(b, 10000, 1000, Options{Reg: 0.01})
}

func BenchmarkPOTDense10000x1000(b *testing.B) {
	benchSinkhorn(b, 10000, 1000, Options{Reg: 0.01, Dense: true})
}

func BenchmarkLog1D10000x1000(b *testing.B) {
	benchSinkhorn(b, 10000, 1000, Options{Reg: 0.01, Method: MethodLog})
}

// Dense log-domain products, 100 iterations (sqeuclidean has no sweep path).
func BenchmarkLogDense10000x1000Iter100(b *testing.B) {
	benchSinkhorn(b, 10000, 1000, Options{Reg: 0.01, Method: MethodLog, Cost: SqEuclidean, MaxIter: 100, Tol: 1e-300})
}
