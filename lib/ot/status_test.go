package ot

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

// TestStatusReportsFailures: runs that end without a transport cost (kernel
// underflow, non-finite numbers) say so in Status and Check, on every path;
// POT's returned values stay as they were.
func TestStatusReportsFailures(t *testing.T) {
	x := []float64{0, 0.1, 0.5, 1}
	y := []float64{0.05, 0.2, 0.9}
	big := []float64{1e200, -1e200, 3e199}
	cases := []struct {
		name string
		x, y []float64
		o    Options
		want Status
		err  error
	}{
		{"reg 1e-300 pot", x, y, Options{Reg: 1e-300}, StatusUnderflow, ErrUnderflow},
		{"reg 1e-300 pot dense", x, y, Options{Reg: 1e-300, Dense: true}, StatusUnderflow, ErrUnderflow},
		{"far apart pot", x, []float64{10, 10.05}, Options{}, StatusUnderflow, ErrUnderflow},
		{"samples 1e200 pot sweep", big, y, Options{}, StatusUnderflow, ErrUnderflow},
		{"samples 1e200 pot dense", big, y, Options{Dense: true}, StatusNonFinite, ErrNonFinite},
		{"samples 1e200 log dense", big, y, Options{Method: MethodLog, Dense: true}, StatusUnderflow, ErrUnderflow},
		{"reg 1e-300 log", x, y, Options{Reg: 1e-300, Method: MethodLog}, StatusUnderflow, ErrUnderflow},
		{"samples 1e200 sqeuclidean", big, y, Options{Cost: SqEuclidean}, StatusNonFinite, ErrNonFinite},
		{"converged", x, y, Options{Reg: 0.1}, StatusConverged, nil},
		{"capped", x, y, Options{Reg: 0.01, MaxIter: 3}, StatusMaxIterations, nil},
		{"log small reg", x, y, Options{Reg: 1e-5, Method: MethodLog}, StatusConverged, nil},
	}
	for _, c := range cases {
		res, err := Sinkhorn2(c.x, c.y, len(c.x), len(c.y), 1, c.o)
		if err != nil {
			t.Fatalf("%s: Sinkhorn2 error %v (POT-compatible: only bad input errs)", c.name, err)
		}
		if res.Status != c.want {
			t.Errorf("%s: status %q, want %q (%+v)", c.name, res.Status, c.want, res)
		}
		cerr := res.Check()
		if (c.err == nil) != (cerr == nil) || (c.err != nil && !errors.Is(cerr, c.err)) {
			t.Errorf("%s: Check() = %v, want %v", c.name, cerr, c.err)
		}
		var se *StatusError
		if c.err != nil && (!errors.As(cerr, &se) || se.Status != c.want) {
			t.Errorf("%s: Check() = %#v, want a *StatusError", c.name, cerr)
		}
		_, err2 := Sinkhorn2Checked(c.x, c.y, len(c.x), len(c.y), 1, c.o)
		if (err2 == nil) != (c.err == nil) {
			t.Errorf("%s: Sinkhorn2Checked error %v", c.name, err2)
		}
	}
	// The underflow stop keeps POT's value (0 after 0 iterations).
	res, _ := Sinkhorn2(x, y, 4, 3, 1, Options{Reg: 1e-300})
	if res.Value != 0 || res.Iterations != 0 || !res.NumericalError {
		t.Errorf("POT underflow result changed: %+v", res)
	}
}

func TestContextStopsIteration(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	x := []float64{0, 0.1, 0.5, 1}
	y := []float64{0.05, 0.2, 0.9}
	for _, o := range []Options{{}, {Method: MethodLog}, {Dense: true}, {Method: MethodLog, Dense: true}} {
		o.Context = ctx
		res, err := Sinkhorn2(x, y, 4, 3, 1, o)
		if !errors.Is(err, context.Canceled) || res.Status != StatusInterrupted || res.Iterations != 0 {
			t.Errorf("%+v: %+v, %v", o, res, err)
		}
	}
}

func TestEstimateBytes(t *testing.T) {
	if b := EstimateBytes(1e6, 1e6, 1, Options{}); b != 2e8 {
		t.Errorf("sweep %v", b)
	}
	if b := EstimateBytes(1e6, 1e6, 2, Options{}); b < 8e12 {
		t.Errorf("dense %v", b)
	}
	if b := EstimateBytes(1e6, 1e6, 2, Options{Method: MethodLog}); b < 16e12 {
		t.Errorf("dense log %v", b)
	}
	if b := EstimateBytes(1<<40, 1<<40, 3, Options{}); math.IsInf(b, 0) || b < 9e24 {
		t.Errorf("absurd size %v", b)
	}
}

// TestLogPrecisionLimit: a reg so small that M/reg exceeds 1/eps makes the
// log method stop at once with StatusUnderflow instead of running 100,000
// iterations to a meaningless value.
func TestLogPrecisionLimit(t *testing.T) {
	x := []float64{0, 0.1, 0.5, 1}
	y := []float64{0.05, 0.2, 0.9}
	for _, dense := range []bool{false, true} {
		res, err := Sinkhorn2(x, y, 4, 3, 1, Options{Reg: 1e-300, Method: MethodLog, Dense: dense})
		if err != nil || res.Status != StatusUnderflow || res.Iterations != 0 {
			t.Errorf("dense=%v: %+v %v", dense, res, err)
		}
		if err := res.Check(); !errors.Is(err, ErrUnderflow) || !strings.Contains(err.Error(), "too small") {
			t.Errorf("dense=%v: Check %v", dense, err)
		}
	}
	// Small but resolvable reg still converges.
	if res, _ := Sinkhorn2(x, y, 4, 3, 1, Options{Reg: 1e-5, Method: MethodLog}); res.Status != StatusConverged {
		t.Errorf("reg 1e-5: %+v", res)
	}
}
