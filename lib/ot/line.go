package ot

import (
	"cmp"
	"github.com/pdediff/pdediff/lib/exp"
	"math"
	"slices"
)

// line applies the 1-D Euclidean kernel K_ij = exp(−|x_i − y_j|/reg) without
// forming it. With all points merged in sorted order, the sum
// S(p) = Σ_{src ≤ p} exp(−(p − src)/reg)·w obeys
// S(p') = exp(−(p'−p)/reg)·S(p) + (sources at p'), so a forward and a
// backward sweep give K v or Kᵀu in O(n+m). Each (x_i, y_j) pair is counted
// exactly once: in the forward sweep if it comes first in the merged order,
// in the backward sweep otherwise (ties put x first; their distance is 0).
type line struct {
	n, m  int
	reg   float64
	kind  []uint8   // 0: a point of x, 1: a point of y, in merged order
	idx   []int32   // index within x or y
	delta []float64 // delta[k] = p_k − p_{k−1} (0 for k = 0)
	dec   []float64 // dec[k] = exp(−delta[k]/reg), math.Exp like POT's kernel
	// scratch
	kv, fref, fs []float64
}

const (
	kindX uint8 = 0
	kindY uint8 = 1
)

func newLine(x, y []float64, reg float64) *line {
	n, m := len(x), len(y)
	N := n + m
	type ev struct {
		p    float64
		kind uint8
		idx  int32
	}
	evs := make([]ev, 0, N)
	for i, v := range x {
		evs = append(evs, ev{v, kindX, int32(i)})
	}
	for j, v := range y {
		evs = append(evs, ev{v, kindY, int32(j)})
	}
	slices.SortFunc(evs, func(a, b ev) int {
		if c := cmp.Compare(a.p, b.p); c != 0 {
			return c
		}
		if c := cmp.Compare(a.kind, b.kind); c != 0 {
			return c
		}
		return cmp.Compare(a.idx, b.idx)
	})
	l := &line{n: n, m: m, reg: reg, kind: make([]uint8, N), idx: make([]int32, N),
		delta: make([]float64, N), dec: make([]float64, N)}
	for k, e := range evs {
		l.kind[k], l.idx[k] = e.kind, e.idx
		if k > 0 {
			l.delta[k] = e.p - evs[k-1].p
			l.dec[k] = exp.Exp(l.delta[k] / (-reg))
		}
	}
	l.kv = make([]float64, n)
	mx := max(n, m)
	l.fref, l.fs = make([]float64, mx), make([]float64, mx)
	return l
}

// apply sets out[t] = Σ_s K(t, s)·w[s] for targets t of the other kind than
// src.
func (l *line) apply(src uint8, w, out []float64) {
	N := len(l.kind)
	S := 0.0
	for k := 0; k < N; k++ {
		S *= l.dec[k]
		if l.kind[k] == src {
			S += w[l.idx[k]]
		} else {
			out[l.idx[k]] = S
		}
	}
	S = 0
	for k := N - 1; k >= 0; k-- {
		if k < N-1 {
			S *= l.dec[k+1]
		}
		if l.kind[k] == src {
			S += w[l.idx[k]]
		} else {
			out[l.idx[k]] += S
		}
	}
}

// ktu sets out = Kᵀu.
func (l *line) ktu(u, out []float64) { l.apply(kindX, u, out) }

// updateU sets u = 1/(ainv·K v) and out = Kᵀu for the new u.
func (l *line) updateU(v []float64, ainv float64, u, out []float64) {
	l.apply(kindY, v, l.kv)
	for i, s := range l.kv {
		u[i] = 1 / (ainv * s)
	}
	l.apply(kindX, u, out)
}

// value returns Σ_ij u_i K_ij |x_i − y_j| v_j using
// T(p') = dec·(T(p) + Δ·S(p)) for T(p) = Σ (p − y_j) e^{−(p−y_j)/reg} v_j.
func (l *line) value(u, v []float64) float64 {
	N := len(l.kind)
	s := 0.0
	S, T := 0.0, 0.0
	for k := 0; k < N; k++ {
		T = l.dec[k] * (T + l.delta[k]*S)
		S *= l.dec[k]
		if l.kind[k] == kindY {
			S += v[l.idx[k]]
		} else {
			s += u[l.idx[k]] * T
		}
	}
	S, T = 0, 0
	for k := N - 1; k >= 0; k-- {
		if k < N-1 {
			T = l.dec[k+1] * (T + l.delta[k+1]*S)
			S *= l.dec[k+1]
		}
		if l.kind[k] == kindY {
			S += v[l.idx[k]]
		} else {
			s += u[l.idx[k]] * T
		}
	}
	return s
}

