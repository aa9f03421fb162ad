package physics

import (
	"fmt"
	"math"
)

// Mesh is the structured P1 triangulation of the channel (0, Length) × (0, Height) on an NX × NY grid of cells,
// each cell split along its diagonal from lower-left to upper-right. Node (i, j) at (i·HX, j·HY) has index
// i·(NY+1) + j (column-wise numbering, so the matrix bandwidth is NY+2).
type Mesh struct {
	NX, NY int
	HX, HY float64
}

// NewMesh returns the nx × ny mesh of the channel.
func NewMesh(nx, ny int) (Mesh, error) {
	if nx < 1 || ny < 1 {
		return Mesh{}, fmt.Errorf("physics: mesh size must be positive, got nx=%d ny=%d", nx, ny)
	}
	return Mesh{NX: nx, NY: ny, HX: Length / float64(nx), HY: Height / float64(ny)}, nil
}

// NumNodes is the number of mesh nodes, (NX+1)(NY+1).
func (m Mesh) NumNodes() int { return (m.NX + 1) * (m.NY + 1) }

// NumTriangles is the number of triangles, 2·NX·NY.
func (m Mesh) NumTriangles() int { return 2 * m.NX * m.NY }

// Node returns the index of node (i, j).
func (m Mesh) Node(i, j int) int { return i*(m.NY+1) + j }

// Coord returns the coordinates of node (i, j).
func (m Mesh) Coord(i, j int) (x, y float64) { return float64(i) * m.HX, float64(j) * m.HY }

// bandwidth is the half bandwidth of the assembled matrices (neighbour (i±1, j±1) is NY+2 away).
func (m Mesh) bandwidth() int { return m.NY + 2 }

// CellPeclet returns the cell Péclet number u_max·h/(2κ) with h the larger cell side (the Galerkin advection
// term needs no stabilisation when it is below 1).
func (m Mesh) CellPeclet(umax, kappa float64) float64 {
	return math.Abs(umax) * max(m.HX, m.HY) / (2 * kappa)
}

// interpWeights returns the three nodes and P1 weights of the point (x, y) (clamped into the domain).
func (m Mesh) interpWeights(x, y float64) (nodes [3]int, w [3]float64) {
	fx, fy := x/m.HX, y/m.HY
	i := min(max(int(math.Floor(fx)), 0), m.NX-1)
	j := min(max(int(math.Floor(fy)), 0), m.NY-1)
	s := min(max(fx-float64(i), 0), 1)
	t := min(max(fy-float64(j), 0), 1)
	a, b, c, d := m.Node(i, j), m.Node(i+1, j), m.Node(i+1, j+1), m.Node(i, j+1)
	if s >= t { // lower-right triangle (a, b, c): φa = 1−s, φb = s−t, φc = t
		return [3]int{a, b, c}, [3]float64{1 - s, s - t, t}
	}
	// upper-left triangle (a, c, d): φa = 1−t, φc = s, φd = t−s
	return [3]int{a, c, d}, [3]float64{1 - t, s, t - s}
}

// Interpolate returns the P1 interpolant of the nodal field c at (x, y).
func (m Mesh) Interpolate(c []float64, x, y float64) float64 {
	nodes, w := m.interpWeights(x, y)
	return w[0]*c[nodes[0]] + w[1]*c[nodes[1]] + w[2]*c[nodes[2]]
}

// SensorPositions returns the 30 sensor coordinates: x = 0.5k (k = 1..15) on y = 0.5 (bottom row, left to
// right), then on y = Height − 0.5 (top row).
func SensorPositions() (xs, ys [NumSensors]float64) {
	for k := 0; k < 15; k++ {
		xs[k], ys[k] = 0.5*float64(k+1), 0.5
		xs[15+k], ys[15+k] = 0.5*float64(k+1), Height-0.5
	}
	return xs, ys
}

// Sensors writes the 30 sensor values of the nodal field c into out (P1 interpolation).
func (m Mesh) Sensors(c []float64, out []float64) {
	xs, ys := SensorPositions()
	for s := range NumSensors {
		out[s] = m.Interpolate(c, xs[s], ys[s])
	}
}

// SegmentBounds returns the x-interval of flux segment k (0-based within a wall, 0 ≤ k < 15).
func SegmentBounds(k int) (x0, x1 float64) {
	d := FluxEnd / SegmentsPerWall
	return float64(k) * d, float64(k+1) * d
}

// addSegmentLoad adds ∫_segment q·φ_node ds for segment seg (0..29; bottom then top) with flux value q to the
// load vector b (exact integration of the hat functions over the part of each wall edge inside the segment).
func (m Mesh) addSegmentLoad(b []float64, seg int, q float64) {
	if q == 0 {
		return
	}
	j := 0
	if seg >= SegmentsPerWall {
		j = m.NY
	}
	x0, x1 := SegmentBounds(seg % SegmentsPerWall)
	i0 := max(int(math.Floor(x0/m.HX)), 0)
	for i := i0; i < m.NX; i++ {
		xl := float64(i) * m.HX
		xr := float64(i+1) * m.HX
		if xl >= x1 {
			break
		}
		a, c := max(xl, x0), min(xr, x1)
		if c <= a {
			continue
		}
		// ∫_a^c (x−xl)/hx dx and ∫_a^c (xr−x)/hx dx
		right := ((c-xl)*(c-xl) - (a-xl)*(a-xl)) / (2 * m.HX)
		left := (c - a) - right
		b[m.Node(i, j)] += q * left
		b[m.Node(i+1, j)] += q * right
	}
}
