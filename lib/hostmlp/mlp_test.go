package hostmlp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// randomNet returns layers of the given widths with U(−1/√in, 1/√in) weights
// (nn.Linear's initialisation) and inputs of n columns, row-major [n, in].
func randomNet(widths []int, n int, seed uint64) ([]Layer, []float32) {
	rng := rand.New(rand.NewPCG(seed, 1))
	var layers []Layer
	for l := 0; l+1 < len(widths); l++ {
		in, out := widths[l], widths[l+1]
		s := 1 / math.Sqrt(float64(in))
		ly := Layer{In: in, Out: out, W: make([]float32, in*out), B: make([]float32, out)}
		for i := range ly.W {
			ly.W[i] = float32(s * (2*rng.Float64() - 1))
		}
		for i := range ly.B {
			ly.B[i] = float32(s * (2*rng.Float64() - 1))
		}
		layers = append(layers, ly)
	}
	x := make([]float32, n*widths[0])
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return layers, x
}

// reference evaluates the network in float64, row by row.
func reference(layers []Layer, x []float32, n int) []float64 {
	in := layers[0].In
	out := make([]float64, 0, n*layers[len(layers)-1].Out)
	for j := range n {
		h := make([]float64, in)
		for f := range in {
			h[f] = float64(x[j*in+f])
		}
		for l, ly := range layers {
			z := make([]float64, ly.Out)
			for o := range ly.Out {
				s := float64(ly.B[o])
				for k := range ly.In {
					s += float64(ly.W[o*ly.In+k]) * h[k]
				}
				if l < len(layers)-1 {
					s = math.Max(s, 0)
				}
				z[o] = s
			}
			h = z
		}
		out = append(out, h...)
	}
	return out
}

// forwardRows runs Forward on row-major inputs and returns row-major outputs.
func forwardRows(m *MLP, x []float32, n, workers int) []float32 {
	in, outDim := m.In(), m.Out()
	res := make([]float32, n*outDim)
	m.Forward(n, workers, func(j0, j1 int, buf []float32, ld int) {
		for j := j0; j < j1; j++ {
			for f := range in {
				buf[f*ld+j-j0] = x[j*in+f]
			}
		}
	}, func(j0, j1 int, buf []float32, ld int) {
		for j := j0; j < j1; j++ {
			for f := range outDim {
				res[j*outDim+f] = buf[f*ld+j-j0]
			}
		}
	})
	return res
}

func TestForwardMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		widths []int
		n      int
	}{
		{[]int{6, 256, 256, 1}, 1},                // §6.1 net (x 1, y 1, e(t) 4, bias-free input), one row
		{[]int{94, 256, 256, 256, 256, 30}, 129},  // §6.2 net, a chunk and one column
		{[]int{94, 256, 256, 256, 256, 30}, 1000}, // several chunks per worker
		{[]int{3, 5, 7, 2}, 33},                   // widths not multiples of the kernel block
		{[]int{1, 1}, 300},                        // one linear layer, no ReLU
	} {
		layers, x := randomNet(tc.widths, tc.n, uint64(tc.n))
		m, err := New(layers)
		if err != nil {
			t.Fatal(err)
		}
		want := reference(layers, x, tc.n)
		for _, workers := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("%v/n%d/w%d", tc.widths, tc.n, workers), func(t *testing.T) {
				got := forwardRows(m, x, tc.n, workers)
				var worst float64
				for i, g := range got {
					worst = math.Max(worst, math.Abs(float64(g)-want[i])/(1+math.Abs(want[i])))
				}
				if worst > 2e-5 {
					t.Fatalf("max relative difference %.3g from the float64 reference (simd %v)", worst, SIMD())
				}
			})
		}
	}
}

// TestKernelsAgree checks the SIMD kernel (where built) against the portable
// one on one block in every mode (the SIMD kernel fuses multiply and add, so
// the two agree to rounding).
func TestKernelsAgree(t *testing.T) {
	const k, ld = 37, 64
	rng := rand.New(rand.NewPCG(3, 3))
	a := make([]float32, k*kernelRows)
	b := make([]float32, k*ld)
	bias := []float32{0.5, -0.25, 0, 1}
	for i := range a {
		a[i] = float32(rng.NormFloat64())
	}
	for i := range b {
		b[i] = float32(rng.NormFloat64())
	}
	mask := make([]float32, kernelRows*ld)
	for i := range mask {
		mask[i] = float32(max(0, rng.NormFloat64()))
	}
	for name, op := range map[string]kop{
		"bias":      {init: initBias, bias: bias},
		"bias+relu": {init: initBias, bias: bias, relu: true},
		"load":      {init: initLoad},
		"zero+mask": {init: initZero, mask: mask},
	} {
		o1 := make([]float32, kernelRows*ld)
		o2 := make([]float32, kernelRows*ld)
		for i := range o1 {
			o1[i] = float32(i%9) - 4
			o2[i] = o1[i]
		}
		kernel(k, a, b, ld, o1, ld, op)
		kernelGeneric(k, a, b, ld, o2, ld, op)
		for i := range o1 {
			if d := math.Abs(float64(o1[i] - o2[i])); d > 1e-5*(1+math.Abs(float64(o2[i]))) {
				t.Fatalf("%s: element %d: %v (kernel) vs %v (portable)", name, i, o1[i], o2[i])
			}
		}
	}
}

func TestNewRejects(t *testing.T) {
	good := Layer{In: 2, Out: 1, W: []float32{1, 2}, B: []float32{0}}
	for name, layers := range map[string][]Layer{
		"none":      nil,
		"short W":   {{In: 2, Out: 1, W: []float32{1}, B: []float32{0}}},
		"short B":   {{In: 2, Out: 1, W: []float32{1, 2}}},
		"mismatch":  {good, {In: 2, Out: 1, W: []float32{1, 2}, B: []float32{0}}},
		"NaN":       {{In: 2, Out: 1, W: []float32{1, float32(math.NaN())}, B: []float32{0}}},
		"zero size": {{In: 0, Out: 1, B: []float32{0}}},
	} {
		if _, err := New(layers); err == nil {
			t.Errorf("%s: New accepted invalid layers", name)
		}
	}
}

// BenchmarkForward measures the §6.2 network (4×256, x 30 + y 30 + mask 30 +
// e(t) 4 inputs) and the §6.1 network over 10,000 columns, input filling and
// output reading included.
func BenchmarkForward(b *testing.B) {
	for _, nt := range []struct {
		name   string
		widths []int
	}{{"4x256_in94", []int{94, 256, 256, 256, 256, 30}}, {"2x256_in6", []int{6, 256, 256, 1}}} {
		for _, workers := range []int{1, 0} {
			b.Run(fmt.Sprintf("%s/rows10000/workers%d", nt.name, workers), func(b *testing.B) {
				const n = 10000
				layers, x := randomNet(nt.widths, n, 1)
				m, err := New(layers)
				if err != nil {
					b.Fatal(err)
				}
				flops := 0.0
				for _, ly := range layers {
					flops += 2 * float64(ly.In*ly.Out) * n
				}
				b.ResetTimer()
				start := time.Now()
				for range b.N {
					forwardRows(m, x, n, workers)
				}
				b.ReportMetric(flops*float64(b.N)/time.Since(start).Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
