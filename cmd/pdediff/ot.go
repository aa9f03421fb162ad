package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/ot"
)

const otSinkhornSummary = "entropic OT cost <P,M> between two sample sets (.npy, shape (n,) or (n,d)), like POT's ot.sinkhorn2"

func init() {
	otCommands["sinkhorn"] = command{name: "sinkhorn", summary: otSinkhornSummary, runCtx: runOTSinkhorn}
}

// otSinkhornJSON is the stable --json output of `pdediff ot sinkhorn`. Status
// is converged, max_iterations, underflow or non_finite; for the last two the
// command exits 1 (Value is then POT's meaningless last iterate, or null when
// not finite) and Error says why.
type otSinkhornJSON struct {
	Value      *float64 `json:"value"`
	Iterations int      `json:"iterations"`
	Converged  bool     `json:"converged"`
	Status     string   `json:"status"`
	Error      string   `json:"error,omitempty"`
}

func runOTSinkhorn(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ot sinkhorn", otSinkhornSummary, stderr)
	xPath := fs.String("x", "", "first sample set, float64 .npy of shape (n,) or (n,d) (required)")
	yPath := fs.String("y", "", "second sample set, float64 .npy of shape (m,) or (m,d) (required)")
	reg := fs.Float64("reg", ot.DefaultReg, "entropic regularisation (> 0)")
	cost := fs.String("cost", string(ot.Euclidean), "ground cost: euclidean or sqeuclidean")
	method := fs.String("method", string(ot.MethodPOT), "pot (POT 0.8.2 sinkhorn_knopp, exactly) or log (log-domain, stable for small reg)")
	maxIter := fs.Int("max-iter", 0, fmt.Sprintf("iteration cap (0: %d for pot, %d for log)", ot.DefaultMaxIterPOT, ot.DefaultMaxIterLog))
	tol := fs.Float64("tol", ot.DefaultTol, "stopping threshold on the marginal violation (POT's stopThr)")
	dense := fs.Bool("dense", false, "use the dense O(nm) kernel even for 1-D Euclidean samples")
	workers := fs.Int("workers", 0, "goroutines for dense products (0: GOMAXPROCS)")
	asJSON := fs.Bool("json", false, `print {"value": …, "iterations": …, "converged": …, "status": …}; exit 1 when status is underflow or non_finite`)
	quiet := fs.Bool("quiet", false, "no progress bar on stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *xPath == "" || *yPath == "" {
		return usageErrorf("--x and --y are required")
	}
	switch ot.Cost(*cost) {
	case ot.Euclidean, ot.SqEuclidean:
	default:
		return usageErrorf("unknown --cost %q (want euclidean or sqeuclidean)", *cost)
	}
	switch ot.Method(*method) {
	case ot.MethodPOT, ot.MethodLog:
	default:
		return usageErrorf("unknown --method %q (want pot or log)", *method)
	}
	if !(*reg > 0) || *reg > 1e300 {
		return usageErrorf("--reg must be a finite number > 0, got %v", *reg)
	}
	if *maxIter < 0 {
		return usageErrorf("--max-iter must be ≥ 0, got %d", *maxIter)
	}
	if !(*tol > 0) || *tol > 1e300 {
		return usageErrorf("--tol must be a finite number > 0, got %v", *tol)
	}
	if *workers < 0 {
		return usageErrorf("--workers must be ≥ 0, got %d", *workers)
	}
	x, err := arrayio.ReadNPY(*xPath)
	if err != nil {
		return err
	}
	y, err := arrayio.ReadNPY(*yPath)
	if err != nil {
		return err
	}
	if x.Cols() != y.Cols() {
		return fmt.Errorf("dimension mismatch: --x %s has shape %v (d = %d), --y %s has shape %v (d = %d)",
			*xPath, x.Shape, x.Cols(), *yPath, y.Shape, y.Cols())
	}
	opts := ot.Options{Reg: *reg, Cost: ot.Cost(*cost), Method: ot.Method(*method), MaxIter: *maxIter,
		Tol: *tol, Dense: *dense, Workers: *workers, Context: ctx}
	n, m, d := x.Rows(), y.Rows(), x.Cols()
	if err := checkMemory(fmt.Sprintf("ot sinkhorn (%s) of %d x %d points in %d dimensions", *method, n, m, d), ot.EstimateBytes(n, m, d, opts),
		"use smaller sample sets (or drop --dense)"); err != nil {
		return err
	}
	if !*quiet {
		opts.Progress = stderr
	}
	res, err := ot.Sinkhorn2(x.Data, y.Data, n, m, d, opts)
	if err != nil {
		return err
	}
	bad := res.Check()
	if *asJSON {
		j := otSinkhornJSON{Iterations: res.Iterations, Converged: res.Converged, Status: string(res.Status)}
		if !math.IsNaN(res.Value) && !math.IsInf(res.Value, 0) {
			j.Value = &res.Value
		}
		if bad != nil {
			j.Error = bad.Error()
		}
		b, err := json.Marshal(j)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(stdout, string(b)); err != nil {
			return err
		}
		return bad
	}
	status := "converged"
	switch res.Status {
	case ot.StatusUnderflow:
		status = "stopped on numerical errors (kernel underflow; try --method log)"
	case ot.StatusNonFinite:
		status = "stopped on non-finite numbers"
	case ot.StatusMaxIterations:
		status = "not converged (iteration cap reached)"
	}
	if _, err := fmt.Fprintf(stdout, "sinkhorn %s, %s cost, reg %g: value %.12g after %d iterations, %s (marginal error %.3g)\n",
		*method, *cost, *reg, res.Value, res.Iterations, status, res.Err); err != nil {
		return err
	}
	return bad
}
