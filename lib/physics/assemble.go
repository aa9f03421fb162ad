package physics

import "math"

// Degree-4, 6-point triangle quadrature (Dunavant): barycentric points and weights (weights sum to 1, multiply
// by the area). Exact for the cubic integrands of the advection term (φ_p·u(y)·∂φ_q, u quadratic) and of the
// reaction term (c²φ_p with c in P1).
var (
	quadBary [6][3]float64
	quadW    [6]float64
)

func init() {
	const a1, w1 = 0.445948490915965, 0.223381589678011
	const a2, w2 = 0.091576213509771, 0.109951743655322
	for k, p := range [][3]float64{{a1, a1, 1 - 2*a1}, {a2, a2, 1 - 2*a2}} {
		w := []float64{w1, w2}[k]
		for r := range 3 {
			quadBary[3*k+r] = [3]float64{p[r], p[(r+1)%3], p[(r+2)%3]}
			quadW[3*k+r] = w
		}
	}
}

// 3-point Gauss–Legendre rule on [0, 1] (exact to degree 5), for boundary integrals.
var (
	gauss3X = [3]float64{0.5 - 0.5*0.7745966692414834, 0.5, 0.5 + 0.5*0.7745966692414834}
	gauss3W = [3]float64{5.0 / 18, 8.0 / 18, 5.0 / 18}
)

// stencilSize is the number of couplings per node: offsets −(NY+2), −(NY+1), −1, 0, +1, NY+1, NY+2.
const stencilSize = 7

// discretization holds the P1 Galerkin operator of u·∇c − κΔc (weak form ∫ u·∇c v + κ∇c·∇v) on a mesh, stored
// as a 7-point stencil per node (row), before boundary conditions; the reaction term is added per Newton step.
type discretization struct {
	mesh                    Mesh
	kappa, umax, rate, capK float64
	offs                    [stencilSize]int
	lin                     []float64 // n × 7: rows of the advection–diffusion operator
	lowerGrad, upperGrad    [3][2]float64
	area                    float64
}

// triangle types: lower-right (a, b, c) and upper-left (a, c, d) of cell (i, j), a = (i, j), b = (i+1, j),
// c = (i+1, j+1), d = (i, j+1).
func (d *discretization) triNodes(i, j int, upper bool) [3]int {
	m := d.mesh
	if upper {
		return [3]int{m.Node(i, j), m.Node(i+1, j+1), m.Node(i, j+1)}
	}
	return [3]int{m.Node(i, j), m.Node(i+1, j), m.Node(i+1, j+1)}
}

// quadXY returns the position of quadrature point g of triangle (i, j, upper).
func (d *discretization) quadXY(i, j int, upper bool, g int) (x, y float64) {
	m := d.mesh
	l := quadBary[g]
	xi, yj := float64(i)*m.HX, float64(j)*m.HY
	if upper { // a, c, d
		return xi + m.HX*l[1], yj + m.HY*(l[1]+l[2])
	}
	return xi + m.HX*(l[1]+l[2]), yj + m.HY*l[2] // a, b, c
}

// velocity returns the x-velocity u_max·4y(H−y)/H² (theory eq. 86).
func (d *discretization) velocity(y float64) float64 {
	return d.umax * 4 * y * (Height - y) / (Height * Height)
}

func newDiscretization(mesh Mesh, kappa, umax, rate, capK float64) *discretization {
	ny := mesh.NY
	d := &discretization{mesh: mesh, kappa: kappa, umax: umax, rate: rate, capK: capK,
		offs: [stencilSize]int{-(ny + 2), -(ny + 1), -1, 0, 1, ny + 1, ny + 2}}
	hx, hy := mesh.HX, mesh.HY
	d.area = hx * hy / 2
	d.lowerGrad = [3][2]float64{{-1 / hx, 0}, {1 / hx, -1 / hy}, {0, 1 / hy}}
	d.upperGrad = [3][2]float64{{0, -1 / hy}, {1 / hx, 0}, {-1 / hx, 1 / hy}}
	n := mesh.NumNodes()
	d.lin = make([]float64, n*stencilSize)
	for j := 0; j < mesh.NY; j++ {
		var loc [2][3][3]float64 // local matrices of the lower and upper triangle of row j (same for every i)
		for t, upper := range []bool{false, true} {
			grad := d.lowerGrad
			if upper {
				grad = d.upperGrad
			}
			for p := range 3 {
				for q := range 3 {
					loc[t][p][q] = kappa * d.area * (grad[p][0]*grad[q][0] + grad[p][1]*grad[q][1])
				}
			}
			for g := range 6 {
				_, y := d.quadXY(0, j, upper, g)
				ug := d.velocity(y) * quadW[g] * d.area
				for p := range 3 {
					for q := range 3 {
						loc[t][p][q] += ug * quadBary[g][p] * grad[q][0]
					}
				}
			}
		}
		for i := 0; i < mesh.NX; i++ {
			for t, upper := range []bool{false, true} {
				nodes := d.triNodes(i, j, upper)
				for p := range 3 {
					for q := range 3 {
						d.lin[nodes[p]*stencilSize+d.slot(nodes[q]-nodes[p])] += loc[t][p][q]
					}
				}
			}
		}
	}
	return d
}

// slot maps a node-index difference to its stencil position.
func (d *discretization) slot(delta int) int {
	ny := d.mesh.NY
	switch delta {
	case -(ny + 2):
		return 0
	case -(ny + 1):
		return 1
	case -1:
		return 2
	case 0:
		return 3
	case 1:
		return 4
	case ny + 1:
		return 5
	case ny + 2:
		return 6
	}
	panic("physics: node difference outside the stencil")
}

