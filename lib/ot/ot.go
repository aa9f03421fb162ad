// Package ot computes entropic optimal transport (Sinkhorn) costs between two
// empirical sample sets with uniform weights, the metric of the paper's
// Table 2 (theory eqs. 79–83: Sinkhorn–Knopp via POT, reg 0.01, value ⟨P, M⟩ as
// POT's ot.sinkhorn2 returns it).
//
// Two methods are offered:
//
//   - MethodPOT reproduces POT 0.8.2's default ot.bregman.sinkhorn_knopp:
//     u = v = 1/n, K = exp(−M/reg), v ← b/(Kᵀu) then u ← 1/(diag(1/a) K v),
//     a marginal check ‖v ⊙ Kᵀu − b‖₂ < tol every 10 iterations, a silent stop
//     at MaxIter (default 1000), kernel underflow included; on a zero
//     denominator or non-finite scaling it returns the previous iterate like
//     POT does ("numerical errors").
//   - MethodLog runs the same iteration on log u, log v (log-sum-exp), so it
//     converges for small reg without underflow, and reports convergence.
//
// For 1-D samples with the Euclidean cost the kernel exp(−|x−y|/reg) is
// applied in O(n+m) per product by two sweeps over the merged sorted samples
// (see line.go), instead of the O(nm) dense products; Options.Dense forces the
// dense path. The sweep uses the exact |x−y| while POT's ot.dist computes
// sqrt(x² + y² − 2xy), so on the sweep MethodPOT agrees with POT to rounding
// (~1e-13 relative on the paper's data; tests assert 1e-10) rather than to the
// last bit; on the dense path the cost matrix is built like ot.dist
// (CostMatrixPOT) and agreement is ~1e-15.
//
// Dense products run on row blocks in parallel goroutines (Options.Workers)
// with go-highway SIMD kernels (dot, axpy, max, sum). The dense MethodPOT
// pass is fused: one sweep over K per iteration computes u ← 1/(K v) row by
// row and accumulates Kᵀu for the next v, which also gives POT's marginal
// check for free. The log-domain exp runs on AVX-512 lanes with an accurate
// polynomial (go-highway's exp is only ~3e-5 relative); POT's kernel matrix
// uses math.Exp.
package ot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
)

// Cost names a ground cost between sample points.
type Cost string

// Method names a Sinkhorn variant.
type Method string

const (
	// Euclidean is the cost ‖x − y‖₂ (POT's ot.dist metric "euclidean").
	Euclidean Cost = "euclidean"
	// SqEuclidean is the cost ‖x − y‖₂² (POT's ot.dist default "sqeuclidean").
	SqEuclidean Cost = "sqeuclidean"

	// MethodPOT reproduces POT 0.8.2's sinkhorn_knopp (see package doc).
	MethodPOT Method = "pot"
	// MethodLog is the log-domain stabilised Sinkhorn iteration.
	MethodLog Method = "log"
)

// Defaults used when the corresponding Options field is zero.
const (
	DefaultReg        = 0.01
	DefaultTol        = 1e-9
	DefaultMaxIterPOT = 1000
	DefaultMaxIterLog = 100000
)

// MaxDenseEntries bounds n·m for the dense kernel paths (each dense matrix
// takes 8·n·m bytes).
const MaxDenseEntries = 1 << 28

// Options configures Sinkhorn2. The zero value selects reg 0.01, Euclidean
// cost, MethodPOT, tol 1e-9, the method's default iteration cap and
// GOMAXPROCS workers.
type Options struct {
	// Reg is the entropic regularisation (> 0); 0 selects DefaultReg.
	Reg float64
	// Cost is the ground cost; "" selects Euclidean.
	Cost Cost
	// Method is the Sinkhorn variant; "" selects MethodPOT.
	Method Method
	// MaxIter caps the iterations (POT's numItermax); 0 selects
	// DefaultMaxIterPOT or DefaultMaxIterLog by method.
	MaxIter int
	// Tol is the stopping threshold on the marginal violation (POT's
	// stopThr); 0 selects DefaultTol.
	Tol float64
	// Workers is the number of goroutines for dense products; 0 selects
	// runtime.GOMAXPROCS(0).
	Workers int
	// Dense forces the dense O(nm) kernel even where the 1-D Euclidean sweep
	// applies.
	Dense bool
	// Progress, when non-nil, receives a progress bar (one tick per iteration).
	Progress io.Writer
	// Context, when non-nil, stops the iteration once it is cancelled:
	// Sinkhorn2 then returns the result of the last iterate with Status
	// StatusInterrupted and the context's error.
	Context context.Context
}

