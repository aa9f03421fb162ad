package posterior

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// DefaultSBCBins is the number of SBC rank-histogram bins when MetricsOptions.Bins is 0.
const DefaultSBCBins = 10

// MetricsOptions configure Evaluate. Zero values select the defaults noted per field.
type MetricsOptions struct {
	// PriorStd, if non-nil (length dim), is the prior std per segment, reported
	// beside the posterior std (the paper's dashed lines use the std of the
	// true flux over the test set).
	PriorStd []float64
	// Bins is the number of bins of the SBC rank histograms (0 = DefaultSBCBins);
	// it must not exceed samples+1, the number of possible ranks.
	Bins int
	// Seed seeds the random tie-breaking of SBC ranks (ties are common for a
	// clipped prior, where the truth and many samples are exactly 0).
	Seed uint64
	// Reference, if non-nil, holds reference posterior samples (e.g. exact
	// ones) for the same cases, row-major cases × RefSamples × dim.
	Reference []float64
	// RefSamples is the number of reference samples per case (0 = the same as the model's).
	RefSamples int
}

// Metrics summarises posterior samples against the true unknowns. Every slice
// indexed by segment has length Dim. All values are finite, so a Metrics
// always encodes as JSON.
type Metrics struct {
	// Cases, Samples and Dim are the shape of the samples.
	Cases   int `json:"cases"`
	Samples int `json:"samples"`
	Dim     int `json:"dim"`
	// MeanTrueFlux is the normaliser of Error: the mean of the truths over all
	// cases and segments.
	MeanTrueFlux float64 `json:"mean_true_flux"`
	// Error is the paper's normalised error of the posterior mean (Sec. 6.2,
	// Figs. 8–9): for segment j, the mean over cases of |q̄_j − q_j| (q̄ the
	// mean of the samples of the case), divided by MeanTrueFlux (one global
	// normaliser, the average flux over all segments and cases, as the paper
	// describes it). ErrorMean is its mean over segments.
	Error     []float64 `json:"error"`
	ErrorMean float64   `json:"error_mean"`
	// Std is the mean over cases of the sample std (n−1 denominator) of
	// segment j; StdMean is its mean over segments.
	Std     []float64 `json:"std"`
	StdMean float64   `json:"std_mean"`
	// PriorStd and PriorStdMean repeat MetricsOptions.PriorStd and its mean.
	PriorStd     []float64 `json:"prior_std,omitempty"`
	PriorStdMean float64   `json:"prior_std_mean,omitempty"`
	// Coverage68 and Coverage95 are the fractions of cases whose truth lies in
	// the central 68 % ([q_0.16, q_0.84]) and 95 % ([q_0.025, q_0.975])
	// intervals of the empirical sample quantiles (linear interpolation
	// between order statistics, R type 7), per segment; the Mean fields
	// average over segments. A calibrated posterior gives ≈ 0.68 and ≈ 0.95.
	Coverage68     []float64 `json:"coverage68"`
	Coverage95     []float64 `json:"coverage95"`
	Coverage68Mean float64   `json:"coverage68_mean"`
	Coverage95Mean float64   `json:"coverage95_mean"`
	// SBC holds the simulation-based-calibration ranks and their uniformity tests.
	SBC SBC `json:"sbc"`
	// Reference compares with MetricsOptions.Reference (nil without one).
	Reference *Comparison `json:"reference,omitempty"`
}

// SBC holds simulation-based-calibration results (Talts et al. 2018): the
// rank of the truth among the S samples of its case is uniform on 0..S when
// the truths are prior draws and the samples come from the exact posterior.
type SBC struct {
	// Bins is the number of histogram bins; rank r falls in bin ⌊r·Bins/(S+1)⌋.
	Bins int `json:"bins"`
	// Ranks are the ranks, row-major cases × dim: the number of samples below
	// the truth plus a uniform draw from 0..(number of samples equal to it).
	Ranks []int `json:"-"`
	// Hist are the rank histograms, one per segment, Bins counts each.
	Hist [][]int `json:"hist"`
	// PValue is, per segment, the p-value of the χ² test (Bins−1 degrees of
	// freedom) of the histogram against the uniform expected counts.
	PValue []float64 `json:"p_value"`
	// MinPValue is the smallest per-segment p-value (not corrected for the
	// number of segments).
	MinPValue float64 `json:"min_p_value"`
	// PooledHist sums the histograms over segments and PooledPValue is its χ²
	// p-value. The segments of one case are correlated, so the pooled test is
	// anti-conservative: read it as a diagnostic, not an exact test.
	PooledHist   []int   `json:"pooled_hist"`
	PooledPValue float64 `json:"pooled_p_value"`
}

