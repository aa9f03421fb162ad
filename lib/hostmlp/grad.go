package hostmlp

import (
	"fmt"
	"runtime"
	"sync/atomic"
)

// gradSlices is the number of parts a batch is cut into for the gradient:
// each part accumulates its own partial gradient and the parts are summed in
// a fixed order, so the result does not depend on the number of workers or on
// which worker took which part.
const gradSlices = 8

// Trainer computes gradients of a scalar loss with respect to the parameters
// of an MLP over batches of columns. It keeps its buffers between calls; it is
// not safe for concurrent use.
type Trainer struct {
	m        *MLP
	partials [][]float32 // per slice: every layer's [outPad, inPad1] block, concatenated
	offsets  []int       // start of each layer's block in a partial
	inPad1   []int       // per layer: roundUp(in+1, kernelCols) (column in holds the bias gradient)
	grads    [][]float32 // Layer order: W (out·in), B (out)
	work     []*gradWork // per worker
	losses   [gradSlices]float64
}

// gradWork is one worker's chunk buffers.
type gradWork struct {
	acts [][]float32 // acts[l]: input of layer l, [maxRows, ChunkCols]; acts[L] the output
	dz   [2][]float32
	ht   [][]float32 // per layer: its transposed input with a ones column, [ChunkCols, inPad1]
	pz   []float32   // dz packed in kernel order
}

// NewTrainer returns a Trainer for m (which it updates only through the
// caller: see MLP.Params and Repack).
func (m *MLP) NewTrainer() *Trainer {
	tr := &Trainer{m: m}
	size := 0
	for i := range m.layers {
		p := &m.layers[i]
		ip := roundUp(p.in+1, kernelCols)
		tr.inPad1 = append(tr.inPad1, ip)
		tr.offsets = append(tr.offsets, size)
		size += p.outPad * ip
		tr.grads = append(tr.grads, make([]float32, p.out*p.in), make([]float32, p.out))
		if p.aT == nil && i > 0 {
			p.packT()
		}
	}
	tr.partials = make([][]float32, gradSlices)
	for s := range tr.partials {
		tr.partials[s] = make([]float32, size)
	}
	return tr
}

func (tr *Trainer) newWork() *gradWork {
	m := tr.m
	w := &gradWork{}
	for range len(m.layers) + 1 {
		w.acts = append(w.acts, make([]float32, m.maxRows*chunkLD))
	}
	w.dz = [2][]float32{make([]float32, m.maxRows*chunkLD), make([]float32, m.maxRows*chunkLD)}
	for l, ip := range tr.inPad1 {
		ht := make([]float32, ChunkCols*ip)
		for c := range ChunkCols {
			ht[c*ip+m.layers[l].in] = 1
		}
		w.ht = append(w.ht, ht)
	}
	w.pz = make([]float32, m.maxRows*chunkLD)
	return w
}

// Gradient evaluates the network on n columns and returns the sum of the
// chunks' losses and the gradients (Layer order: W [out, in] then B of each
// layer; valid until the next call). fill writes a chunk's inputs as in
// Forward; lossGrad receives the chunk's outputs (Out() features, row stride
// ld) and must write ∂loss/∂output for the columns [j0, j1) into dOut (same
// layout; the other entries are zero) and return the chunk's loss. Both may
// run concurrently on different chunks.
func (tr *Trainer) Gradient(n, workers int, fill func(j0, j1 int, in []float32, ld int),
	lossGrad func(j0, j1 int, out []float32, dOut []float32, ld int) float64) (float64, [][]float32, error) {
	if n < 1 {
		return 0, nil, fmt.Errorf("hostmlp: gradient over %d columns", n)
	}
	chunks := (n + ChunkCols - 1) / ChunkCols
	slices := min(gradSlices, chunks)
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, slices)
	for len(tr.work) < workers {
		tr.work = append(tr.work, tr.newWork())
	}
	var next atomic.Int64
	run := func(w *gradWork) {
		for {
			s := int(next.Add(1) - 1)
			if s >= slices {
				return
			}
			part := tr.partials[s]
			clear(part)
			tr.losses[s] = 0
			for c := s * chunks / slices; c < (s+1)*chunks/slices; c++ {
				j0 := c * ChunkCols
				j1 := min(j0+ChunkCols, n)
				tr.losses[s] += tr.chunk(w, part, j0, j1, fill, lossGrad)
			}
		}
	}
	parallel(workers, func(w int) { run(tr.work[w]) })
	loss := 0.0
	for s := range slices {
		loss += tr.losses[s]
	}
	tr.reduce(slices, workers)
	return loss, tr.grads, nil
}