// Status says how a Sinkhorn run ended.
type Status string

const (
	// StatusConverged: the marginal violation fell below Tol.
	StatusConverged Status = "converged"
	// StatusMaxIterations: the iteration cap was reached first (POT's silent
	// stop; the value is that of the last iterate).
	StatusMaxIterations Status = "max_iterations"
	// StatusUnderflow: the kernel exp(−M/reg) underflowed to 0 on a whole row
	// or column (POT's "numerical errors" stop; the value is that of the last
	// good iterate, often 0 and meaningless). MethodLog avoids it.
	StatusUnderflow Status = "underflow"
	// StatusNonFinite: a cost, scaling or the value overflowed or became NaN.
	StatusNonFinite Status = "non_finite"
	// StatusInterrupted: Options.Context was cancelled.
	StatusInterrupted Status = "interrupted"
)

// ErrUnderflow and ErrNonFinite are wrapped by the *StatusError that
// Result.Check returns for StatusUnderflow and StatusNonFinite.
var (
	ErrUnderflow = errors.New("ot: kernel underflow")
	ErrNonFinite = errors.New("ot: non-finite result")
)

// StatusError reports a run whose value is not a valid transport cost.
type StatusError struct {
	Status Status
	Reg    float64
	Method Method
	Iter   int
	Detail string // optional explanation replacing the generic one
}

func (e *StatusError) Error() string {
	switch {
	case e.Detail != "":
		return fmt.Sprintf("ot: %s (method %s): the value is not a transport cost; use a larger reg, or rescale the samples", e.Detail, e.Method)
	case e.Status == StatusUnderflow:
		hint := "use the log method (--method log) or a larger reg"
		if e.Method == MethodLog {
			hint = "use a larger reg, or rescale the samples"
		}
		return fmt.Sprintf("ot: the Sinkhorn kernel exp(-M/reg) underflowed to 0 on a whole row or column (reg %g, method %s, stopped after %d iterations): the value is not a transport cost; %s",
			e.Reg, e.Method, e.Iter, hint)
	default:
		return fmt.Sprintf("ot: the Sinkhorn iteration produced non-finite numbers (reg %g, method %s, after %d iterations): costs or scalings overflow; rescale the samples or use a larger reg",
			e.Reg, e.Method, e.Iter)
	}
}

func (e *StatusError) Unwrap() error {
	if e.Status == StatusUnderflow {
		return ErrUnderflow
	}
	return ErrNonFinite
}

// Result is the outcome of Sinkhorn2.
type Result struct {
	// Value is the transport cost ⟨P, M⟩ = Σ u_i K_ij v_j M_ij for the final
	// scalings (POT's sinkhorn2 return value).
	Value float64
	// Iterations is the number of completed (v, u) updates: POT's
	// log["niter"]+1 when it stops on the tolerance or the cap; on a
	// numerical-error stop the discarded update is not counted.
	Iterations int
	// Converged reports whether the marginal violation fell below Tol.
	Converged bool
	// NumericalError reports a stop on a zero or non-finite scaling
	// (MethodPOT only; POT warns "numerical errors" and keeps the previous
	// iterate).
	NumericalError bool
	// Err is the last marginal violation ‖v ⊙ Kᵀu − b‖₂ computed.
	Err float64
	// Status says how the run ended: StatusConverged, StatusMaxIterations,
	// StatusUnderflow, StatusNonFinite or StatusInterrupted. Check turns the
	// failures into errors.
	Status Status

	cause   badCause // what stopped a NumericalError run
	detail  string   // StatusError.Detail
	reg     float64
	method  Method
	stopped bool // Options.Context cancelled
}

// badCause tells underflow from non-finite numbers.
type badCause uint8

const (
	causeNone badCause = iota
	causeZero          // a zero denominator or an infinite scaling: underflow
	causeNaN           // a NaN scaling: non-finite numbers
)

