package ot

import (
	"github.com/pdediff/pdediff/lib/exp"
	"math"

	"github.com/ajroetker/go-highway/hwy/contrib/vec"
)

// denseLog holds M/reg row-major and transposed for row and column
// log-sum-exp passes.
type denseLog struct {
	mr, mrT []float64
	n, m    int
	workers int
	tmp     [][]float64 // per-worker scratch of length max(n, m)
}

// lse sets out_i = log Σ_j exp(w_j − A_ij) for the rows of A (rows × cols,
// row-major): max-subtracted, exp on SIMD lanes (accurate vector exp, since
// go-highway's exp is only ~3e-5 relative).
func (dl *denseLog) lse(A []float64, rows, cols int, w, out []float64) {
	parallelRows(rows, dl.workers, func(lo, hi, wk int) {
		t := dl.tmp[wk][:cols]
		for i := lo; i < hi; i++ {
			vec.SubToFloat64(t, w, A[i*cols:(i+1)*cols])
			mx := vec.MaxFloat64(t)
			if math.IsInf(mx, -1) {
				out[i] = mx
				continue
			}
			vec.AddConstFloat64(-mx, t)
			expVec(t, t)
			out[i] = mx + math.Log(vec.SumFloat64(t))
		}
	})
}

// solveDenseLog runs the POT iteration order on log u = α, log v = β:
// β = log b − LSE_i(α_i − M_ij/reg), α = log a − LSE_j(β_j − M_ij/reg).
func solveDenseLog(M []float64, n, m int, r resolved) Result {
	dl := &denseLog{mr: M, mrT: make([]float64, n*m), n: n, m: m, workers: max(1, r.workers)}
	inv := 1 / r.reg
	for i := 0; i < n; i++ {
		row := M[i*m : (i+1)*m]
		for j := range row {
			row[j] *= inv
			dl.mrT[j*n+i] = row[j]
		}
	}
	dl.tmp = make([][]float64, dl.workers)
	for w := range dl.tmp {
		dl.tmp[w] = make([]float64, max(n, m))
	}
	la, lb := math.Log(1/float64(n)), math.Log(1/float64(m))
	bj := 1 / float64(m)
	alpha, beta := make([]float64, n), make([]float64, m)
	for i := range alpha {
		alpha[i] = la
	}
	for j := range beta {
		beta[j] = lb
	}
	col := make([]float64, m) // log Kᵀu for the current α
	row := make([]float64, n)
	dl.lse(dl.mrT, m, n, alpha, col)
	bar := newBar(r.prog, r.maxIter, "sinkhorn (log)")
	res := Result{Err: math.NaN()}
	for ii := 0; ii < r.maxIter; ii++ {
		if r.cancelled() {
			res.stopped = true
			break
		}
		for j := range beta {
			beta[j] = lb - col[j]
		}
		dl.lse(dl.mr, n, m, beta, row)
		for i := range alpha {
			alpha[i] = la - row[i]
		}
		dl.lse(dl.mrT, m, n, alpha, col)
		if anyBad(alpha) || anyBad(beta) {
			res.cause = badKind(alpha, beta)
			res.NumericalError = true
			break
		}
		res.Iterations = ii + 1
		bar.add()
		if ii%10 == 0 {
			res.Err = logMarginalErr(beta, col, bj)
			if res.Err < r.tol {
				res.Converged = true
				break
			}
		}
	}
	bar.finish()
	parts := make([]float64, dl.workers)
	parallelRows(n, dl.workers, func(lo, hi, wk int) {
		t := dl.tmp[wk][:m]
		s := 0.0
		for i := lo; i < hi; i++ {
			mrow := dl.mr[i*m : (i+1)*m]
			vec.SubToFloat64(t, beta, mrow)
			vec.AddConstFloat64(alpha[i], t)
			expVec(t, t)
			s += vec.DotFloat64(t, mrow)
		}
		parts[wk] = s
	})
	s := 0.0
	for _, p := range parts {
		s += p
	}
	res.Value = s * r.reg
	return res
}

// logMarginalErr is ‖exp(β + log Kᵀu) − b‖₂ with uniform b.
func logMarginalErr(beta, col []float64, bj float64) float64 {
	s := 0.0
	for j := range beta {
		t := exp.Exp(beta[j]+col[j]) - bj
		s += t * t
	}
	return math.Sqrt(s)
}