// Comparison relates the samples to reference samples of the same cases.
type Comparison struct {
	// Cases, when set, is the number of cases compared (the first Cases,
	// for a reference of fewer cases than the samples; unset: all) and
	// Samples the number of reference samples per case.
	Cases   int `json:"cases,omitempty"`
	Samples int `json:"samples"`
	// Error, ErrorMean, Std and StdMean are the reference's metrics, defined as in Metrics.
	Error     []float64 `json:"error"`
	ErrorMean float64   `json:"error_mean"`
	Std       []float64 `json:"std"`
	StdMean   float64   `json:"std_mean"`
	// ErrorRatio is Error(model)/Error(reference) per segment and
	// ErrorRatioOverall is ErrorMean(model)/ErrorMean(reference).
	ErrorRatio        []float64 `json:"error_ratio"`
	ErrorRatioOverall float64   `json:"error_ratio_overall"`
	// StdRatio is Std(model)/Std(reference) per segment and StdRatioOverall
	// is StdMean(model)/StdMean(reference).
	StdRatio        []float64 `json:"std_ratio"`
	StdRatioOverall float64   `json:"std_ratio_overall"`
}

// Evaluate computes Metrics for samples (row-major cases × nSamples × dim,
// physical units) against truths (row-major cases × dim).
//
// Errors: non-positive shapes, lengths that do not match them, fewer than 2
// samples, non-finite values, a mean true flux that is not > 0 (the
// normaliser), too many bins, and a reference whose error or std is zero at
// some segment (the ratio is then undefined).
func Evaluate(samples, truths []float64, cases, nSamples, dim int, opt MetricsOptions) (*Metrics, error) {
	if cases < 1 || nSamples < 2 || dim < 1 {
		return nil, fmt.Errorf("posterior metrics: %d cases × %d samples × %d, want ≥ 1 case, ≥ 2 samples and dim ≥ 1", cases, nSamples, dim)
	}
	if len(truths) != cases*dim {
		return nil, fmt.Errorf("posterior metrics: %d truth values, want %d cases × %d", len(truths), cases, dim)
	}
	if err := checkFinite("truth", truths); err != nil {
		return nil, err
	}
	bins := opt.Bins
	if bins == 0 {
		bins = DefaultSBCBins
	}
	if bins < 2 || bins > nSamples+1 {
		return nil, fmt.Errorf("posterior metrics: %d SBC bins, want 2..%d (samples + 1)", bins, nSamples+1)
	}
	if opt.PriorStd != nil && len(opt.PriorStd) != dim {
		return nil, fmt.Errorf("posterior metrics: %d prior stds, want %d", len(opt.PriorStd), dim)
	}
	if err := checkFinite("prior std", opt.PriorStd); err != nil {
		return nil, err
	}
	norm := 0.0
	for _, v := range truths {
		norm += v
	}
	norm /= float64(len(truths))
	if !(norm > 0) {
		return nil, fmt.Errorf("posterior metrics: mean true flux %v, want > 0 (it normalises the error)", norm)
	}
	st, err := summarise(samples, truths, cases, nSamples, dim, norm, "samples")
	if err != nil {
		return nil, err
	}
	m := &Metrics{Cases: cases, Samples: nSamples, Dim: dim, MeanTrueFlux: norm,
		Error: st.err, ErrorMean: mean(st.err), Std: st.std, StdMean: mean(st.std)}
	if opt.PriorStd != nil {
		m.PriorStd = append([]float64(nil), opt.PriorStd...)
		m.PriorStdMean = mean(m.PriorStd)
	}

	// Coverage and SBC ranks.
	m.Coverage68, m.Coverage95 = make([]float64, dim), make([]float64, dim)
	rng := rand.New(rand.NewPCG(opt.Seed, 0x736263)) // "sbc"
	ranks := make([]int, cases*dim)
	buf := make([]float64, nSamples)
	for n := 0; n < cases; n++ {
		for j := 0; j < dim; j++ {
			for s := 0; s < nSamples; s++ {
				buf[s] = samples[(n*nSamples+s)*dim+j]
			}
			slices.Sort(buf)
			t := truths[n*dim+j]
			if lo, hi := quantile7(buf, 0.16), quantile7(buf, 0.84); lo <= t && t <= hi {
				m.Coverage68[j]++
			}
			if lo, hi := quantile7(buf, 0.025), quantile7(buf, 0.975); lo <= t && t <= hi {
				m.Coverage95[j]++
			}
			below, _ := slices.BinarySearch(buf, t) // first index with buf[i] ≥ t
			above := below
			for above < nSamples && buf[above] == t {
				above++
			}
			ranks[n*dim+j] = below + rng.IntN(above-below+1)
		}
	}
	for j := 0; j < dim; j++ {
		m.Coverage68[j] /= float64(cases)
		m.Coverage95[j] /= float64(cases)
	}
	m.Coverage68Mean, m.Coverage95Mean = mean(m.Coverage68), mean(m.Coverage95)
	m.SBC = sbcTests(ranks, cases, nSamples, dim, bins)

	if opt.Reference != nil {
		rs := opt.RefSamples
		if rs == 0 {
			rs = nSamples
		}
		if rs < 2 {
			return nil, fmt.Errorf("posterior metrics: %d reference samples per case, want ≥ 2", rs)
		}
		ref, err := summarise(opt.Reference, truths, cases, rs, dim, norm, "reference samples")
		if err != nil {
			return nil, err
		}
		c := &Comparison{Samples: rs, Error: ref.err, ErrorMean: mean(ref.err), Std: ref.std, StdMean: mean(ref.std),
			ErrorRatio: make([]float64, dim), StdRatio: make([]float64, dim)}
		for j := 0; j < dim; j++ {
			if !(ref.err[j] > 0) || !(ref.std[j] > 0) {
				return nil, fmt.Errorf("posterior metrics: reference error %v and std %v at segment %d, want both > 0 for the ratios", ref.err[j], ref.std[j], j)
			}
			c.ErrorRatio[j] = m.Error[j] / ref.err[j]
			c.StdRatio[j] = m.Std[j] / ref.std[j]
		}
		c.ErrorRatioOverall = m.ErrorMean / c.ErrorMean
		c.StdRatioOverall = m.StdMean / c.StdMean
		m.Reference = c
	}
	return m, nil
}