// solvePOT runs POT's sinkhorn_knopp iteration with the sweep kernel.
func (l *line) solvePOT(r resolved) Result {
	return sinkhornPOT(l, l.n, l.m, r, l.value)
}

// lapply is apply in the log domain: out[t] = log Σ_s K(t, s)·exp(lw[s]).
// The running sum is kept as s·exp(ref) with s ∈ [1, count]: moving right
// only lowers ref by Δ/reg (no exp), adding a source costs one exp.
func (l *line) lapply(src uint8, lw, out []float64) {
	N := len(l.kind)
	ir := 1 / l.reg
	ref, s := math.Inf(-1), 0.0
	for k := 0; k < N; k++ {
		ref -= l.delta[k] * ir
		if l.kind[k] == src {
			ref, s = addLog(ref, s, lw[l.idx[k]])
		} else {
			l.fref[l.idx[k]], l.fs[l.idx[k]] = ref, s
		}
	}
	ref, s = math.Inf(-1), 0
	for k := N - 1; k >= 0; k-- {
		if k < N-1 {
			ref -= l.delta[k+1] * ir
		}
		if l.kind[k] == src {
			ref, s = addLog(ref, s, lw[l.idx[k]])
		} else {
			t := l.idx[k]
			out[t] = logSum2(l.fref[t], l.fs[t], ref, s)
		}
	}
}

// addLog adds exp(lw) to s·exp(ref), keeping s ≥ 1.
func addLog(ref, s, lw float64) (float64, float64) {
	if lw > ref {
		return lw, s*exp.Exp(ref-lw) + 1
	}
	return ref, s + exp.Exp(lw-ref)
}

// logSum2 returns log(s1·e^{r1} + s2·e^{r2}) for s ≥ 0.
func logSum2(r1, s1, r2, s2 float64) float64 {
	if s1 == 0 {
		return r2 + math.Log(s2)
	}
	if s2 == 0 {
		return r1 + math.Log(s1)
	}
	if r1 < r2 {
		r1, s1, r2, s2 = r2, s2, r1, s1
	}
	return r1 + math.Log(s1+s2*exp.Exp(r2-r1))
}

// lvalue returns Σ_ij u_i K_ij |x_i − y_j| v_j for u = e^α, v = e^β, with
// S and T sharing one log scale: T' = T + Δ·S in units of e^{ref}.
func (l *line) lvalue(alpha, beta []float64) float64 {
	N := len(l.kind)
	ir := 1 / l.reg
	tot := 0.0
	sweep := func(k, prev int, st *[3]float64) {
		if prev >= 0 {
			d := l.delta[max(k, prev)]
			st[2] += d * st[1]
			st[0] -= d * ir
		}
		if l.kind[k] == kindY {
			lw := beta[l.idx[k]]
			if lw > st[0] {
				f := exp.Exp(st[0] - lw)
				st[0], st[1], st[2] = lw, st[1]*f+1, st[2]*f
			} else {
				st[1] += exp.Exp(lw - st[0])
			}
		} else if st[2] > 0 {
			tot += exp.Exp(alpha[l.idx[k]]+st[0]) * st[2]
		}
	}
	st := [3]float64{math.Inf(-1), 0, 0} // ref, s, t
	for k := 0; k < N; k++ {
		sweep(k, k-1, &st)
	}
	st = [3]float64{math.Inf(-1), 0, 0}
	for k := N - 1; k >= 0; k-- {
		p := k + 1
		if p == N {
			p = -1
		}
		sweep(k, p, &st)
	}
	return tot
}

// solveLog runs the POT update order on α = log u, β = log v with the sweep
// kernel in the log domain.
func (l *line) solveLog(r resolved) Result {
	n, m := l.n, l.m
	la, lb := math.Log(1/float64(n)), math.Log(1/float64(m))
	bj := 1 / float64(m)
	alpha, beta := make([]float64, n), make([]float64, m)
	for i := range alpha {
		alpha[i] = la
	}
	col, row := make([]float64, m), make([]float64, n)
	l.lapply(kindX, alpha, col)
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
		l.lapply(kindY, beta, row)
		for i := range alpha {
			alpha[i] = la - row[i]
		}
		l.lapply(kindX, alpha, col)
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
	if res.Iterations == 0 {
		for j := range beta {
			beta[j] = lb
		}
	}
	res.Value = l.lvalue(alpha, beta)
	return res
}
