package posterior

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestEvaluateHandComputed(t *testing.T) {
	// 2 cases × 2 samples × 2 segments.
	truths := []float64{1, 3, 2, 2}
	samples := []float64{
		1.5, 2, 0.5, 4, // case 0: means (1, 3), errors (0, 0)
		3, 2, 3, 6, // case 1: means (3, 4), errors (1, 2)
	}
	m, err := Evaluate(samples, truths, 2, 2, 2, MetricsOptions{Bins: 3, PriorStd: []float64{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	// Normaliser: mean true flux (1+3+2+2)/4 = 2; e_0 = (0+1)/2/2, e_1 = (0+2)/2/2.
	assertClose(t, "mean true flux", m.MeanTrueFlux, 2, 1e-15)
	assertClose(t, "error 0", m.Error[0], 0.25, 1e-15)
	assertClose(t, "error 1", m.Error[1], 0.5, 1e-15)
	assertClose(t, "error mean", m.ErrorMean, 0.375, 1e-15)
	// Stds (n−1): case 0 (√0.5, √2), case 1 (0, √8).
	assertClose(t, "std 0", m.Std[0], math.Sqrt(0.5)/2, 1e-15)
	assertClose(t, "std 1", m.Std[1], (math.Sqrt(2)+math.Sqrt(8))/2, 1e-15)
	assertClose(t, "prior std mean", m.PriorStdMean, 1.5, 1e-15)
	// Ranks: 1 < 1.5 → 1; 3 in (2, 4) → 1; 2 < 3, 3 → 0; 2 ties with one sample → 0 or 1.
	r := m.SBC.Ranks
	if r[0] != 1 || r[1] != 1 || r[2] != 0 || (r[3] != 0 && r[3] != 1) {
		t.Errorf("ranks %v, want [1 1 0 0|1]", r)
	}
	// Coverage with two samples: the 95 % interval spans [x_lo + 0.025 d, x_hi − 0.025 d].
	// case 0 seg 0: [0.525, 1.475] ∋ 1; seg 1: [2.05, 3.95] ∋ 3; case 1 seg 0: [3, 3] ∌ 2; seg 1: [2.1, 5.9] ∌ 2.
	assertClose(t, "coverage95 seg 0", m.Coverage95[0], 0.5, 0)
	assertClose(t, "coverage95 seg 1", m.Coverage95[1], 0.5, 0)
	self, err := Evaluate(samples, truths, 2, 2, 2, MetricsOptions{Bins: 3, Reference: samples})
	if err != nil {
		t.Fatal(err)
	}
	c := self.Reference
	for j := 0; j < 2; j++ {
		if c.ErrorRatio[j] != 1 || c.StdRatio[j] != 1 {
			t.Errorf("self-comparison ratios %v, %v, want 1", c.ErrorRatio, c.StdRatio)
		}
	}
	if c.ErrorRatioOverall != 1 || c.StdRatioOverall != 1 {
		t.Errorf("self-comparison overall ratios %v, %v, want 1", c.ErrorRatioOverall, c.StdRatioOverall)
	}
	if _, err := json.Marshal(self); err != nil {
		t.Errorf("JSON: %v", err)
	}
}

// gaussianCases draws truths q ~ N(0, 1)^dim and samples from N(post mean, (scale·post sd)²)
// for readings y = q + N(0, σ²).
func gaussianCases(seed uint64, cases, ns, dim int, sigma, scale float64) (samples, truths []float64) {
	r := rand.New(rand.NewPCG(seed, 9))
	post := 1 / (1 + sigma*sigma)
	sd := math.Sqrt(sigma * sigma * post)
	truths = make([]float64, cases*dim)
	samples = make([]float64, cases*ns*dim)
	for n := 0; n < cases; n++ {
		for j := 0; j < dim; j++ {
			q := r.NormFloat64()
			truths[n*dim+j] = q
			m := post * (q + sigma*r.NormFloat64())
			for s := 0; s < ns; s++ {
				samples[(n*ns+s)*dim+j] = m + scale*sd*r.NormFloat64()
			}
		}
	}
	// Shift everything by 3 so that the mean true flux (the normaliser) is positive.
	for i := range truths {
		truths[i] += 3
	}
	for i := range samples {
		samples[i] += 3
	}
	return samples, truths
}

func TestEvaluateCalibration(t *testing.T) {
	const cases, ns, dim = 1000, 199, 5
	for _, tc := range []struct {
		name            string
		scale           float64
		cov68, cov95    [2]float64 // ranges of the mean coverages
		pooledP, minP   [2]float64
		stdRatioOverall [2]float64
	}{
		{"exact posterior", 1, [2]float64{0.65, 0.71}, [2]float64{0.935, 0.965}, [2]float64{1e-3, 1}, [2]float64{1e-3, 1}, [2]float64{0.98, 1.02}},
		{"under-dispersed ×0.5", 0.5, [2]float64{0, 0.45}, [2]float64{0, 0.8}, [2]float64{0, 1e-10}, [2]float64{0, 1e-6}, [2]float64{0.48, 0.52}},
		{"over-dispersed ×2", 2, [2]float64{0.9, 1}, [2]float64{0.99, 1}, [2]float64{0, 1e-10}, [2]float64{0, 1e-6}, [2]float64{1.95, 2.05}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, truths := gaussianCases(1, cases, ns, dim, 0.5, 1)
			samples, _ := gaussianCases(1, cases, ns, dim, 0.5, tc.scale) // same truths and readings
			m, err := Evaluate(samples, truths, cases, ns, dim, MetricsOptions{Bins: 10, Reference: ref, Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			in := func(what string, v float64, r [2]float64) {
				t.Helper()
				if !(v >= r[0] && v <= r[1]) {
					t.Errorf("%s = %.4g, want in [%g, %g]", what, v, r[0], r[1])
				}
			}
			in("coverage68", m.Coverage68Mean, tc.cov68)
			in("coverage95", m.Coverage95Mean, tc.cov95)
			in("pooled SBC p-value", m.SBC.PooledPValue, tc.pooledP)
			in("min SBC p-value", m.SBC.MinPValue, tc.minP)
			in("std ratio", m.Reference.StdRatioOverall, tc.stdRatioOverall)
			total := 0
			for _, c := range m.SBC.PooledHist {
				total += c
			}
			if total != cases*dim || len(m.SBC.Hist) != dim || len(m.SBC.Hist[0]) != 10 {
				t.Errorf("histogram shape: %d ranks, %d segments", total, len(m.SBC.Hist))
			}
			t.Logf("coverage 68/95 %.3f/%.3f, SBC pooled p %.3g, min p %.3g, error ratio %.3f, std ratio %.3f",
				m.Coverage68Mean, m.Coverage95Mean, m.SBC.PooledPValue, m.SBC.MinPValue, m.Reference.ErrorRatioOverall, m.Reference.StdRatioOverall)
		})
	}
}

func TestEvaluateErrors(t *testing.T) {
	s := []float64{1, 2, 3, 4}
	tr := []float64{1, 2}
	for _, tc := range []struct {
		name            string
		samples, truths []float64
		cases, ns, dim  int
		opt             MetricsOptions
		want            string
	}{
		{"no cases", s, tr, 0, 2, 2, MetricsOptions{}, "cases"},
		{"one sample", s[:2], tr, 1, 1, 2, MetricsOptions{}, "samples"},
		{"truth length", s, tr[:1], 1, 2, 2, MetricsOptions{Bins: 3}, "truth"},
		{"samples length", s[:3], tr, 1, 2, 2, MetricsOptions{Bins: 3}, "samples values"},
		{"nan sample", []float64{1, math.NaN(), 3, 4}, tr, 1, 2, 2, MetricsOptions{Bins: 3}, "not finite"},
		{"inf truth", s, []float64{1, math.Inf(1)}, 1, 2, 2, MetricsOptions{Bins: 3}, "not finite"},
		{"too many bins", s, tr, 1, 2, 2, MetricsOptions{Bins: 4}, "bins"},
		{"one bin", s, tr, 1, 2, 2, MetricsOptions{Bins: 1}, "bins"},
		{"zero flux", s, []float64{0, 0}, 1, 2, 2, MetricsOptions{Bins: 3}, "mean true flux"},
		{"prior std length", s, tr, 1, 2, 2, MetricsOptions{Bins: 3, PriorStd: []float64{1}}, "prior stds"},
		{"reference length", s, tr, 1, 2, 2, MetricsOptions{Bins: 3, Reference: s[:2]}, "reference"},
		{"reference without spread", s, tr, 1, 2, 2, MetricsOptions{Bins: 3, Reference: []float64{1, 2, 1, 2}}, "want both > 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Evaluate(tc.samples, tc.truths, tc.cases, tc.ns, tc.dim, tc.opt); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