// Check returns nil when Value is a valid transport cost (StatusConverged or
// StatusMaxIterations) and a *StatusError wrapping ErrUnderflow or
// ErrNonFinite otherwise (StatusInterrupted: context.Canceled).
func (r Result) Check() error {
	switch r.Status {
	case StatusUnderflow, StatusNonFinite:
		return &StatusError{Status: r.Status, Reg: r.reg, Method: r.method, Iter: r.Iterations, Detail: r.detail}
	case StatusInterrupted:
		return context.Canceled
	}
	return nil
}

// finish sets Status from the run's outcome.
func (r *Result) finish(reg float64, method Method) {
	r.reg, r.method = reg, method
	switch {
	case math.IsNaN(r.Value) || math.IsInf(r.Value, 0) || (r.NumericalError && r.cause == causeNaN):
		r.Status = StatusNonFinite
	case r.NumericalError:
		r.Status = StatusUnderflow
	case r.stopped:
		r.Status = StatusInterrupted
	case r.Converged:
		r.Status = StatusConverged
	default:
		r.Status = StatusMaxIterations
	}
}

// Sinkhorn2Checked is Sinkhorn2 followed by Result.Check: it also returns an
// error (ErrUnderflow, ErrNonFinite, wrapped in *StatusError) when the run
// ended without a valid transport cost. The Result is filled either way.
func Sinkhorn2Checked(x, y []float64, n, m, d int, opts Options) (Result, error) {
	res, err := Sinkhorn2(x, y, n, m, d, opts)
	if err != nil {
		return res, err
	}
	return res, res.Check()
}

// EstimateBytes returns the peak memory (bytes) that Sinkhorn2 allocates for
// n and m points in d dimensions with these options, besides the inputs: about
// 100·(n+m) on the 1-D Euclidean sweep, 8·n·m for the dense POT kernel and
// 16·n·m for the dense log method. It is a float64 so that absurd sizes do not
// overflow.
func EstimateBytes(n, m, d int, opts Options) float64 {
	fn, fm := float64(n), float64(m)
	w := float64(opts.Workers)
	if w <= 0 {
		w = float64(runtime.GOMAXPROCS(0))
	}
	if d == 1 && (opts.Cost == "" || opts.Cost == Euclidean) && !opts.Dense {
		return 100 * (fn + fm)
	}
	vecs := 8 * (3*fn + 4*fm + w*max(fn, fm))
	if opts.Method == MethodLog {
		return 16*fn*fm + vecs
	}
	return 8*fn*fm + vecs
}

// resolved holds validated options with defaults filled in.
type resolved struct {
	reg     float64
	cost    Cost
	method  Method
	maxIter int
	tol     float64
	workers int
	dense   bool
	prog    io.Writer
	ctx     context.Context
}

// cancelled reports whether the run's context is done.
func (r resolved) cancelled() bool { return r.ctx != nil && r.ctx.Err() != nil }

func (o Options) resolve() (resolved, error) {
	r := resolved{reg: o.Reg, cost: o.Cost, method: o.Method, maxIter: o.MaxIter, tol: o.Tol,
		workers: o.Workers, dense: o.Dense, prog: o.Progress, ctx: o.Context}
	if r.reg == 0 {
		r.reg = DefaultReg
	}
	if math.IsNaN(r.reg) || math.IsInf(r.reg, 0) || r.reg <= 0 {
		return r, fmt.Errorf("ot: reg must be a finite number > 0, got %v", o.Reg)
	}
	if r.cost == "" {
		r.cost = Euclidean
	}
	if err := r.cost.check(); err != nil {
		return r, err
	}
	switch r.method {
	case "":
		r.method = MethodPOT
	case MethodPOT, MethodLog:
	default:
		return r, fmt.Errorf("ot: unknown method %q (want %q or %q)", o.Method, MethodPOT, MethodLog)
	}
	if r.maxIter < 0 {
		return r, fmt.Errorf("ot: max iterations must be ≥ 0, got %d", o.MaxIter)
	}
	if r.maxIter == 0 {
		r.maxIter = DefaultMaxIterPOT
		if r.method == MethodLog {
			r.maxIter = DefaultMaxIterLog
		}
	}
	if math.IsNaN(r.tol) || math.IsInf(r.tol, 0) || r.tol < 0 {
		return r, fmt.Errorf("ot: tol must be a finite number ≥ 0, got %v", o.Tol)
	}
	if r.tol == 0 {
		r.tol = DefaultTol
	}
	if r.workers < 0 {
		return r, fmt.Errorf("ot: workers must be ≥ 0, got %d", o.Workers)
	}
	if r.workers == 0 {
		r.workers = runtime.GOMAXPROCS(0)
	}
	return r, nil
}

