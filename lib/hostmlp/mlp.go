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

// packedLayer holds W in kernel order: for each block of kernelRows output
// rows, the In columns of those rows interleaved ([In][kernelRows]), rows past
// Out padded with zeros.
type packedLayer struct {
	in, out, outPad int
	a               []float32 // outPad/kernelRows blocks of in·kernelRows values
	bias            []float32 // outPad values
	relu            bool
}

// MLP is a packed network: ReLU after every layer but the last. It is
// read-only after New and safe for concurrent Forward calls.
type MLP struct {
	layers  []packedLayer
	maxRows int // largest outPad (and input) over the layers: buffer height
}

// New packs the layers (copied; the caller may reuse its slices). Each layer's
// In must equal the previous layer's Out, and every value must be finite.
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
		outPad := (ly.Out + kernelRows - 1) / kernelRows * kernelRows
		p := packedLayer{in: ly.In, out: ly.Out, outPad: outPad, relu: l < len(layers)-1,
			a: make([]float32, outPad*ly.In), bias: make([]float32, outPad)}
		copy(p.bias, ly.B)
		for blk := range outPad / kernelRows {
			dst := p.a[blk*ly.In*kernelRows:]
			for r := range kernelRows {
				o := blk*kernelRows + r
				if o >= ly.Out {
					continue
				}
				for k, v := range ly.W[o*ly.In : (o+1)*ly.In] {
					dst[k*kernelRows+r] = v
				}
			}
		}
		m.layers = append(m.layers, p)
		m.maxRows = max(m.maxRows, outPad, ly.In)
	}
	return m, nil
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
		bufA := make([]float32, m.maxRows*ChunkCols)
		bufB := make([]float32, m.maxRows*ChunkCols)
		for {
			c := int(next.Add(1) - 1)
			if c >= chunks {
				return
			}
			j0 := c * ChunkCols
			j1 := min(j0+ChunkCols, n)
			cols := (j1 - j0 + kernelCols - 1) / kernelCols * kernelCols
			fill(j0, j1, bufA, ChunkCols)
			src, dst := bufA, bufB
			for i := range m.layers {
				m.layers[i].apply(src, dst, ChunkCols, cols)
				src, dst = dst, src
			}
			emit(j0, j1, src, ChunkCols)
		}
	}
	if workers == 1 {
		work()
		return
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(work)
	}
	wg.Wait()
}

// apply computes dst[o, j] = act(bias[o] + Σ_k W[o, k] src[k, j]) for every
// output row o < outPad and column j < cols (a multiple of kernelCols), both
// buffers with row stride ld.
func (p *packedLayer) apply(src, dst []float32, ld, cols int) {
	blockA := p.in * kernelRows
	for j := 0; j < cols; j += kernelCols {
		for blk := range p.outPad / kernelRows {
			kernel(p.in, p.a[blk*blockA:(blk+1)*blockA], src[j:], ld, p.bias[blk*kernelRows:], dst[blk*kernelRows*ld+j:], ld, p.relu)
		}
	}
}

// kernelGeneric is the portable kernel: out rows r < 4, columns c < 32 of
// act(bias[r] + Σ_k a[k·4 + r]·b[k·ldb + c]).
func kernelGeneric(k int, a, b []float32, ldb int, bias, out []float32, ldo int, relu bool) {
	var acc [kernelRows][kernelCols]float32
	for r := range kernelRows {
		for c := range kernelCols {
			acc[r][c] = bias[r]
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
			if relu && !(v > 0) {
				v = 0
			}
			row[c] = v
		}
	}
}
