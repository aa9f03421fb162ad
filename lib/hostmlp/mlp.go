package hostmlp

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// ChunkCols is the number of columns (batch rows) one worker carries through
// the network at a time; a multiple of the kernel's 32 columns.
const ChunkCols = 128

// chunkLD is the row stride of the chunk buffers. (A stride padded by one
// cache line, against L1 set conflicts, measured the same.)
const chunkLD = ChunkCols

const (
	kernelRows = 4  // output rows per kernel call
	kernelCols = 32 // columns per kernel call (two 16-float vectors)
)

// Layer is one affine layer y = W·x + b with W stored [Out, In] row-major
// (PyTorch's nn.Linear layout).
type Layer struct {
	W       []float32
	B       []float32
	In, Out int
}

// packedLayer holds a layer's parameters (w [out, in] and b, owned) and W
// in kernel order: for each block of kernelRows output rows, the In columns of
// those rows interleaved ([In][kernelRows]), rows past Out padded with zeros.
// aT, built on the first gradient, is Wᵀ in the same order (blocks of
// kernelRows input rows over the Out columns) for the backward pass.
type packedLayer struct {
	in, out, outPad int
	w, b            []float32
	a               []float32 // outPad/kernelRows blocks of in·kernelRows values
	bias            []float32 // outPad values
	aT              []float32 // inPad4/kernelRows blocks of out·kernelRows values (nil until needed)
	relu            bool
}

// MLP is a packed network: ReLU after every layer but the last. Forward may
// be called concurrently; Params, Repack and Trainer.Gradient may not run
// while it does.
type MLP struct {
	layers  []packedLayer
	maxRows int // largest outPad (and input) over the layers: buffer height
}

// New copies and packs the layers (the caller may reuse its slices). Each
// layer's In must equal the previous layer's Out, and every value must be
// finite.
func New(layers []Layer) (*MLP, error) {
	if len(layers) == 0 {
		return nil, fmt.Errorf("hostmlp: no layers")
	}
	m := &MLP{}
	for l, ly := range layers {
		switch {
		case ly.In < 1 || ly.Out < 1:
			return nil, fmt.Errorf("hostmlp: layer %d has shape [%d, %d]", l, ly.Out, ly.In)
		case len(ly.W) != ly.In*ly.Out:
			return nil, fmt.Errorf("hostmlp: layer %d: len(W) = %d, want %d·%d", l, len(ly.W), ly.Out, ly.In)
		case len(ly.B) != ly.Out:
			return nil, fmt.Errorf("hostmlp: layer %d: len(B) = %d, want %d", l, len(ly.B), ly.Out)
		case l > 0 && ly.In != layers[l-1].Out:
			return nil, fmt.Errorf("hostmlp: layer %d has %d inputs, layer %d has %d outputs", l, ly.In, l-1, layers[l-1].Out)
		}
		for i, v := range ly.W {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("hostmlp: layer %d: weight %d is %v", l, i, v)
			}
		}
		for i, v := range ly.B {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("hostmlp: layer %d: bias %d is %v", l, i, v)
			}
		}
		outPad := roundUp(ly.Out, kernelRows)
		p := packedLayer{in: ly.In, out: ly.Out, outPad: outPad, relu: l < len(layers)-1,
			w: append([]float32(nil), ly.W...), b: append([]float32(nil), ly.B...),
			a: make([]float32, outPad*ly.In), bias: make([]float32, outPad)}
		m.layers = append(m.layers, p)
		m.maxRows = max(m.maxRows, outPad, roundUp(ly.In, kernelRows))
	}
	m.Repack()
	return m, nil
}

func roundUp(n, k int) int { return (n + k - 1) / k * k }

// Params returns the network's own parameter slices in Layer order (W of
// layer 0, B of layer 0, W of layer 1, …): an optimiser updates them in place
// and then calls Repack.
func (m *MLP) Params() [][]float32 {
	out := make([][]float32, 0, 2*len(m.layers))
	for i := range m.layers {
		out = append(out, m.layers[i].w, m.layers[i].b)
	}
	return out
}

// Repack refreshes the packed copies from the parameters (after Params were
// changed).
func (m *MLP) Repack() {
	var wg sync.WaitGroup
	for i := range m.layers {
		wg.Go(func() { m.layers[i].repack() })
	}
	wg.Wait()
}

// repack refreshes the layer's packed copies.
func (p *packedLayer) repack() {
	copy(p.bias, p.b)
	for blk := range p.outPad / kernelRows {
		dst := p.a[blk*p.in*kernelRows:]
		for r := range kernelRows {
			o := blk*kernelRows + r
			if o >= p.out {
				continue
			}
			for k, v := range p.w[o*p.in : (o+1)*p.in] {
				dst[k*kernelRows+r] = v
			}
		}
	}
	if p.aT != nil {
		p.packT()
	}
}