func (c Cost) check() error {
	switch c {
	case Euclidean, SqEuclidean:
		return nil
	}
	return fmt.Errorf("ot: unknown cost %q (want %q or %q)", string(c), Euclidean, SqEuclidean)
}

// checkPoints validates a point set of n points in d dimensions stored
// row-major in x.
func checkPoints(name string, x []float64, n, d int) error {
	if n <= 0 {
		return fmt.Errorf("ot: %s is empty (need at least one point)", name)
	}
	if d <= 0 {
		return fmt.Errorf("ot: dimension must be ≥ 1, got %d", d)
	}
	if len(x) != n*d {
		return fmt.Errorf("ot: %s has %d values, want n·d = %d·%d = %d", name, len(x), n, d, n*d)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("ot: %s has a non-finite value %v at point %d, coordinate %d", name, v, i/d, i%d)
		}
	}
	return nil
}

// errTooLarge is returned when a dense kernel would not fit MaxDenseEntries.
var errTooLarge = errors.New("ot: problem too large for the dense kernel")

// Sinkhorn2 returns the entropic OT cost between the uniform empirical
// measures on x (n points) and y (m points) in d dimensions, both stored
// row-major (x[i*d+k] is coordinate k of point i), like POT's
// ot.sinkhorn2(ones(n)/n, ones(m)/m, ot.dist(x, y, cost), reg).
//
// The error is non-nil only for invalid input or a cancelled
// Options.Context: a run that ends on kernel underflow or non-finite numbers
// returns POT's value with a nil error, like POT, and says so in
// Result.Status; use Result.Check or Sinkhorn2Checked to turn that into an
// error.
func Sinkhorn2(x, y []float64, n, m, d int, opts Options) (Result, error) {
	res, err := sinkhorn2(x, y, n, m, d, opts)
	if err != nil {
		return res, err
	}
	if res.Status == StatusInterrupted {
		return res, fmt.Errorf("ot: sinkhorn interrupted after %d iterations: %w", res.Iterations, context.Cause(opts.Context))
	}
	return res, nil
}

func sinkhorn2(x, y []float64, n, m, d int, opts Options) (Result, error) {
	r, err := opts.resolve()
	if err != nil {
		return Result{}, err
	}
	if err := checkPoints("x", x, n, d); err != nil {
		return Result{}, err
	}
	if err := checkPoints("y", y, m, d); err != nil {
		return Result{}, err
	}
	if r.method == MethodLog {
		if c := crossCostLowerBound(x, y, d, r.cost); c/r.reg > 1/eps64 {
			// exp(−M/reg) spans more than float64 can resolve even in the log
			// domain: the potentials (~M/reg) lose every digit of the marginals,
			// so the iteration would run to its cap and return a meaningless value.
			res := Result{NumericalError: true, cause: causeZero, Err: math.NaN(),
				detail: fmt.Sprintf("reg %g is too small for costs of %.3g: M/reg = %.3g exceeds the float64 resolution 1/eps = 4.5e15 even in the log domain", r.reg, c, c/r.reg)}
			res.finish(r.reg, r.method)
			return res, nil
		}
	}
	if d == 1 && r.cost == Euclidean && !r.dense {
		l := newLine(x, y, r.reg)
		var res Result
		if r.method == MethodLog {
			res = l.solveLog(r)
		} else {
			res = l.solvePOT(r)
		}
		res.finish(r.reg, r.method)
		return res, nil
	}
	if n*m > MaxDenseEntries || n > MaxDenseEntries || m > MaxDenseEntries {
		return Result{}, fmt.Errorf("%w: n·m = %d·%d exceeds %d entries", errTooLarge, n, m, MaxDenseEntries)
	}
	var res Result
	if r.method == MethodLog {
		res = solveDenseLog(CostMatrix(x, y, n, m, d, r.cost), n, m, r)
	} else {
		res = solveDensePOT(x, y, n, m, d, r)
	}
	res.finish(r.reg, r.method)
	return res, nil
}

// eps64 is the float64 machine epsilon.
const eps64 = 2.220446049250313e-16