// sampleStats are the per-segment normalised error and mean std of a sample set.
type sampleStats struct{ err, std []float64 }

// summarise validates samples (cases × ns × dim) and returns their normalised
// error against truths and their mean per-case std, per segment.
func summarise(samples, truths []float64, cases, ns, dim int, norm float64, what string) (sampleStats, error) {
	if len(samples) != cases*ns*dim {
		return sampleStats{}, fmt.Errorf("posterior metrics: %d %s values, want %d cases × %d samples × %d", len(samples), what, cases, ns, dim)
	}
	if err := checkFinite(what, samples); err != nil {
		return sampleStats{}, err
	}
	st := sampleStats{err: make([]float64, dim), std: make([]float64, dim)}
	mu := make([]float64, dim)
	s2 := make([]float64, dim)
	for n := 0; n < cases; n++ {
		clear(mu)
		clear(s2)
		block := samples[n*ns*dim : (n+1)*ns*dim]
		for s := 0; s < ns; s++ {
			for j, v := range block[s*dim : (s+1)*dim] {
				mu[j] += v
			}
		}
		for j := range mu {
			mu[j] /= float64(ns)
		}
		for s := 0; s < ns; s++ {
			for j, v := range block[s*dim : (s+1)*dim] {
				e := v - mu[j]
				s2[j] += e * e
			}
		}
		for j := 0; j < dim; j++ {
			st.err[j] += math.Abs(mu[j] - truths[n*dim+j])
			st.std[j] += math.Sqrt(s2[j] / float64(ns-1))
		}
	}
	for j := 0; j < dim; j++ {
		st.err[j] /= float64(cases) * norm
		st.std[j] /= float64(cases)
	}
	return st, nil
}

// sbcTests bins the ranks (0..ns) and runs the χ² uniformity tests.
func sbcTests(ranks []int, cases, ns, dim, bins int) SBC {
	// Expected share of each bin: the number of ranks r in 0..ns with ⌊r·bins/(ns+1)⌋ = b.
	width := make([]float64, bins)
	for r := 0; r <= ns; r++ {
		width[r*bins/(ns+1)]++
	}
	for b := range width {
		width[b] /= float64(ns + 1)
	}
	out := SBC{Bins: bins, Ranks: ranks, Hist: make([][]int, dim), PValue: make([]float64, dim),
		PooledHist: make([]int, bins), MinPValue: 1}
	for j := 0; j < dim; j++ {
		h := make([]int, bins)
		for n := 0; n < cases; n++ {
			b := ranks[n*dim+j] * bins / (ns + 1)
			h[b]++
			out.PooledHist[b]++
		}
		out.Hist[j] = h
		out.PValue[j] = chiSquareUniform(h, width, cases)
		out.MinPValue = math.Min(out.MinPValue, out.PValue[j])
	}
	out.PooledPValue = chiSquareUniform(out.PooledHist, width, cases*dim)
	return out
}

// chiSquareUniform is the p-value of Pearson's χ² statistic of counts h
// (total n) against expected shares width, with len(h)−1 degrees of freedom.
func chiSquareUniform(h []int, width []float64, n int) float64 {
	stat := 0.0
	for b, o := range h {
		e := width[b] * float64(n)
		d := float64(o) - e
		stat += d * d / e
	}
	return distuv.ChiSquared{K: float64(len(h) - 1)}.Survival(stat)
}

// quantile7 is the p-quantile of sorted x with linear interpolation between
// order statistics (R type 7): h = (n−1)p, x[⌊h⌋] + (h−⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋]).
func quantile7(x []float64, p float64) float64 {
	h := float64(len(x)-1) * p
	lo := int(math.Floor(h))
	if lo >= len(x)-1 {
		return x[len(x)-1]
	}
	return x[lo] + (h-float64(lo))*(x[lo+1]-x[lo])
}

// mean returns the arithmetic mean of v (0 for an empty v).
func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
