package posterior

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// chainsOf builds draws (chains × n × 1) with chain c drawn from N(means[c], sd[c]²).
func chainsOf(r *rand.Rand, n int, means, sds []float64) []float64 {
	out := make([]float64, 0, len(means)*n)
	for c := range means {
		for k := 0; k < n; k++ {
			out = append(out, means[c]+sds[c]*r.NormFloat64())
		}
	}
	return out
}

func TestSplitRHat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name   string
		draws  []float64
		chains int
		n      int
		lo, hi float64
	}{
		// Halves [0 2] and [1 3]: W = 2, B = 2·var(1, 2) = 1, R̂ = sqrt((W/2 + B/2)/W) = sqrt(0.75).
		{"hand computed", []float64{0, 2, 1, 3}, 1, 4, math.Sqrt(0.75) - 1e-12, math.Sqrt(0.75) + 1e-12},
		// Odd length: the middle draw (100) is dropped.
		{"odd length drops middle", []float64{0, 2, 100, 1, 3}, 1, 5, math.Sqrt(0.75) - 1e-12, math.Sqrt(0.75) + 1e-12},
		{"iid chains", chainsOf(r, 5000, []float64{0, 0, 0, 0}, []float64{1, 1, 1, 1}), 4, 5000, 0.99, 1.01},
		{"different means", chainsOf(r, 1000, []float64{0, 0, 2, 2}, []float64{1, 1, 1, 1}), 4, 1000, 1.2, math.Inf(1)},
		{"one drifting chain", chainsOf(r, 1000, []float64{0, 0, 0, 3}, []float64{1, 1, 1, 1}), 4, 1000, 1.2, math.Inf(1)},
		{"constant everywhere", make([]float64, 40), 4, 10, 1, 1},
		{"different constants", append(make([]float64, 20), 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1), 2, 20, math.Inf(1), math.Inf(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitRHat(tc.draws, tc.chains, tc.n, 1)
			if err != nil {
				t.Fatal(err)
			}
			if !(got[0] >= tc.lo && got[0] <= tc.hi) {
				t.Errorf("R-hat = %v, want in [%v, %v]", got[0], tc.lo, tc.hi)
			}
		})
	}
	// Several coordinates are independent: interleave a mixed and a non-mixed one.
	a := chainsOf(r, 500, []float64{0, 0, 0}, []float64{1, 1, 1})
	b := chainsOf(r, 500, []float64{0, 2, 4}, []float64{1, 1, 1})
	two := make([]float64, 0, 2*len(a))
	for i := range a {
		two = append(two, a[i], b[i])
	}
	got, err := SplitRHat(two, 3, 500, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] > 1.02 || got[1] < 1.5 {
		t.Errorf("per-coordinate R-hat = %v, want ≈ 1 and > 1.5", got)
	}
	for _, tc := range []struct {
		name            string
		n               int
		chains, per, dm int
	}{
		{"too short", 6, 2, 3, 1},
		{"no chains", 0, 0, 4, 1},
		{"length mismatch", 7, 2, 4, 1},
	} {
		if _, err := SplitRHat(make([]float64, tc.n), tc.chains, tc.per, tc.dm); err == nil || !strings.Contains(err.Error(), "split-R̂") {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
}
