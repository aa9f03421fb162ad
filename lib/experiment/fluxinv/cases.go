package fluxinv

import (
	"fmt"
	"math"
)

// CaseComparison is one test case of a learnt posterior against the
// posterior its cell is compared with (exact, or the nonlinear reference).
type CaseComparison struct {
	// Case is the test case (row of the test split).
	Case int `json:"case"`
	// RHat is the reference's largest split-R̂ over segments (ESS; 0 for
	// Gaussian draws) and Clipped the fraction of its draws and segments at
	// q = 0 (how much of the posterior sits on the clip of the prior).
	RHat    float64 `json:"rhat"`
	Clipped float64 `json:"clipped"`
	// Error and RefError are the mean over the 30 segments of |posterior
	// mean − true flux| (physical units) of the learnt and the reference
	// posterior; Std and RefStd their mean posterior stds.
	Error    float64 `json:"error"`
	RefError float64 `json:"ref_error"`
	Std      float64 `json:"std"`
	RefStd   float64 `json:"ref_std"`
}

// ErrorRatio is Error / RefError.
func (c CaseComparison) ErrorRatio() float64 { return c.Error / c.RefError }

// StdRatio is Std / RefStd.
func (c CaseComparison) StdRatio() float64 { return c.Std / c.RefStd }

// CompareCases compares the cell c's learnt posterior with its reference case
// by case, on the reference's cases (for the nonlinear problem the first
// RefCases), from the posterior files of the run folder out: where the
// overall ratios of the tables come from.
func CompareCases(out string, res *Results, c Cell) ([]CaseComparison, error) {
	mf, rf, _, truths, err := cellFiles(out, res, c)
	if err != nil {
		return nil, err
	}
	m, r := mf.Post, rf.Post
	if r.K > m.K {
		return nil, fmt.Errorf("fluxinv: %s: reference has %d cases, the posterior %d", c.Name(), r.K, m.K)
	}
	cases := make([]CaseComparison, r.K)
	for j := range cases {
		cc := CaseComparison{Case: j}
		if r.RHat != nil {
			cc.RHat = r.RHat[j]
		}
		x := r.Case(j)
		zeros := 0
		for _, v := range x {
			if v == 0 {
				zeros++
			}
		}
		cc.Clipped = float64(zeros) / float64(len(x))
		for s := 0; s < D; s++ {
			q := truths[j*D+s]
			cc.Error += math.Abs(m.Mean[j*D+s]-q) / D
			cc.RefError += math.Abs(r.Mean[j*D+s]-q) / D
			cc.Std += m.Std[j*D+s] / D
			cc.RefStd += r.Std[j*D+s] / D
		}
		cases[j] = cc
	}
	return cases, nil
}

// ConvergedComparison is a learnt posterior's comparison with an ESS
// reference restricted to the reference's cases with split-R̂ <
// RHatConverged (CellResult.Converged).
type ConvergedComparison struct {
	// Cases are the converged cases (of the reference's Of).
	Cases []int `json:"cases"`
	Of    int   `json:"of"`
	// ErrorRatio and StdRatio are the overall ratios on those cases.
	ErrorRatio float64 `json:"error_ratio"`
	StdRatio   float64 `json:"std_ratio"`
}

// convergedComparison compares post with ref (its first ref.K cases) on the
// cases whose reference R̂ is below RHatConverged; nil when ref has no R̂,
// when every case converged (the comparison is then the cell's own) or
// none did.
func convergedComparison(post *Posterior, truths []float64, ref *Posterior, priorStd []float64) (*ConvergedComparison, error) {
	if ref == nil || ref.RHat == nil {
		return nil, nil
	}
	var cases []int
	for j, r := range ref.RHat {
		if r < RHatConverged {
			cases = append(cases, j)
		}
	}
	if len(cases) == 0 || len(cases) == ref.K {
		return nil, nil
	}
	sub := make([]float64, 0, len(cases)*D)
	for _, j := range cases {
		sub = append(sub, truths[j*D:(j+1)*D]...)
	}
	m, _, err := Evaluate(post.cases(cases), sub, ref.cases(cases), priorStd, 2, 0)
	if err != nil {
		return nil, err
	}
	return &ConvergedComparison{Cases: cases, Of: ref.K, ErrorRatio: m.Reference.ErrorRatioOverall, StdRatio: m.Reference.StdRatioOverall}, nil
}
