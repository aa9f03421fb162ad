package physics

import (
	"fmt"
	"math"
	"strings"
)

// NewtonReport records the Newton iterations of one nonlinear solve.
type NewtonReport struct {
	// Iterations is the number of Newton steps taken.
	Iterations int `json:"iterations"`
	// Residuals holds ‖F(c_k)‖₂ before each step and after the last one.
	Residuals []float64 `json:"residuals"`
	// Updates holds ‖δc_k‖∞ of each step (after line search).
	Updates []float64 `json:"updates"`
	// Steps holds the line-search factor of each step (1 = full Newton step).
	Steps []float64 `json:"steps"`
	// Converged tells whether the stopping test ‖δc‖∞ ≤ tol·max(1, ‖c‖∞) was met.
	Converged bool `json:"converged"`
	// WarmStart tells whether Newton started from the model's prior-mean solution (else from K(1 − e^{−3x})).
	WarmStart bool `json:"warm_start"`
	// Continuation is the number of rate-continuation stages used (0 = direct solve from the initial profile).
	Continuation int `json:"continuation"`
}

// String formats the report as one line per iteration.
func (r NewtonReport) String() string {
	if len(r.Residuals) == 0 {
		return "  no Newton iterations"
	}
	var sb strings.Builder
	for k := range r.Updates {
		fmt.Fprintf(&sb, "  iter %2d: |F| = %.3e  |dc| = %.3e  step = %.3g\n", k+1, r.Residuals[k], r.Updates[k], r.Steps[k])
	}
	fmt.Fprintf(&sb, "  final |F| = %.3e, converged = %v", r.Residuals[len(r.Residuals)-1], r.Converged)
	return sb.String()
}

// Solution is a nodal P1 field on a mesh.
type Solution struct {
	// Mesh is the mesh the field lives on.
	Mesh Mesh
	// C holds the nodal values, node (i, j) at index Mesh.Node(i, j).
	C []float64
	// Newton is the Newton report (nonlinear problem only).
	Newton NewtonReport
}

// Sensors returns the 30 sensor readings of the field.
func (s *Solution) Sensors() []float64 {
	out := make([]float64, NumSensors)
	s.Mesh.Sensors(s.C, out)
	return out
}

// solveLinear solves the advection–diffusion problem (reaction ignored) for the given loads.
func (d *discretization) solveLinear(ls loadSpec) ([]float64, error) {
	n := d.mesh.NumNodes()
	bw := d.mesh.bandwidth()
	bm := newBandMatrix(n, bw, bw)
	d.fillBand(bm, d.lin)
	if err := bm.factor(); err != nil {
		return nil, err
	}
	b, g := d.load(ls)
	copy(b, g)
	bm.solve(b)
	return b, nil
}

// newtonOptions controls the Newton solver.
type newtonOptions struct {
	tol     float64
	maxIter int
	init    []float64 // initial nodal field (nil = K(1 − e^{−3x}) profile)
	rate    float64   // reaction rate to use (for continuation)
}

// initialProfile returns c0(x) = K(1 − e^{−3x}) (theory eq. 105: Newton from c = 0 diverges; from c0 it converges).
func (d *discretization) initialProfile() []float64 {
	m := d.mesh
	c := make([]float64, m.NumNodes())
	for i := 0; i <= m.NX; i++ {
		v := d.capK * (1 - math.Exp(-3*float64(i)*m.HX))
		for j := 0; j <= m.NY; j++ {
			c[m.Node(i, j)] = v
		}
	}
	return c
}

// residual computes F(c) = S c − R(c) − b on all rows (weak form, before Dirichlet rows are replaced).
func (d *discretization) residual(c, b, out []float64) {
	d.applyStencil(d.lin, c, out)
	d.addReaction(c, out, nil)
	for r := range out {
		out[r] -= b[r]
	}
}

// dirichletResidualNorm returns ‖F‖₂ with the Dirichlet rows replaced by c − g.
func residualNorm(f, c, g []float64) float64 {
	s := 0.0
	for r, v := range f {
		if r < len(g) {
			v = c[r] - g[r]
		}
		s += v * v
	}
	return math.Sqrt(s)
}

