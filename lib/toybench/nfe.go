package toybench

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pdediff/pdediff/lib/sample"
	"github.com/pdediff/pdediff/lib/scorenet"
	"github.com/pdediff/pdediff/lib/sde"
)

// NFEPoint is one solver setting of the accuracy-vs-NFE study.
type NFEPoint struct {
	Solver string  `json:"solver"` // euler, heun, rk4, dopri5
	Steps  int     `json:"steps,omitempty"`
	Tol    float64 `json:"tol,omitempty"`
	NFE    int     `json:"nfe"`
	// Sinkhorn is the log-domain OT distance of the samples to the reference.
	Sinkhorn float64 `json:"sinkhorn"`
	// RMSToRef is the RMS difference to the tight-tolerance Dormand–Prince
	// solution from the same starting points (the solver's own error).
	RMSToRef float64 `json:"rms_to_reference_solution"`
}

// NFEStudy runs the PF-ODE solvers (Euler, Heun, RK4 at p.NFESteps steps and
// Dormand–Prince at p.NFETols) on the same prior draws for x | y and reports,
// for each, the score evaluations used, the Sinkhorn distance to ref, and the
// RMS deviation from a reference solution (Dormand–Prince at rtol = atol =
// 1e-8). It answers which solver reaches the accuracy of the paper's RK45 at
// 1e-5 with the fewest score evaluations.
func NFEStudy(proc sde.Process, net *scorenet.Net, y float64, ref []float64, p Preset, seed uint64) ([]NFEPoint, error) {
	score, err := net.ScoreFunc([]float64{y})
	if err != nil {
		return nil, err
	}
	n := p.NSamples
	rng := rand.New(rand.NewPCG(seed, 0x6e6665))
	xT := make([]float64, n)
	for i := range xT {
		xT[i] = proc.PriorStd() * rng.NormFloat64()
	}
	base := sample.Options{N: n, D: 1, XT: xT}
	tight := base
	tight.Rtol, tight.Atol = 1e-8, 1e-8
	truth, err := sample.DoPri5(proc, score, tight)
	if err != nil {
		return nil, fmt.Errorf("toybench: NFE study reference solution: %w", err)
	}
	point := func(solver string, steps int, tol float64, r sample.Result) (NFEPoint, error) {
		d, err := Evaluate(r.X, ref, p.Reg)
		if err != nil {
			return NFEPoint{}, err
		}
		var s float64
		for i, v := range r.X {
			s += (v - truth.X[i]) * (v - truth.X[i])
		}
		return NFEPoint{Solver: solver, Steps: steps, Tol: tol, NFE: r.NFE, Sinkhorn: d.Log, RMSToRef: math.Sqrt(s / float64(n))}, nil
	}
	var out []NFEPoint
	for _, s := range []struct {
		name string
		f    func(sde.Process, sample.ScoreFunc, sample.Options) (sample.Result, error)
	}{{"euler", sample.ODEEuler}, {"heun", sample.ODEHeun}, {"rk4", sample.ODERK4}} {
		for _, steps := range p.NFESteps {
			o := base
			o.Steps = steps
			r, err := s.f(proc, score, o)
			if err != nil {
				return nil, fmt.Errorf("toybench: NFE study %s with %d steps: %w", s.name, steps, err)
			}
			pt, err := point(s.name, steps, 0, r)
			if err != nil {
				return nil, err
			}
			out = append(out, pt)
		}
	}
	for _, tol := range p.NFETols {
		o := base
		o.Rtol, o.Atol = tol, tol
		r, err := sample.DoPri5(proc, score, o)
		if err != nil {
			return nil, fmt.Errorf("toybench: NFE study dopri5 at tol %g: %w", tol, err)
		}
		pt, err := point("dopri5", 0, tol, r)
		if err != nil {
			return nil, err
		}
		out = append(out, pt)
	}
	return out, nil
}