// chunk runs the forward and backward pass of one chunk and adds its
// gradient to part.
func (tr *Trainer) chunk(w *gradWork, part []float32, j0, j1 int, fill func(j0, j1 int, in []float32, ld int),
	lossGrad func(j0, j1 int, out []float32, dOut []float32, ld int) float64) float64 {
	m := tr.m
	const ld = chunkLD
	cols := roundUp(j1-j0, kernelCols)
	fill(j0, j1, w.acts[0], ld)
	L := len(m.layers)
	for l := range L {
		m.layers[l].apply(w.acts[l], w.acts[l+1], ld, cols)
	}
	last := &m.layers[L-1]
	dz := w.dz[0]
	clear(dz[:last.outPad*ld])
	loss := lossGrad(j0, j1, w.acts[L], dz, ld)
	for l := L - 1; l >= 0; l-- {
		p := &m.layers[l]
		ip := tr.inPad1[l]
		// Weight and bias gradient: part[o, i] += Σ_c dz[o, c]·[h; 1][i, c].
		h := w.acts[l]
		ht := w.ht[l]                     // its ones column and zero padding were set by newWork
		for i0 := 0; i0 < p.in; i0 += 8 { // 8 × 8 tiles: reads and writes stay within a few lines
			i1 := min(i0+8, p.in)
			for c0 := 0; c0 < cols; c0 += 8 {
				for i := i0; i < i1; i++ {
					src := h[i*ld+c0 : i*ld+c0+8 : i*ld+c0+8]
					base := c0*ip + i
					dst := ht[base : base+7*ip+1]
					dst[0], dst[ip], dst[2*ip], dst[3*ip] = src[0], src[1], src[2], src[3]
					dst[4*ip], dst[5*ip], dst[6*ip], dst[7*ip] = src[4], src[5], src[6], src[7]
				}
			}
		}
		nb := p.outPad / kernelRows
		for blk := range nb {
			pz := w.pz[blk*cols*kernelRows : (blk+1)*cols*kernelRows]
			r0 := dz[blk*kernelRows*ld:][:cols]
			r1 := dz[(blk*kernelRows+1)*ld:][:cols]
			r2 := dz[(blk*kernelRows+2)*ld:][:cols]
			r3 := dz[(blk*kernelRows+3)*ld:][:cols]
			for c := range cols {
				q := pz[c*kernelRows : c*kernelRows+kernelRows]
				q[0], q[1], q[2], q[3] = r0[c], r1[c], r2[c], r3[c]
			}
		}
		// Column blocks outer: one 32-column panel of ht stays in L1 while
		// every block of output rows passes over it.
		for i0 := 0; i0 < ip; i0 += kernelCols {
			for blk := range nb {
				pz := w.pz[blk*cols*kernelRows : (blk+1)*cols*kernelRows]
				dst := part[tr.offsets[l]+blk*kernelRows*ip+i0:]
				kernel(cols, pz, ht[i0:], ip, dst, ip, kop{init: initLoad})
			}
		}
		if l == 0 {
			break
		}
		// Input gradient through the ReLU of the layer below: dz' = (Wᵀ·dz) ⊙ [h > 0].
		next := w.dz[(L-l)%2]
		inPad := roundUp(p.in, kernelRows)
		for j := 0; j < cols; j += kernelCols {
			for ib := range inPad / kernelRows {
				a := p.aT[ib*p.out*kernelRows : (ib+1)*p.out*kernelRows]
				off := ib*kernelRows*ld + j
				kernel(p.out, a, dz[j:], ld, next[off:], ld, kop{init: initZero, mask: h[off:]})
			}
		}
		dz = next
	}
	return loss
}

// reduce sums the partial gradients of the slices, in slice order, into grads.
func (tr *Trainer) reduce(slices, workers int) {
	m := tr.m
	type job struct{ l, o0, o1 int }
	var jobs []job
	for l := range m.layers {
		out := m.layers[l].out
		for o := 0; o < out; o += 32 {
			jobs = append(jobs, job{l, o, min(o+32, out)})
		}
	}
	var next atomic.Int64
	run := func() {
		for {
			k := int(next.Add(1) - 1)
			if k >= len(jobs) {
				return
			}
			jb := jobs[k]
			p := &m.layers[jb.l]
			ip := tr.inPad1[jb.l]
			gw, gb := tr.grads[2*jb.l], tr.grads[2*jb.l+1]
			for o := jb.o0; o < jb.o1; o++ {
				row := gw[o*p.in : (o+1)*p.in]
				base := tr.offsets[jb.l] + o*ip
				copy(row, tr.partials[0][base:base+p.in])
				gb[o] = tr.partials[0][base+p.in]
				for s := 1; s < slices; s++ {
					src := tr.partials[s][base : base+p.in+1]
					for i := range row {
						row[i] += src[i]
					}
					gb[o] += src[p.in]
				}
			}
		}
	}
	parallel(workers, func(int) { run() })
}