// newton solves the nonlinear problem by Newton's method with a backtracking line search on ‖F‖₂.
func (d *discretization) newton(ls loadSpec, opt newtonOptions) ([]float64, NewtonReport, error) {
	m := d.mesh
	n := m.NumNodes()
	b, g := d.load(ls)
	c := opt.init
	if c == nil {
		c = d.initialProfile()
	} else {
		c = append([]float64(nil), c...)
	}
	copy(c, g)
	saved := d.rate
	d.rate = opt.rate
	defer func() { d.rate = saved }()

	bw := m.bandwidth()
	bm := newBandMatrix(n, bw, bw)
	jac := make([]float64, len(d.lin))
	f := make([]float64, n)
	trial := make([]float64, n)
	ft := make([]float64, n)
	var rep NewtonReport
	d.residual(c, b, f)
	fn := residualNorm(f, c, g)
	rep.Residuals = append(rep.Residuals, fn)
	for it := 0; it < opt.maxIter; it++ {
		if math.IsNaN(fn) || math.IsInf(fn, 0) {
			break
		}
		copy(jac, d.lin)
		d.addReaction(c, nil, jac)
		d.fillBand(bm, jac)
		if err := bm.factor(); err != nil {
			return nil, rep, fmt.Errorf("physics: Newton iteration %d: %w", it+1, err)
		}
		delta := make([]float64, n)
		for r := range n {
			delta[r] = -f[r]
		}
		for r := range g {
			delta[r] = g[r] - c[r]
		}
		bm.solve(delta)
		// Backtracking line search: accept the first α = 1, 1/2, … that decreases ‖F‖.
		alpha := 1.0
		var ftn float64
		for ls := 0; ; ls++ {
			for r := range n {
				trial[r] = c[r] + alpha*delta[r]
			}
			d.residual(trial, b, ft)
			ftn = residualNorm(ft, trial, g)
			if ftn < (1-1e-4*alpha)*fn || ls >= 10 {
				break
			}
			alpha /= 2
		}
		c, trial = trial, c
		f, ft = ft, f
		fn = ftn
		upd, cmax := 0.0, 0.0
		for r := range n {
			upd = max(upd, math.Abs(alpha*delta[r]))
			cmax = max(cmax, math.Abs(c[r]))
		}
		rep.Iterations++
		rep.Updates = append(rep.Updates, upd)
		rep.Steps = append(rep.Steps, alpha)
		rep.Residuals = append(rep.Residuals, fn)
		if math.IsNaN(upd) || math.IsNaN(fn) {
			break
		}
		if alpha == 1 && upd <= opt.tol*max(1, cmax) {
			rep.Converged = true
			return c, rep, nil
		}
	}
	return c, rep, fmt.Errorf("physics: Newton did not converge in %d iterations:\n%s", rep.Iterations, rep)
}

// solveNonlinear runs Newton from warm (if non-nil: a solution for a nearby flux), then from the c0 profile;
// if both fail it retries with continuation in the reaction rate (r/4, r/2, 3r/4, r, each stage started from
// the previous solution). The report is the one of the successful attempt.
func (d *discretization) solveNonlinear(ls loadSpec, tol float64, maxIter int, warm []float64) ([]float64, NewtonReport, error) {
	opt := newtonOptions{tol: tol, maxIter: maxIter, rate: d.rate}
	if warm != nil {
		o := opt
		o.init = warm
		if c, rep, err := d.newton(ls, o); err == nil {
			rep.WarmStart = true
			return c, rep, nil
		}
	}
	c, rep, err := d.newton(ls, opt)
	if err == nil {
		return c, rep, nil
	}
	var cont []float64
	total := NewtonReport{}
	const stages = 4
	for s := 1; s <= stages; s++ {
		o := opt
		o.rate = d.rate * float64(s) / stages
		o.init = cont
		cc, r, e := d.newton(ls, o)
		total.Iterations += r.Iterations
		if s < stages {
			total.Residuals = append(total.Residuals, r.Residuals[:len(r.Residuals)-1]...)
		} else {
			total.Residuals = append(total.Residuals, r.Residuals...)
		}
		total.Updates = append(total.Updates, r.Updates...)
		total.Steps = append(total.Steps, r.Steps...)
		if e != nil {
			return nil, total, fmt.Errorf("physics: Newton failed directly (%v) and with continuation in the rate at stage %d/%d: %w",
				err, s, stages, e)
		}
		cont = cc
	}
	total.Converged = true
	total.Continuation = stages
	return cont, total, nil
}
