package physics

import "fmt"

// Balance is the global mass balance of a solution: Influx + Reaction = Outflow + DiffusiveOut, exactly for the
// discrete Galerkin solution (test function v ≡ 1), up to the solver tolerance.
type Balance struct {
	// Influx is ∫ q over the flux segments of both walls.
	Influx float64 `json:"influx"`
	// Outflow is the advective outflow ∫_{x=L} u c dy.
	Outflow float64 `json:"outflow"`
	// DiffusiveOut is the diffusive flux out through x = 0, ∫_{x=0} κ ∂c/∂x dy, computed variationally from the
	// weak-form residual on the Dirichlet nodes.
	DiffusiveOut float64 `json:"diffusive_out"`
	// Reaction is the reaction integral ∫ r c(1 − c/K) (0 for the linear problem).
	Reaction float64 `json:"reaction"`
}

// Imbalance returns (Influx + Reaction − Outflow − DiffusiveOut) relative to Influx + |Reaction|.
func (b Balance) Imbalance() float64 {
	return (b.Influx + b.Reaction - b.Outflow - b.DiffusiveOut) / (b.Influx + max(b.Reaction, -b.Reaction))
}

// BalanceOf computes the global balance of the solution sol of problem cfg with fluxes q.
func BalanceOf(cfg Config, q []float64, sol *Solution) (Balance, error) {
	if err := cfg.Validate(); err != nil {
		return Balance{}, err
	}
	if len(q) != NumSegments {
		return Balance{}, fmt.Errorf("physics: flux has %d values, want %d", len(q), NumSegments)
	}
	if sol.Mesh.NX != cfg.NX || sol.Mesh.NY != cfg.NY || len(sol.C) != sol.Mesh.NumNodes() {
		return Balance{}, fmt.Errorf("physics: solution mesh %dx%d does not match config %dx%d", sol.Mesh.NX, sol.Mesh.NY, cfg.NX, cfg.NY)
	}
	rate := cfg.Rate
	if cfg.Problem == ProblemLinear {
		rate = 0
	}
	m := sol.Mesh
	d := newDiscretization(m, cfg.Kappa, cfg.UMax, rate, cfg.K)
	var bal Balance
	for k, v := range q {
		x0, x1 := SegmentBounds(k % SegmentsPerWall)
		bal.Influx += v * (x1 - x0)
	}
	b, _ := d.load(loadSpec{Q: q})
	f := make([]float64, len(sol.C))
	d.applyStencil(d.lin, sol.C, f)
	bal.Reaction = d.addReaction(sol.C, f, nil)
	for j := 0; j <= m.NY; j++ {
		r := m.Node(0, j)
		bal.DiffusiveOut -= f[r] - b[r]
	}
	for j := 0; j < m.NY; j++ {
		c0, c1 := sol.C[m.Node(m.NX, j)], sol.C[m.Node(m.NX, j+1)]
		y0 := float64(j) * m.HY
		for g, s := range gauss3X {
			bal.Outflow += gauss3W[g] * m.HY * d.velocity(y0+s*m.HY) * ((1-s)*c0 + s*c1)
		}
	}
	return bal, nil
}
