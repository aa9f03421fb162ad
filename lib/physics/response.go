package physics

// streamResponse computes the response matrix G = S A⁻¹ B (S: 30 sensor interpolation rows, B: 30 unit segment
// loads) in one pass over the rows of A, keeping only a window of kl+1 rows (O(NY²) memory instead of the
// O(NX·NY²) of a stored band LU). With A = LU:
//
//	Y = L⁻¹B      forward recurrence  y_i = b_i − Σ_{k<i} L[i,k] y_k
//	W = U⁻ᵀSᵀ     forward recurrence  w_i = (s_i − Σ_{k<i} U[k,i] w_k) / U[i,i]
//	G = Wᵀ Y = Σ_i w_i ⊗ y_i
//
// Both recurrences only need rows i−kl … i−1, so each row of L and U is used as soon as it is final and then
// dropped. The flops equal one factorisation plus two 30-column triangular solves.
func (d *discretization) streamResponse() ([]float64, error) {
	mesh := d.mesh
	n := mesh.NumNodes()
	kl := mesh.bandwidth()
	ring := kl + 1
	bm := newRingBandMatrix(n, kl, kl, ring)
	y := make([]float64, ring*rhsPad) // ring of Y rows
	w := make([]float64, ring*rhsPad) // ring of W rows
	coef := make([]float64, kl)
	var gacc [NumSensors * rhsPad]float64

	// Right-hand sides: column s of B is the load of segment s; row i of Sᵀ holds the interpolation weights of
	// node i for the sensors that use it.
	b := make([]float64, n*rhsPad) // sparse in practice (wall nodes only), but cheap: n×32
	col := make([]float64, n)
	for s := range NumSegments {
		clear(col)
		mesh.addSegmentLoad(col, s, 1)
		for r := mesh.NY + 1; r < n; r++ {
			b[r*rhsPad+s] = col[r]
		}
	}
	st := make(map[int][]sensorWeight)
	xs, ys := SensorPositions()
	for s := range NumSensors {
		nodes, wt := mesh.interpWeights(xs[s], ys[s])
		for t := range 3 {
			if wt[t] != 0 {
				st[nodes[t]] = append(st[nodes[t]], sensorWeight{s, wt[t]})
			}
		}
	}

	slot := func(buf []float64, k int) []float64 { o := (k % ring) * rhsPad; return buf[o : o+rhsPad] }
	// combine subtracts Σ_t c[t]·buf-row(k0+t) from acc, in at most two contiguous pieces of the ring.
	combine := func(acc *[rhsPad]float64, c []float64, buf []float64, k0 int) {
		for len(c) > 0 {
			s0 := k0 % ring
			cnt := min(len(c), ring-s0)
			comb32(acc, c[:cnt], buf[s0*rhsPad:(s0+cnt)*rhsPad])
			c, k0 = c[cnt:], k0+cnt
		}
	}
	for i := range n {
		d.fillBandRow(bm, d.lin, i)
		bm.factorRow(i)
		if err := bm.checkPivot(i); err != nil {
			return nil, err
		}
		k0 := max(0, i-kl)
		// y_i
		yi := (*[rhsPad]float64)(slot(y, i))
		copy(yi[:], b[i*rhsPad:(i+1)*rhsPad])
		combine(yi, bm.a[bm.idx(i, k0):bm.idx(i, k0)+(i-k0)], y, k0)
		// w_i
		wi := (*[rhsPad]float64)(slot(w, i))
		clear(wi[:])
		for _, sw := range st[i] {
			wi[sw.sensor] = sw.weight
		}
		c := coef[:i-k0]
		for t := range c {
			c[t] = bm.a[bm.idx(k0+t, i)]
		}
		combine(wi, c, w, k0)
		inv := 1 / bm.a[bm.idx(i, i)]
		for s := range wi {
			wi[s] *= inv
		}
		// G += w_i ⊗ y_i
		for s := range NumSensors {
			if ws := wi[s]; ws != 0 {
				g := gacc[s*rhsPad : (s+1)*rhsPad]
				for k := range NumSegments {
					g[k] += ws * yi[k]
				}
			}
		}
	}
	g := make([]float64, NumSensors*NumSegments)
	for s := range NumSensors {
		copy(g[s*NumSegments:(s+1)*NumSegments], gacc[s*rhsPad:s*rhsPad+NumSegments])
	}
	return g, nil
}

type sensorWeight struct {
	sensor int
	weight float64
}
