package ot

import (
	"github.com/pdediff/pdediff/lib/exp"
	"math"
	"sync"

	"github.com/ajroetker/go-highway/hwy/contrib/vec"
)

// parallelRows runs body(lo, hi, w) on w = 0..workers-1 contiguous row blocks
// covering [0, n) and waits for all of them.
func parallelRows(n, workers int, body func(lo, hi, w int)) {
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		body(0, n, 0)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*n/workers, (w+1)*n/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			body(lo, hi, w)
		}()
	}
	wg.Wait()
}

// denseKernel is K = exp(M/(−reg)) for POT's cost matrix, with fused
// products: one pass over K computes u ← 1/(ainv·K v) row by row and
// accumulates Kᵀu for the new u (per-worker partial sums reduced in a fixed
// order, so results are deterministic for a given worker count).
type denseKernel struct {
	K       []float64
	n, m    int
	workers int
	partial [][]float64
}

func newDenseKernel(x, y []float64, n, m, d int, r resolved) *denseKernel {
	k := &denseKernel{K: make([]float64, n*m), n: n, m: m, workers: min(r.workers, n)}
	if k.workers < 1 {
		k.workers = 1
	}
	parallelRows(n, k.workers, func(lo, hi, _ int) {
		for i := lo; i < hi; i++ {
			row := k.K[i*m : (i+1)*m]
			potCostRow(x, y, i, m, d, r.cost, row)
			for j, c := range row {
				row[j] = exp.Exp(c / (-r.reg)) // POT: K = exp(M / (-reg))
			}
		}
	})
	k.partial = make([][]float64, k.workers)
	for w := range k.partial {
		k.partial[w] = make([]float64, m)
	}
	return k
}

// ktu sets out = Kᵀu.
func (k *denseKernel) ktu(u, out []float64) {
	k.pass(nil, 0, u, out)
}

// updateU sets u_i = 1/(ainv·(K v)_i) (POT: u = 1/dot(Kp, v), Kp = K/a) and
// out = Kᵀu for the new u.
func (k *denseKernel) updateU(v []float64, ainv float64, u, out []float64) {
	k.pass(v, ainv, u, out)
}

// pass is the fused row pass; with v == nil it only accumulates Kᵀu.
func (k *denseKernel) pass(v []float64, ainv float64, u, out []float64) {
	m := k.m
	parallelRows(k.n, k.workers, func(lo, hi, w int) {
		acc := k.partial[w]
		clear(acc)
		for i := lo; i < hi; i++ {
			row := k.K[i*m : (i+1)*m]
			if v != nil {
				u[i] = 1 / (ainv * vec.DotFloat64(row, v))
			}
			vec.MulConstAddToFloat64(acc, u[i], row)
		}
	})
	copy(out, k.partial[0])
	for _, p := range k.partial[1:min(k.workers, k.n)] {
		vec.AddFloat64(out, p)
	}
}

// solveDensePOT is POT 0.8.2's sinkhorn_knopp + sinkhorn2 on the dense kernel.
func solveDensePOT(x, y []float64, n, m, d int, r resolved) Result {
	k := newDenseKernel(x, y, n, m, d, r)
	value := func(u, v []float64) float64 {
		parts := make([]float64, k.workers)
		parallelRows(n, k.workers, func(lo, hi, w int) {
			mrow := make([]float64, m)
			s := 0.0
			for i := lo; i < hi; i++ {
				potCostRow(x, y, i, m, d, r.cost, mrow)
				row := k.K[i*m : (i+1)*m]
				t := 0.0
				for j, kij := range row {
					t += kij * v[j] * mrow[j]
				}
				s += u[i] * t
			}
			parts[w] = s
		})
		s := 0.0
		for _, p := range parts {
			s += p
		}
		return s
	}
	return sinkhornPOT(k, n, m, r, value)
}

// kernelOps is what the POT iteration needs from a kernel.
type kernelOps interface {
	ktu(u, out []float64)
	updateU(v []float64, ainv float64, u, out []float64)
}

// sinkhornPOT runs POT's sinkhorn_knopp loop on any kernel and returns the
// sinkhorn2 value computed by value(u, v).
func sinkhornPOT(k kernelOps, n, m int, r resolved, value func(u, v []float64) float64) Result {
	bj := 1 / float64(m)
	ainv := 1 / (1 / float64(n))
	u, v := make([]float64, n), make([]float64, m)
	uPrev, vPrev := make([]float64, n), make([]float64, m)
	for i := range u {
		u[i] = 1 / float64(n)
	}
	for j := range v {
		v[j] = 1 / float64(m)
	}
	ktu := make([]float64, m) // Kᵀu for the current u
	k.ktu(u, ktu)
	bar := newBar(r.prog, r.maxIter, "sinkhorn (pot)")
	res := Result{Err: math.NaN()}
	for ii := 0; ii < r.maxIter; ii++ {
		if r.cancelled() {
			res.stopped = true
			break
		}
		copy(uPrev, u)
		copy(vPrev, v)
		zero := false
		for j := range v {
			if ktu[j] == 0 {
				zero = true
			}
			v[j] = bj / ktu[j] // POT: v = b / KtransposeU
		}
		k.updateU(v, ainv, u, ktu) // POT: u = 1 / dot(Kp, v); ktu now Kᵀu_new
		if zero || anyBad(u) || anyBad(v) {
			res.cause = badKind(u, v) // NaN from NaN costs; ±Inf from a zero K v
			if zero {
				res.cause = causeZero // b/(Kᵀu) with Kᵀu = 0 (its NaNs follow from 0·∞)
			}
			copy(u, uPrev)
			copy(v, vPrev)
			res.NumericalError = true
			break
		}
		res.Iterations = ii + 1
		bar.add()
		if ii%10 == 0 {
			res.Err = norm2Diff(v, ktu, bj)
			if res.Err < r.tol {
				res.Converged = true
				break
			}
		}
	}
	bar.finish()
	res.Value = value(u, v)
	return res
}