// applyStencil sets out = S·c for the stencil matrix s (all rows, boundary conditions not applied).
func (d *discretization) applyStencil(s, c, out []float64) {
	n := len(c)
	for r := range n {
		row := s[r*stencilSize : (r+1)*stencilSize]
		v := 0.0
		for t, off := range d.offs {
			if k := r + off; row[t] != 0 && k >= 0 && k < n {
				v += row[t] * c[k]
			}
		}
		out[r] = v
	}
}

// addReaction subtracts the logistic reaction ∫ r c(1 − c/K) φ_p from res (if non-nil) and its Jacobian
// ∫ r (1 − 2c/K) φ_p φ_q from the stencil jac (if non-nil), for the nodal field c (theory eq. 104).
// It returns the reaction integral ∫ r c(1 − c/K) over the domain.
func (d *discretization) addReaction(c, res, jac []float64) float64 {
	if d.rate == 0 {
		return 0
	}
	m := d.mesh
	total := 0.0
	wa := d.area * d.rate
	for i := 0; i < m.NX; i++ {
		for j := 0; j < m.NY; j++ {
			for _, upper := range []bool{false, true} {
				nodes := d.triNodes(i, j, upper)
				c0, c1, c2 := c[nodes[0]], c[nodes[1]], c[nodes[2]]
				var rp [3]float64
				var jp [3][3]float64
				for g := range 6 {
					l := quadBary[g]
					cg := l[0]*c0 + l[1]*c1 + l[2]*c2
					w := quadW[g] * wa
					f := w * cg * (1 - cg/d.capK)
					total += f
					df := w * (1 - 2*cg/d.capK)
					for p := range 3 {
						rp[p] += f * l[p]
						if jac != nil {
							for q := range 3 {
								jp[p][q] += df * l[p] * l[q]
							}
						}
					}
				}
				for p := range 3 {
					if res != nil {
						res[nodes[p]] -= rp[p]
					}
					if jac != nil {
						for q := range 3 {
							jac[nodes[p]*stencilSize+d.slot(nodes[q]-nodes[p])] -= jp[p][q]
						}
					}
				}
			}
		}
	}
	return total
}

// fillBand copies the stencil s into the band matrix, replacing the Dirichlet rows (nodes on x = 0) by identity
// rows.
func (d *discretization) fillBand(bm *bandMatrix, s []float64) {
	for r := range d.mesh.NumNodes() {
		d.fillBandRow(bm, s, r)
	}
}

// fillBandRow sets row r of the band matrix from the stencil (identity for a Dirichlet row).
func (d *discretization) fillBandRow(bm *bandMatrix, s []float64, r int) {
	n := d.mesh.NumNodes()
	clear(bm.row(r))
	if r < d.mesh.NY+1 {
		bm.a[bm.idx(r, r)] = 1
		return
	}
	row := s[r*stencilSize : (r+1)*stencilSize]
	for t, off := range d.offs {
		if k := r + off; row[t] != 0 && k >= 0 && k < n {
			bm.a[bm.idx(r, k)] = row[t]
		}
	}
}

// loadSpec describes the right-hand side data. The flux-inversion problem uses only Q (30 segment fluxes,
// κ ∂c/∂n = q on the walls, zero Dirichlet data at x = 0); Source, Neumann and Dirichlet are hooks for
// manufactured-solution tests.
type loadSpec struct {
	Q         []float64                  // segment fluxes (nil = none)
	Source    func(x, y float64) float64 // volume source f (∫ f φ), nil = 0
	Neumann   func(x, y float64) float64 // κ ∂c/∂n on y = 0, y = H and x = L, nil = 0
	Dirichlet func(y float64) float64    // c on x = 0, nil = 0
}

// load returns the weak-form load vector b (all rows) and the Dirichlet values g on the x = 0 nodes.
func (d *discretization) load(ls loadSpec) (b, g []float64) {
	m := d.mesh
	b = make([]float64, m.NumNodes())
	g = make([]float64, m.NY+1)
	for s, q := range ls.Q {
		m.addSegmentLoad(b, s, q)
	}
	if ls.Source != nil {
		for i := 0; i < m.NX; i++ {
			for j := 0; j < m.NY; j++ {
				for _, upper := range []bool{false, true} {
					nodes := d.triNodes(i, j, upper)
					for gq := range 6 {
						x, y := d.quadXY(i, j, upper, gq)
						f := ls.Source(x, y) * quadW[gq] * d.area
						for p := range 3 {
							b[nodes[p]] += f * quadBary[gq][p]
						}
					}
				}
			}
		}
	}
	if ls.Neumann != nil {
		edge := func(n0, n1 int, x0, y0, x1, y1 float64) {
			length := math.Hypot(x1-x0, y1-y0)
			for k, s := range gauss3X {
				v := ls.Neumann(x0+s*(x1-x0), y0+s*(y1-y0)) * gauss3W[k] * length
				b[n0] += v * (1 - s)
				b[n1] += v * s
			}
		}
		for i := 0; i < m.NX; i++ {
			xa, xb := float64(i)*m.HX, float64(i+1)*m.HX
			edge(m.Node(i, 0), m.Node(i+1, 0), xa, 0, xb, 0)
			edge(m.Node(i, m.NY), m.Node(i+1, m.NY), xa, Height, xb, Height)
		}
		for j := 0; j < m.NY; j++ {
			edge(m.Node(m.NX, j), m.Node(m.NX, j+1), Length, float64(j)*m.HY, Length, float64(j+1)*m.HY)
		}
	}
	if ls.Dirichlet != nil {
		for j := range g {
			g[j] = ls.Dirichlet(float64(j) * m.HY)
		}
	}
	return b, g
}
