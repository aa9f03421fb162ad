package physics

import (
	"fmt"
	"math"
)

// bandMatrix is an n×n matrix with kl sub- and ku super-diagonals, stored row-major: row i holds columns
// i−kl … i+ku at a[i*w + (j − i + kl)], w = kl+ku+1. With the column-wise node numbering of the structured
// mesh, kl = ku = NY+2, and the LU factors stay inside the band.
//
// With ring > 0 only the last `ring` rows are kept (row i in slot i mod ring): enough to factor row by row
// (ring ≥ kl+1) when the caller consumes each finished row at once (see streamResponse).
type bandMatrix struct {
	n, kl, ku, w int
	ring         int
	a            []float64
}

func newBandMatrix(n, kl, ku int) *bandMatrix {
	w := kl + ku + 1
	return &bandMatrix{n: n, kl: kl, ku: ku, w: w, a: make([]float64, n*w)}
}

// newRingBandMatrix keeps only the last ring rows.
func newRingBandMatrix(n, kl, ku, ring int) *bandMatrix {
	w := kl + ku + 1
	return &bandMatrix{n: n, kl: kl, ku: ku, w: w, ring: ring, a: make([]float64, ring*w)}
}

// rowOff returns the storage offset of row i.
func (m *bandMatrix) rowOff(i int) int {
	if m.ring > 0 {
		return (i % m.ring) * m.w
	}
	return i * m.w
}

// row returns the storage of row i (columns i−kl … i+ku).
func (m *bandMatrix) row(i int) []float64 { o := m.rowOff(i); return m.a[o : o+m.w] }

// idx returns the storage position of entry (i, j), which must lie inside the band.
func (m *bandMatrix) idx(i, j int) int { return m.rowOff(i) + j - i + m.kl }

// factor overwrites m with its LU factors (Doolittle, unit lower L, no pivoting), row by row (left-looking):
// row i receives the updates of the final rows i−kl … i−1, four pivot rows at a time (axpy4), so row i is
// loaded and stored once per four updates. No pivoting: the matrices here (Galerkin advection–diffusion at
// cell Péclet ≲ 1, identity Dirichlet rows, and the Newton Jacobians of the reaction problem) are close to
// diagonally dominant; the tests check the residual of the solves, and a pivot below 1e-13 × its row scale is
// reported as an error instead of producing garbage.
func (m *bandMatrix) factor() error {
	for i := 0; i < m.n; i++ {
		m.factorRow(i)
		if err := m.checkPivot(i); err != nil {
			return err
		}
	}
	return nil
}

func (m *bandMatrix) factorRow(i int) {
	a := m.a
	k := max(0, i-m.kl)
	base := m.rowOff(i) - i + m.kl // position of (i, c) is base + c
	for ; k+3 < i; k += 4 {
		u0, u1, u2, u3 := m.idx(k, k), m.idx(k+1, k+1), m.idx(k+2, k+2), m.idx(k+3, k+3)
		p := base + k
		l0 := a[p] / a[u0]
		a[p] = l0
		a[p+1] -= l0 * a[u0+1]
		a[p+2] -= l0 * a[u0+2]
		a[p+3] -= l0 * a[u0+3]
		l1 := a[p+1] / a[u1]
		a[p+1] = l1
		a[p+2] -= l1 * a[u1+1]
		a[p+3] -= l1 * a[u1+2]
		l2 := a[p+2] / a[u2]
		a[p+2] = l2
		a[p+3] -= l2 * a[u2+1]
		l3 := a[p+3] / a[u3]
		a[p+3] = l3
		// Columns k+4 … k+ku are reached by all four pivot rows.
		end := min(k+m.ku, m.n-1)
		if cnt := end - (k + 4) + 1; cnt > 0 {
			axpy4(a[p+4:p+4+cnt], -l0, -l1, -l2, -l3,
				a[u0+4:u0+4+cnt], a[u1+3:u1+3+cnt], a[u2+2:u2+2+cnt], a[u3+1:u3+1+cnt])
		}
		// Tails: row k+j reaches up to column k+j+ku.
		ls := [4]float64{l0, l1, l2, l3}
		us := [4]int{u0, u1, u2, u3}
		for j := 1; j < 4; j++ {
			for c := k + m.ku + 1; c <= min(k+j+m.ku, m.n-1); c++ {
				a[base+c] -= ls[j] * a[us[j]+c-(k+j)]
			}
		}
	}
	for ; k < i; k++ {
		p := base + k
		uk := m.idx(k, k)
		l := a[p] / a[uk]
		a[p] = l
		cnt := min(m.ku, m.n-1-k)
		dst := a[p+1 : p+1+cnt]
		src := a[uk+1 : uk+1+cnt]
		for t := range dst {
			dst[t] -= l * src[t]
		}
	}
}

func (m *bandMatrix) checkPivot(i int) error {
	row := m.row(i)
	scale := 0.0
	for _, v := range row[m.kl:] {
		scale = max(scale, math.Abs(v))
	}
	p := row[m.kl]
	if !(math.Abs(p) > 1e-13*scale) || math.IsInf(p, 0) {
		return fmt.Errorf("physics: LU without pivoting met a tiny or invalid pivot %g at row %d (row scale %g): "+
			"the matrix is too far from diagonally dominant (mesh too coarse for the Péclet number?)", p, i, scale)
	}
	return nil
}

// solve overwrites b (length n) with A⁻¹b using the LU factors.
func (m *bandMatrix) solve(b []float64) {
	n := m.n
	for i := 1; i < n; i++ {
		k0 := max(0, i-m.kl)
		row := m.a[m.idx(i, k0):m.idx(i, i)]
		xs := b[k0:i]
		s := b[i]
		for t, l := range row {
			s -= l * xs[t]
		}
		b[i] = s
	}
	for i := n - 1; i >= 0; i-- {
		d := m.idx(i, i)
		row := m.a[d+1 : d+1+min(m.ku, n-1-i)]
		xs := b[i+1 : i+1+len(row)]
		s := b[i]
		for t, u := range row {
			s -= u * xs[t]
		}
		b[i] = s / m.a[d]
	}
}

// solve32 overwrites b (n rows × rhsPad right-hand sides, row-major) with A⁻¹b using the LU factors.
func (m *bandMatrix) solve32(b []float64) {
	n := m.n
	for i := 1; i < n; i++ {
		k0 := max(0, i-m.kl)
		acc := (*[rhsPad]float64)(b[i*rhsPad : (i+1)*rhsPad])
		comb32(acc, m.a[m.idx(i, k0):m.idx(i, i)], b[k0*rhsPad:i*rhsPad])
	}
	for i := n - 1; i >= 0; i-- {
		d := m.idx(i, i)
		kend := min(n-1, i+m.ku)
		acc := (*[rhsPad]float64)(b[i*rhsPad : (i+1)*rhsPad])
		comb32(acc, m.a[d+1:d+1+(kend-i)], b[(i+1)*rhsPad:(kend+1)*rhsPad])
		inv := 1 / m.a[d]
		for r := range acc {
			acc[r] *= inv
		}
	}
}
