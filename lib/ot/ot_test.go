package ot

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/lib/arrayio"
)

// goldenCase is one case of testdata/golden.json, written by
// testdata/gen_golden.py with POT 0.8.2.
type goldenCase struct {
	Name           string    `json:"name"`
	N, M, D        int       `json:"-"`
	NN             int       `json:"n"`
	MM             int       `json:"m"`
	DD             int       `json:"d"`
	Cost           Cost      `json:"cost"`
	Reg            float64   `json:"reg"`
	MaxIter        int       `json:"max_iter"`
	Value          float64   `json:"value"`
	NIter          int       `json:"niter"`
	Capped         bool      `json:"capped"`
	NumericalError bool      `json:"numerical_error"`
	X              []float64 `json:"x"`
	Y              []float64 `json:"y"`
}

func loadGolden(t *testing.T) []goldenCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	gx, gy := gammaSamples(t)
	for i := range g.Cases {
		c := &g.Cases[i]
		c.N, c.M, c.D = c.NN, c.MM, c.DD
		if strings.HasPrefix(c.Name, "gamma_800_600") {
			c.X, c.Y = gx, gy
		}
		if len(c.X) != c.N*c.D || len(c.Y) != c.M*c.D {
			t.Fatalf("case %s: samples missing", c.Name)
		}
	}
	return g.Cases
}

func gammaSamples(t *testing.T) ([]float64, []float64) {
	t.Helper()
	x, err := arrayio.ReadNPY(filepath.Join("testdata", "gamma_x.npy"))
	if err != nil {
		t.Fatal(err)
	}
	y, err := arrayio.ReadNPY(filepath.Join("testdata", "gamma_y.npy"))
	if err != nil {
		t.Fatal(err)
	}
	return x.Data, y.Data
}