// packT builds aT: block ib of kernelRows input rows holds, for every output
// o < out, W[o, ib·4 + r] at o·kernelRows + r (rows past In zero).
func (p *packedLayer) packT() {
	inPad := roundUp(p.in, kernelRows)
	if p.aT == nil {
		p.aT = make([]float32, inPad*p.out)
	}
	for o := range p.out {
		row := p.w[o*p.in : (o+1)*p.in]
		for i, v := range row {
			p.aT[(i/kernelRows)*p.out*kernelRows+o*kernelRows+i%kernelRows] = v
		}
	}
}

// In is the input dimension of the network; Out its output dimension.
func (m *MLP) In() int { return m.layers[0].in }

// Out is the output dimension of the network.
func (m *MLP) Out() int { return m.layers[len(m.layers)-1].out }

// Forward evaluates the network on n columns. For each chunk of columns
// [j0, j1) a worker calls fill(j0, j1, in, ld), which must write the inputs
// feature-major: in[f·ld + (j − j0)] for feature f < In() and j in [j0, j1);
// after the last layer it calls emit(j0, j1, out, ld) with the outputs laid
// out the same way (Out() features). Both run concurrently on different
// chunks, from up to workers goroutines (≤ 0 means GOMAXPROCS), and must not
// keep in or out.
func (m *MLP) Forward(n, workers int, fill func(j0, j1 int, in []float32, ld int), emit func(j0, j1 int, out []float32, ld int)) {
	if n <= 0 {
		return
	}
	chunks := (n + ChunkCols - 1) / ChunkCols
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, chunks)
	var next atomic.Int64
	work := func() {
		bufA := make([]float32, m.maxRows*chunkLD)
		bufB := make([]float32, m.maxRows*chunkLD)
		for {
			c := int(next.Add(1) - 1)
			if c >= chunks {
				return
			}
			j0 := c * ChunkCols
			j1 := min(j0+ChunkCols, n)
			cols := roundUp(j1-j0, kernelCols)
			fill(j0, j1, bufA, chunkLD)
			src, dst := bufA, bufB
			for i := range m.layers {
				m.layers[i].apply(src, dst, chunkLD, cols)
				src, dst = dst, src
			}
			emit(j0, j1, src, chunkLD)
		}
	}
	parallel(workers, func(int) { work() })
}

// parallel runs work(0), …, work(workers−1) concurrently and waits for them;
// one worker runs inline.
func parallel(workers int, work func(w int)) {
	if workers <= 1 {
		work(0)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { work(w) })
	}
	wg.Wait()
}

// apply computes dst[o, j] = act(bias[o] + Σ_k W[o, k] src[k, j]) for every
// output row o < outPad and column j < cols (a multiple of kernelCols), both
// buffers with row stride ld.
func (p *packedLayer) apply(src, dst []float32, ld, cols int) {
	blockA := p.in * kernelRows
	op := kop{init: initBias, relu: p.relu}
	for j := 0; j < cols; j += kernelCols {
		for blk := range p.outPad / kernelRows {
			op.bias = p.bias[blk*kernelRows:]
			kernel(p.in, p.a[blk*blockA:(blk+1)*blockA], src[j:], ld, dst[blk*kernelRows*ld+j:], ld, op)
		}
	}
}

// Kernel initialisations (kop.init).
const (
	initBias = iota // accumulators start at bias[r]
	initLoad        // accumulators start at the output block (out += a·b)
	initZero        // accumulators start at 0
)

// kop configures one kernel call: how the accumulators start and what is
// applied before the store (ReLU, or a product with the ReLU mask of the
// activations h, laid out like the output).
type kop struct {
	init int
	bias []float32
	relu bool
	mask []float32 // non-nil: out = acc · [h > 0] with h = mask (same offsets and stride as out)
}

// kernelGeneric is the portable kernel: for rows r < 4 and columns c < 32,
// out[r, c] = epilogue(init[r, c] + Σ_p a[p·4 + r]·b[p·ldb + c]).
func kernelGeneric(k int, a, b []float32, ldb int, out []float32, ldo int, op kop) {
	var acc [kernelRows][kernelCols]float32
	for r := range kernelRows {
		for c := range kernelCols {
			switch op.init {
			case initBias:
				acc[r][c] = op.bias[r]
			case initLoad:
				acc[r][c] = out[r*ldo+c]
			}
		}
	}
	for p := range k {
		brow := b[p*ldb : p*ldb+kernelCols]
		ar := a[p*kernelRows : p*kernelRows+kernelRows]
		for r := range kernelRows {
			av := ar[r]
			for c, bv := range brow {
				acc[r][c] += av * bv
			}
		}
	}
	for r := range kernelRows {
		row := out[r*ldo : r*ldo+kernelCols]
		for c := range row {
			v := acc[r][c]
			if op.relu && !(v > 0) {
				v = 0
			}
			if op.mask != nil && !(op.mask[r*ldo+c] > 0) {
				v = 0
			}
			row[c] = v
		}
	}
}