// crossCostLowerBound returns a lower bound of the largest cost between a point
// of x and a point of y: with L the longest side of the bounding box of both
// sets, two points p, q differ by L in one coordinate, and for any point b of
// the other set max(‖p−b‖, ‖q−b‖) ≥ L/2 (triangle inequality).
func crossCostLowerBound(x, y []float64, d int, cost Cost) float64 {
	longest := 0.0
	for k := 0; k < d; k++ {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, s := range [][]float64{x, y} {
			for i := k; i < len(s); i += d {
				lo, hi = min(lo, s[i]), max(hi, s[i])
			}
		}
		longest = max(longest, hi-lo)
	}
	c := longest / 2
	if cost == SqEuclidean {
		c *= c
	}
	return c
}

// CostMatrix returns the n×m cost matrix (row-major) between x (n points) and
// y (m points) in d dimensions, computed from coordinate differences
// (‖x_i − y_j‖₂ or its square). It panics on an unknown cost or bad lengths;
// validate inputs first (Sinkhorn2 does).
func CostMatrix(x, y []float64, n, m, d int, cost Cost) []float64 {
	mustShape(x, y, n, m, d, cost)
	M := make([]float64, n*m)
	for i := 0; i < n; i++ {
		xi := x[i*d : (i+1)*d]
		row := M[i*m : (i+1)*m]
		for j := 0; j < m; j++ {
			yj := y[j*d : (j+1)*d]
			s := 0.0
			for k, v := range xi {
				t := v - yj[k]
				s += t * t
			}
			row[j] = s
		}
		if cost == Euclidean {
			for j, s := range row {
				row[j] = math.Sqrt(s)
			}
		}
	}
	return M
}

// CostMatrixPOT returns the n×m cost matrix the way POT 0.8.2's ot.dist
// computes it: c = (−2 x·y + ‖x‖²) + ‖y‖², clipped at 0, square-rooted for the
// Euclidean cost. It differs from CostMatrix by rounding only (relative
// ~1e-16·‖x‖²/c), which is what MethodPOT uses on its dense path so that
// values match POT's to the last digits. It panics like CostMatrix.
func CostMatrixPOT(x, y []float64, n, m, d int, cost Cost) []float64 {
	mustShape(x, y, n, m, d, cost)
	M := make([]float64, n*m)
	for i := 0; i < n; i++ {
		potCostRow(x, y, i, m, d, cost, M[i*m:(i+1)*m])
	}
	return M
}

// potCostRow fills row i of POT's ot.dist matrix into row.
func potCostRow(x, y []float64, i, m, d int, cost Cost, row []float64) {
	xi := x[i*d : (i+1)*d]
	a2 := 0.0
	for _, v := range xi {
		a2 += v * v
	}
	for j := 0; j < m; j++ {
		yj := y[j*d : (j+1)*d]
		dot, b2 := 0.0, 0.0
		for k, v := range xi {
			dot += v * yj[k]
			b2 += yj[k] * yj[k]
		}
		c := -2*dot + a2
		c += b2
		c = math.Max(c, 0)
		if cost == Euclidean {
			c = math.Sqrt(c)
		}
		row[j] = c
	}
}

func mustShape(x, y []float64, n, m, d int, cost Cost) {
	if err := cost.check(); err != nil {
		panic(err)
	}
	if n < 0 || m < 0 || d <= 0 || len(x) != n*d || len(y) != m*d {
		panic(fmt.Sprintf("ot: bad shapes: len(x)=%d, len(y)=%d, n=%d, m=%d, d=%d", len(x), len(y), n, m, d))
	}
}

// norm2Diff returns ‖v ⊙ w − b‖₂ with b uniform (every entry bj), POT's
// marginal violation err = norm(einsum('i,ij,j->j', u, K, v) − b), where w
// holds Kᵀu.
func norm2Diff(v, w []float64, bj float64) float64 {
	s := 0.0
	for j := range v {
		t := v[j]*w[j] - bj
		s += t * t
	}
	return math.Sqrt(s)
}

// badKind classifies the worst value of the slices: causeNaN if any is NaN,
// causeZero if any is ±Inf, causeNone otherwise.
func badKind(ss ...[]float64) badCause {
	c := causeNone
	for _, s := range ss {
		for _, v := range s {
			if math.IsNaN(v) {
				return causeNaN
			}
			if math.IsInf(v, 0) {
				c = causeZero
			}
		}
	}
	return c
}

// anyBad reports whether s holds a NaN or ±Inf.
func anyBad(s []float64) bool {
	for _, v := range s {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return true
		}
	}
	return false
}
