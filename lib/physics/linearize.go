package physics

import (
	"fmt"
	"math"
)

// Linearization is the nonlinear model linearised at a flux q0 (theory §6.7,
// eq. 104): the solution c0 = c(q0), its sensor readings, the factorised
// Jacobian J(c0) and the tangent ∂H/∂q (the 30 × 30 sensitivity of the
// readings to the fluxes at q0). Its Readings solve the nonlinear problem for
// fluxes near q0 by chord iterations with the frozen J(c0), which costs one
// banded back-substitution and one residual per iteration instead of a
// factorisation: this is what makes MCMC with the nonlinear likelihood
// affordable (each draw of the reference sampler is a forward solve).
// A Linearization is read-only after construction and safe for concurrent
// use; it is a SensorModel.
type Linearization struct {
	m        *NonlinearModel
	q0       []float64
	c0       []float64
	readings []float64
	tangent  []float64
	jac      *bandMatrix
}

// Linearize solves the problem for q0 by Newton and factorises the Jacobian
// at the solution.
func (m *NonlinearModel) Linearize(q0 []float64) (*Linearization, error) {
	if err := checkFlux(q0, make([]float64, NumSensors)); err != nil {
		return nil, err
	}
	sol, err := m.Solve(q0)
	if err != nil {
		return nil, err
	}
	d := *m.base
	n := m.mesh.NumNodes()
	jac := make([]float64, len(d.lin))
	copy(jac, d.lin)
	d.addReaction(sol.C, nil, jac)
	bm := newBandMatrix(n, m.mesh.bandwidth(), m.mesh.bandwidth())
	d.fillBand(bm, jac)
	if err := bm.factor(); err != nil {
		return nil, fmt.Errorf("physics: Jacobian at the linearisation point: %w", err)
	}
	l := &Linearization{m: m, q0: append([]float64(nil), q0...), c0: sol.C, jac: bm,
		readings: make([]float64, NumSensors)}
	m.mesh.Sensors(sol.C, l.readings)

	// Tangent: J ∂c/∂q_k = l_k (the load of unit flux on segment k; zero on the Dirichlet rows), then the sensors.
	rhs := make([]float64, n*rhsPad)
	col := make([]float64, n)
	for s := range NumSegments {
		clear(col)
		m.mesh.addSegmentLoad(col, s, 1)
		for r := m.mesh.NY + 1; r < n; r++ {
			rhs[r*rhsPad+s] = col[r]
		}
	}
	bm.solve32(rhs)
	l.tangent = make([]float64, NumSensors*NumSegments)
	field := make([]float64, n)
	out := make([]float64, NumSensors)
	for s := range NumSegments {
		for r := range n {
			field[r] = rhs[r*rhsPad+s]
		}
		m.mesh.Sensors(field, out)
		for i := range NumSensors {
			l.tangent[i*NumSegments+s] = out[i]
		}
	}
	return l, nil
}

// Flux returns the linearisation point q0 (a copy).
func (l *Linearization) Flux() []float64 { return append([]float64(nil), l.q0...) }

// Readings0 returns the sensor readings H(q0) (a copy).
func (l *Linearization) Readings0() []float64 { return append([]float64(nil), l.readings...) }

// Tangent returns ∂H/∂q at q0, row-major NumSensors × NumSegments (a copy):
// H(q) ≈ H(q0) + Tangent·(q − q0).
func (l *Linearization) Tangent() []float64 { return append([]float64(nil), l.tangent...) }

// ChordMaxIter bounds the chord iterations of Linearization.Readings before
// it falls back to Newton.
const ChordMaxIter = 40

// Readings writes the sensor readings of flux q into out (ReadingsIter
// without the count): a SensorModel equal to the NonlinearModel's to its
// Newton tolerance, several times faster for fluxes of the prior's range.
func (l *Linearization) Readings(q, out []float64) error {
	_, err := l.ReadingsIter(q, out)
	return err
}

// Describe returns the parameters of the model (the NonlinearModel's).
func (l *Linearization) Describe() map[string]any { return l.m.Describe() }

// ReadingsIter solves the nonlinear problem for q by chord iterations
// c ← c − J(c0)⁻¹ F(c) from c0, stopping with the model's Newton tolerance
// (‖Δc‖∞ ≤ tol·max(1, ‖c‖∞)), and writes the 30 sensor values into out. If
// the iterations do not contract (q far from q0) it falls back to Newton
// from c0. It returns the number of chord iterations (0 after a fallback:
// then Newton's own count is not reported).
func (l *Linearization) ReadingsIter(q, out []float64) (int, error) {
	if err := checkFlux(q, out); err != nil {
		return 0, err
	}
	d := *l.m.base
	n := l.m.mesh.NumNodes()
	b, g := d.load(loadSpec{Q: q})
	c := append([]float64(nil), l.c0...)
	copy(c, g)
	f := make([]float64, n)
	tol := l.m.cfg.newtonTol()
	prev := math.Inf(1)
	for it := 1; it <= ChordMaxIter; it++ {
		d.residual(c, b, f)
		for r := range n {
			f[r] = -f[r]
		}
		for r := range g {
			f[r] = g[r] - c[r]
		}
		l.jac.solve(f)
		upd, cmax := 0.0, 0.0
		for r := range n {
			c[r] += f[r]
			upd = max(upd, math.Abs(f[r]))
			cmax = max(cmax, math.Abs(c[r]))
		}
		if math.IsNaN(upd) || upd > 0.9*prev && it > 2 {
			break // not contracting: Newton instead
		}
		prev = upd
		if upd <= tol*max(1, cmax) {
			l.m.mesh.Sensors(c, out)
			return it, nil
		}
	}
	sol, _, err := d.solveNonlinear(loadSpec{Q: q}, tol, l.m.cfg.newtonMaxIter(), l.c0)
	if err != nil {
		return 0, err
	}
	l.m.mesh.Sensors(sol, out)
	return 0, nil
}

var _ SensorModel = (*Linearization)(nil)
