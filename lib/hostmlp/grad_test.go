package hostmlp

import (
	"fmt"
	"math"
	"testing"
)

// referenceGrad returns loss = Σ (out − y)² and its gradients in float64 by
// plain backpropagation, column by column.
func referenceGrad(layers []Layer, x, y []float32, n int) (float64, [][]float64) {
	L := len(layers)
	grads := make([][]float64, 2*L)
	for l, ly := range layers {
		grads[2*l], grads[2*l+1] = make([]float64, ly.In*ly.Out), make([]float64, ly.Out)
	}
	loss := 0.0
	in := layers[0].In
	outDim := layers[L-1].Out
	for j := range n {
		acts := [][]float64{make([]float64, in)}
		for f := range in {
			acts[0][f] = float64(x[j*in+f])
		}
		for l, ly := range layers {
			z := make([]float64, ly.Out)
			for o := range ly.Out {
				s := float64(ly.B[o])
				for k := range ly.In {
					s += float64(ly.W[o*ly.In+k]) * acts[l][k]
				}
				if l < L-1 {
					s = math.Max(s, 0)
				}
				z[o] = s
			}
			acts = append(acts, z)
		}
		dz := make([]float64, outDim)
		for f := range outDim {
			r := acts[L][f] - float64(y[j*outDim+f])
			loss += r * r
			dz[f] = 2 * r
		}
		for l := L - 1; l >= 0; l-- {
			ly := layers[l]
			for o := range ly.Out {
				for i := range ly.In {
					grads[2*l][o*ly.In+i] += dz[o] * acts[l][i]
				}
				grads[2*l+1][o] += dz[o]
			}
			if l == 0 {
				break
			}
			dh := make([]float64, ly.In)
			for i := range ly.In {
				if acts[l][i] > 0 {
					for o := range ly.Out {
						dh[i] += float64(ly.W[o*ly.In+i]) * dz[o]
					}
				}
			}
			dz = dh
		}
	}
	return loss, grads
}

func TestGradientMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		widths []int
		n      int
	}{
		{[]int{6, 256, 256, 1}, 1000},            // §6.1 net at batch 1000 (8 chunks, the last partial)
		{[]int{94, 256, 256, 256, 256, 30}, 300}, // §6.2 net
		{[]int{3, 5, 7, 2}, 33},                  // odd widths
		{[]int{2, 3}, 1},                         // one linear layer, one column
	} {
		layers, x := randomNet(tc.widths, tc.n, 5)
		_, y := randomNet([]int{tc.widths[len(tc.widths)-1]}, tc.n, 6)
		wantLoss, want := referenceGrad(layers, x, y, tc.n)
		m, err := New(layers)
		if err != nil {
			t.Fatal(err)
		}
		in, outDim := m.In(), m.Out()
		var first [][]float32
		for _, workers := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("%v/n%d/w%d", tc.widths, tc.n, workers), func(t *testing.T) {
				tr := m.NewTrainer()
				loss, grads, err := tr.Gradient(tc.n, workers, func(j0, j1 int, buf []float32, ld int) {
					for j := j0; j < j1; j++ {
						for f := range in {
							buf[f*ld+j-j0] = x[j*in+f]
						}
					}
				}, func(j0, j1 int, out, dOut []float32, ld int) float64 {
					s := 0.0
					for j := j0; j < j1; j++ {
						for f := range outDim {
							r := out[f*ld+j-j0] - y[j*outDim+f]
							s += float64(r) * float64(r)
							dOut[f*ld+j-j0] = 2 * r
						}
					}
					return s
				})
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(loss-wantLoss) > 1e-4*wantLoss {
					t.Errorf("loss %v, reference %v", loss, wantLoss)
				}
				for p, g := range grads {
					scale := 0.0
					for _, v := range want[p] {
						scale = math.Max(scale, math.Abs(v))
					}
					for i, v := range g {
						if d := math.Abs(float64(v) - want[p][i]); d > 1e-4*(scale+1e-3) {
							t.Fatalf("param %d entry %d: %v, reference %v (scale %v)", p, i, v, want[p][i], scale)
						}
					}
				}
				if first == nil {
					first = make([][]float32, len(grads))
					for p := range grads {
						first[p] = append([]float32(nil), grads[p]...)
					}
					return
				}
				for p := range grads { // the same bits whatever the number of workers
					for i := range grads[p] {
						if grads[p][i] != first[p][i] {
							t.Fatalf("param %d entry %d: %v with %d workers, %v with 1", p, i, grads[p][i], workers, first[p][i])
						}
					}
				}
			})
		}
	}
}

// BenchmarkGradient measures one forward + backward pass of the paper's
// networks at batch 1000 (the training step without the optimiser).
func BenchmarkGradient(b *testing.B) {
	for _, nt := range []struct {
		name   string
		widths []int
	}{{"4x256_in94", []int{94, 256, 256, 256, 256, 30}}, {"2x256_in6", []int{6, 256, 256, 1}}} {
		for _, workers := range []int{1, 0} {
			b.Run(fmt.Sprintf("%s/batch1000/workers%d", nt.name, workers), func(b *testing.B) {
				const n = 1000
				layers, x := randomNet(nt.widths, n, 1)
				m, err := New(layers)
				if err != nil {
					b.Fatal(err)
				}
				in, outDim := m.In(), m.Out()
				tr := m.NewTrainer()
				flops := 0.0
				for _, ly := range layers {
					flops += 6 * float64(ly.In*ly.Out) * n
				}
				b.ResetTimer()
				for range b.N {
					_, _, err := tr.Gradient(n, workers, func(j0, j1 int, buf []float32, ld int) {
						for j := j0; j < j1; j++ {
							for f := range in {
								buf[f*ld+j-j0] = x[j*in+f]
							}
						}
					}, func(j0, j1 int, out, dOut []float32, ld int) float64 {
						for j := j0; j < j1; j++ {
							for f := range outDim {
								dOut[f*ld+j-j0] = out[f*ld+j-j0]
							}
						}
						return 0
					})
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
			})
		}
	}
}