func relErr(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

// TestPOTGolden: MethodPOT reproduces POT 0.8.2's sinkhorn2 value (~1e-10
// relative), its iteration count (niter+1, or 0 on its "numerical errors"
// stop) and convergence flag, on both the 1-D sweep and the dense kernel.
func TestPOTGolden(t *testing.T) {
	for _, c := range loadGolden(t) {
		for _, dense := range []bool{false, true} {
			if dense && c.N*c.M > 500000 {
				continue
			}
			name := c.Name
			if dense {
				name += "/dense"
			}
			t.Run(name, func(t *testing.T) {
				res, err := Sinkhorn2(c.X, c.Y, c.N, c.M, c.D, Options{Reg: c.Reg, Cost: c.Cost, Method: MethodPOT, MaxIter: c.MaxIter, Dense: dense})
				if err != nil {
					t.Fatal(err)
				}
				e := relErr(res.Value, c.Value)
				if e > 1e-10 {
					t.Errorf("value %.17g, POT %.17g (rel err %.2g)", res.Value, c.Value, e)
				}
				wantIter := c.NIter + 1
				if c.NumericalError {
					wantIter = c.NIter
				}
				if res.Iterations != wantIter || res.Converged != (!c.Capped && !c.NumericalError) || res.NumericalError != c.NumericalError {
					t.Errorf("iterations %d converged %v numerr %v; POT niter %d capped %v numerr %v",
						res.Iterations, res.Converged, res.NumericalError, c.NIter, c.Capped, c.NumericalError)
				}
			})
		}
	}
}

// TestLogMatchesConverged: MethodLog reaches POT's converged values (~1e-10)
// after the same number of iterations (same update order and check); capped
// at POT's cap it reproduces POT's capped value too (same iterates).
func TestLogMatchesConverged(t *testing.T) {
	for _, c := range loadGolden(t) {
		if c.NumericalError {
			continue // POT's underflow stop; see TestLogUnderflow
		}
		for _, dense := range []bool{false, true} {
			if dense && c.N*c.M > 200000 { // keep the suite fast: dense log exps n·m per product
				continue
			}
			name := c.Name
			if dense {
				name += "/dense"
			}
			t.Run(name, func(t *testing.T) {
				maxIter := 0
				if c.Capped {
					maxIter = c.MaxIter
				}
				res, err := Sinkhorn2(c.X, c.Y, c.N, c.M, c.D, Options{Reg: c.Reg, Cost: c.Cost, Method: MethodLog, Dense: dense, MaxIter: maxIter})
				if err != nil {
					t.Fatal(err)
				}
				if res.Converged == c.Capped || (!c.Capped && res.Err >= DefaultTol) {
					t.Errorf("not converged: %+v", res)
				}
				e := relErr(res.Value, c.Value)
				if e > 1e-10 || res.Iterations != c.NIter+1 {
					t.Errorf("value %.17g after %d iterations, POT converged %.17g after niter %d (rel err %.2g)", res.Value, res.Iterations, c.Value, c.NIter, e)
				}
			})
		}
	}
}

// TestLogUnderflow: where POT's kernel underflows to 0 for every pair, the
// log method still solves the problem. For x < y everywhere the 1-D kernel is
// rank one (K_ij = e^{x_i/reg} e^{−y_j/reg}), so the plan is the independent
// coupling and the cost is mean(y) − mean(x) exactly.
func TestLogUnderflow(t *testing.T) {
	x := []float64{0, 0.1, 0.3}
	y := []float64{10, 10.05}
	want := (10+10.05)/2 - (0+0.1+0.3)/3
	for _, dense := range []bool{false, true} {
		res, err := Sinkhorn2(x, y, 3, 2, 1, Options{Method: MethodLog, Dense: dense})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Converged || relErr(res.Value, want) > 1e-12 {
			t.Errorf("dense=%v: %+v, want value %.17g", dense, res, want)
		}
		pot, err := Sinkhorn2(x, y, 3, 2, 1, Options{Method: MethodPOT, Dense: dense})
		if err != nil {
			t.Fatal(err)
		}
		if !pot.NumericalError || pot.Value != 0 || pot.Iterations != 0 {
			t.Errorf("dense=%v pot: %+v, want POT's numerical-error stop with value 0", dense, pot)
		}
	}
}

// TestCostMatrices compares both cost-matrix builders with hand values.
func TestCostMatrices(t *testing.T) {
	x := []float64{0, 0, 3, 4}       // two 2-D points
	y := []float64{0, 0, 1, 1, 3, 0} // three 2-D points
	want := map[Cost][]float64{
		Euclidean:   {0, math.Sqrt2, 3, 5, math.Sqrt(13), 4},
		SqEuclidean: {0, 2, 9, 25, 13, 16},
	}
	for cost, w := range want {
		for name, f := range map[string]func([]float64, []float64, int, int, int, Cost) []float64{"direct": CostMatrix, "pot": CostMatrixPOT} {
			got := f(x, y, 2, 3, 2, cost)
			for k := range w {
				if math.Abs(got[k]-w[k]) > 1e-14 {
					t.Errorf("%s %s: M[%d] = %v, want %v", name, cost, k, got[k], w[k])
				}
			}
		}
	}
}

// TestDeterministicAndWorkers: the same input gives the same numbers, and the
// worker count changes the dense result by rounding only.
func TestDeterministicAndWorkers(t *testing.T) {
	gx, gy := gammaSamples(t)
	x, y := gx[:300], gy[:200]
	var first Result
	for k, w := range []int{1, 2, 3, 2} {
		res, err := Sinkhorn2(x, y, 300, 200, 1, Options{Dense: true, Workers: w, Cost: SqEuclidean})
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			first = res
		} else if relErr(res.Value, first.Value) > 1e-12 || res.Iterations != first.Iterations {
			t.Errorf("workers %d: %+v vs %+v", w, res, first)
		}
	}
	a, _ := Sinkhorn2(x, y, 300, 200, 1, Options{Method: MethodLog, Cost: SqEuclidean, Workers: 2})
	b, _ := Sinkhorn2(x, y, 300, 200, 1, Options{Method: MethodLog, Cost: SqEuclidean, Workers: 2})
	if a != b {
		t.Errorf("log method not deterministic: %+v vs %+v", a, b)
	}
}

