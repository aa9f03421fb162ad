package nbshow

import (
	"fmt"
	"math"
)

// The Check functions assert one numerical claim of a notebook with a stated
// tolerance. Each prints one line to standard output,
//
//	check <name>: |got-want| = 3.1e-09 <= 1e-06 OK   (got 0.5, want 0.5)
//
// and, when the claim does not hold (a NaN never holds), prints the same line
// ending in FAILED and panics with it: GoNB reports the panic as an error
// output, so the cell fails and a headless run (kernel/run-notebooks.sh)
// fails with the check's name in its message. The runner also counts the OK
// lines against the notebook's metadata.pdediff.min_checks.

// fail is the failure action; tests replace it.
var fail = func(msg string) { panic(msg) }

func report(ok bool, format string, args ...any) {
	line := "check " + fmt.Sprintf(format, args...)
	if ok {
		fmt.Println(line + " OK")
		return
	}
	fmt.Println(line + " FAILED")
	fail(line + " FAILED")
}

// Check asserts |got − want| <= tol.
func Check(name string, got, want, tol float64) {
	d := math.Abs(got - want)
	report(d <= tol, "%s: |got-want| = %.2g <= %.2g%s", name, d, tol, values(got, want))
}

// CheckRel asserts |got − want| <= rtol·|want| (want ≠ 0).
func CheckRel(name string, got, want, rtol float64) {
	d := math.Abs(got-want) / math.Abs(want)
	report(d <= rtol, "%s: |got-want|/|want| = %.2g <= %.2g%s", name, d, rtol, values(got, want))
}

// CheckBelow asserts value <= bound, e.g. a maximum error below a tolerance.
func CheckBelow(name string, value, bound float64) {
	report(value <= bound, "%s: %.2g <= %.2g", name, value, bound)
}

// CheckAbove asserts value >= bound.
func CheckAbove(name string, value, bound float64) {
	report(value >= bound, "%s: %.4g >= %.4g", name, value, bound)
}

// CheckIn asserts lo <= value <= hi, e.g. a convergence ratio near 4.
func CheckIn(name string, value, lo, hi float64) {
	report(value >= lo && value <= hi, "%s: %.4g in [%.4g, %.4g]", name, value, lo, hi)
}

// CheckTrue asserts a condition that is not a number; detail says what was
// checked (e.g. "every off sensor reads -1").
func CheckTrue(name string, ok bool, detail string) {
	report(ok, "%s: %s", name, detail)
}

func values(got, want float64) string {
	return fmt.Sprintf("   (got %.6g, want %.6g)", got, want)
}
