package ot

import (
	"math"
	"testing"
)

// TestExpVecAccuracy checks the vector exp against math.Exp over the range the
// log-domain solver uses, including lengths that are not multiples of 8 and
// arguments that underflow.
func TestExpVecAccuracy(t *testing.T) {
	for _, n := range []int{1, 7, 8, 13, 1000} {
		in := make([]float64, n)
		for i := range in {
			in[i] = -760 * float64(i) / float64(n) // spans [0, -760)
		}
		in[0] = -1e-300
		if n > 3 {
			in[n-1] = math.Inf(-1)
			in[n-2] = -0.3465 // near the reduction boundary ln2/2
		}
		out := make([]float64, n)
		expVec(in, out)
		for i, x := range in {
			want := math.Exp(x)
			if want < 1e-300 { // subnormal region: only ask for tiny values
				if out[i] > 1e-290 || out[i] < 0 {
					t.Errorf("n=%d exp(%g) = %g, want ~%g", n, x, out[i], want)
				}
				continue
			}
			if rel := math.Abs(out[i]-want) / want; rel > 4e-16 {
				t.Errorf("n=%d exp(%g) = %.17g, want %.17g (rel %g)", n, x, out[i], want, rel)
			}
		}
	}
	t.Logf("vector kernel active: %v", hasVecExp)
}