// TestBadInputs: invalid inputs give errors naming the problem.
func TestBadInputs(t *testing.T) {
	ok := []float64{0, 1}
	cases := []struct {
		name    string
		x, y    []float64
		n, m, d int
		opts    Options
		want    string
	}{
		{"empty x", nil, ok, 0, 2, 1, Options{}, "x is empty"},
		{"empty y", ok, nil, 2, 0, 1, Options{}, "y is empty"},
		{"nan", []float64{0, math.NaN()}, ok, 2, 2, 1, Options{}, "non-finite"},
		{"inf", ok, []float64{math.Inf(1), 0}, 2, 2, 1, Options{}, "non-finite"},
		{"dims mismatch", ok, []float64{1, 2, 3}, 1, 1, 2, Options{}, "want n·d"},
		{"bad d", ok, ok, 2, 2, 0, Options{}, "dimension"},
		{"len mismatch", ok, []float64{1, 2, 3}, 2, 2, 1, Options{}, "y has 3 values"},
		{"reg negative", ok, ok, 2, 2, 1, Options{Reg: -1}, "reg"},
		{"reg nan", ok, ok, 2, 2, 1, Options{Reg: math.NaN()}, "reg"},
		{"cost", ok, ok, 2, 2, 1, Options{Cost: "manhattan"}, "unknown cost"},
		{"method", ok, ok, 2, 2, 1, Options{Method: "greenkhorn"}, "unknown method"},
		{"maxiter", ok, ok, 2, 2, 1, Options{MaxIter: -3}, "max iterations"},
		{"tol", ok, ok, 2, 2, 1, Options{Tol: -1}, "tol"},
		{"workers", ok, ok, 2, 2, 1, Options{Workers: -1}, "workers"},
	}
	for _, c := range cases {
		_, err := Sinkhorn2(c.x, c.y, c.n, c.m, c.d, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want mention of %q", c.name, err, c.want)
		}
	}
	big := make([]float64, 1<<15)
	big2 := make([]float64, 1<<14)
	if _, err := Sinkhorn2(big, big2, 1<<15, 1<<14, 1, Options{Cost: SqEuclidean}); !errors.Is(err, errTooLarge) {
		t.Errorf("too large: %v", err)
	}
}

// TestSymmetricClosedForm: the POT docstring problem has the closed form 1/(1+e).
func TestSymmetricClosedForm(t *testing.T) {
	// Ask for a cap of 1: one update of v then u. For x = y = {0, 1} with
	// reg 1 the closed form is the POT docstring value after any number of
	// iterations, since the problem is symmetric (u = v const fixed point).
	res, err := Sinkhorn2([]float64{0, 1}, []float64{0, 1}, 2, 2, 1, Options{Reg: 1, MaxIter: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := 1 / (1 + math.E) // P_01 + P_10 = 2 · (1/2)·e^{-1}/(1+e^{-1})
	if relErr(res.Value, want) > 1e-15 || res.Iterations != 1 || !res.Converged {
		t.Errorf("%+v, want value %.17g after 1 converged iteration", res, want)
	}
}

// TestSweepMatchesDense: the O(n+m) 1-D sweep and the dense kernel agree on
// random problems with ties, negative values and single points.
func TestSweepMatchesDense(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 12; trial++ {
		n, m := 1+r.IntN(40), 1+r.IntN(30)
		x, y := make([]float64, n), make([]float64, m)
		for i := range x {
			x[i] = math.Round(r.NormFloat64()*20) / 10 // coarse grid: many ties
		}
		for j := range y {
			y[j] = math.Round((r.NormFloat64()+0.5)*20) / 10
		}
		for _, method := range []Method{MethodPOT, MethodLog} {
			reg := []float64{2, 0.3, 0.05}[trial%3]
			o := Options{Reg: reg, Method: method, MaxIter: 300}
			a, err := Sinkhorn2(x, y, n, m, 1, o)
			if err != nil {
				t.Fatal(err)
			}
			o.Dense = true
			b, err := Sinkhorn2(x, y, n, m, 1, o)
			if err != nil {
				t.Fatal(err)
			}
			if relErr(a.Value, b.Value) > 1e-11 || a.Iterations != b.Iterations || a.Converged != b.Converged {
				t.Errorf("trial %d %s n=%d m=%d reg=%g: sweep %+v, dense %+v", trial, method, n, m, reg, a, b)
			}
		}
	}
}
