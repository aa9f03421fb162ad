package density

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pdediff/pdediff/lib/model"
	"github.com/pdediff/pdediff/lib/sample"
)

// NFEPoint is one solver setting of the accuracy-vs-NFE study.
type NFEPoint struct {
	// Sampler is the registered sampler name (euler, heun, rk4, heun-edm, dpmpp2m, ode).
	Sampler string  `json:"sampler"`
	Steps   int     `json:"steps,omitempty"`
	Tol     float64 `json:"tol,omitempty"`
	NFE     int     `json:"nfe"`
	// Sinkhorn is the log-domain OT distance of the samples to the reference.
	Sinkhorn float64 `json:"sinkhorn"`
	// RMSToRef is the RMS difference to the tight-tolerance Dormand–Prince
	// solution from the same starting points (the solver's own error).
	RMSToRef float64 `json:"rms_to_reference_solution"`
}

// NFESamplers returns the sampler specs of the study: the fixed-step PF-ODE
// solvers (uniform grid: euler, heun, rk4; Karras grid: heun-edm, dpmpp2m)
// at each of steps, then the adaptive one at each of tols.
func NFESamplers(steps []int, tols []float64) []sample.Spec {
	var out []sample.Spec
	for _, name := range []string{"euler", "heun", "rk4", "heun-edm", "dpmpp2m"} {
		for _, s := range steps {
			out = append(out, sample.Spec{Name: name, Steps: s})
		}
	}
	for _, tol := range tols {
		out = append(out, sample.Spec{Name: "ode", Rtol: tol, Atol: tol})
	}
	return out
}

// NFEStudy runs the PF-ODE solvers of NFESamplers(p.NFESteps, p.NFETols) on
// the same prior draws of x | y and reports, for each, the score evaluations
// used, the Sinkhorn distance to ref, and the RMS deviation from a reference
// solution (Dormand–Prince at rtol = atol = 1e-8). It answers which solver
// reaches the accuracy of the paper's RK45 at 1e-5 with the fewest score
// evaluations.
func NFEStudy(m *model.Model, y []float64, ref []float64, p Preset, seed uint64) ([]NFEPoint, error) {
	score, err := m.ScoreFunc(y)
	if err != nil {
		return nil, err
	}
	n, d := p.NSamples, m.Data.XDim
	rng := rand.New(rand.NewPCG(seed, 0x6e6665))
	xT := make([]float64, n*d)
	for i := range xT {
		xT[i] = m.Process.PriorStd() * rng.NormFloat64()
	}
	base := sample.Options{N: n, D: d, XT: xT}
	truth, err := sample.Spec{Name: "ode", Rtol: 1e-8, Atol: 1e-8}.Run(m.Process, score, base)
	if err != nil {
		return nil, fmt.Errorf("density: NFE study reference solution: %w", err)
	}
	var out []NFEPoint
	for _, spec := range NFESamplers(p.NFESteps, p.NFETols) {
		r, err := spec.Run(m.Process, score, base)
		if err != nil {
			return nil, fmt.Errorf("density: NFE study %s: %w", spec, err)
		}
		dist, err := Evaluate(r.X, ref, p.Reg)
		if err != nil {
			return nil, err
		}
		var s float64
		for i, v := range r.X {
			s += (v - truth.X[i]) * (v - truth.X[i])
		}
		out = append(out, NFEPoint{Sampler: spec.Name, Steps: spec.Steps, Tol: spec.Rtol, NFE: r.NFE,
			Sinkhorn: dist.Log, RMSToRef: math.Sqrt(s / float64(len(r.X)))})
	}
	return out, nil
}
