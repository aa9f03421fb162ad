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

// report prints the check line and fails on !ok.
func report(ok bool, format string, args ...any) {
	line := "check " + fmt.Sprintf(format, args...)
	if ok {
		fmt.Println(line + " OK")
		return
	}
	fmt.Println(line + " FAILED")
	fail(line + " FAILED")
}

// cmp is the comparison a check line shows: yes when it holds, no otherwise.
func cmp(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}

// Check asserts |got − want| <= tol.
func Check(name string, got, want, tol float64) {
	d := math.Abs(got - want)
	ok := d <= tol
	report(ok, "%s: |got-want| = %.2g %s %.2g%s", name, d, cmp(ok, "<=", ">"), tol, values(got, want))
}

// CheckRel asserts |got − want| <= rtol·|want| (want ≠ 0).
func CheckRel(name string, got, want, rtol float64) {
	d := math.Abs(got-want) / math.Abs(want)
	ok := d <= rtol
	report(ok, "%s: |got-want|/|want| = %.2g %s %.2g%s", name, d, cmp(ok, "<=", ">"), rtol, values(got, want))
}

// CheckBelow asserts value <= bound, e.g. a maximum error below a tolerance.
func CheckBelow(name string, value, bound float64) {
	ok := value <= bound
	report(ok, "%s: %.2g %s %.2g", name, value, cmp(ok, "<=", "not <="), bound)
}

// CheckAbove asserts value >= bound.
func CheckAbove(name string, value, bound float64) {
	ok := value >= bound
	report(ok, "%s: %.4g %s %.4g", name, value, cmp(ok, ">=", "not >="), bound)
}

// CheckIn asserts lo <= value <= hi, e.g. a convergence ratio near 4.
func CheckIn(name string, value, lo, hi float64) {
	ok := value >= lo && value <= hi
	report(ok, "%s: %.4g %s [%.4g, %.4g]", name, value, cmp(ok, "in", "not in"), lo, hi)
}

// CheckTrue asserts a condition that is not a number; detail says what was
// checked (e.g. "every off sensor reads -1").
func CheckTrue(name string, ok bool, detail string) {
	report(ok, "%s: %s%s", name, cmp(ok, "", "not: "), detail)
}

func values(got, want float64) string {
	return fmt.Sprintf("   (got %.6g, want %.6g)", got, want)
}
