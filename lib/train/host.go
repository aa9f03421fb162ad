package train

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/pdediff/pdediff/lib/hostmlp"
	"github.com/pdediff/pdediff/lib/scorenet"
)

// hostStep is the host engine of a training run (scorenet.EngineHost): the
// loss of theory eq. 61, its gradient (lib/hostmlp) and the Adam update of
// graphFn, computed on host float32 copies of the model's variables. flush
// writes the copies back to the store, which then holds exactly what the
// graph engine's variables would hold after the same steps (up to float
// rounding), so checkpoints, resumes and Score see no difference.
type hostStep struct {
	mlp       *hostmlp.MLP
	tr        *hostmlp.Trainer
	params    [][]float32 // the MLP's own parameter slices (Vars order)
	m, v, ema [][]float32
	dirty     bool

	cur, next *hostBatch // the step being computed and the one being prepared
}

// hostBatch is one step's inputs from the batcher, feature-major.
type hostBatch struct{ xt, cond, t, s, z []float32 }

func newHostBatch(B, xd, cd int) *hostBatch {
	return &hostBatch{xt: make([]float32, B*xd), z: make([]float32, B*xd), cond: make([]float32, B*cd),
		t: make([]float32, B), s: make([]float32, B)}
}

func newHostStep(st *state) (*hostStep, error) {
	p, err := st.net.ParamValues(scorenet.ParamScope)
	if err != nil {
		return nil, err
	}
	c := st.net.Config()
	layers := make([]hostmlp.Layer, len(p)/2)
	in := c.InputDim()
	for l := range layers {
		out := c.Width
		if l == len(layers)-1 {
			out = c.XDim
		}
		layers[l] = hostmlp.Layer{W: p[2*l], B: p[2*l+1], In: in, Out: out}
		in = out
	}
	mlp, err := hostmlp.New(layers)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	h := &hostStep{mlp: mlp, tr: mlp.NewTrainer(), params: mlp.Params()}
	if h.m, err = st.net.ParamValues(adamMScope); err != nil {
		return nil, err
	}
	if h.v, err = st.net.ParamValues(adamVScope); err != nil {
		return nil, err
	}
	if st.ema != nil {
		if h.ema, err = st.net.ParamValues(scorenet.EMAScope); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// flush writes the host copies into the store's variables.
func (h *hostStep) flush(st *state) error {
	if !h.dirty {
		return nil
	}
	for _, set := range []struct {
		vars []*model.Variable
		vals [][]float32
	}{{st.params, h.params}, {st.m, h.m}, {st.v, h.v}, {st.ema, h.ema}} {
		for i, v := range set.vars {
			t := tensors.FromFlatDataAndDimensions(append([]float32(nil), set.vals[i]...), v.Shape().Dimensions...)
			if err := v.SetValue(t); err != nil {
				return fmt.Errorf("train: writing %s: %w", v.Path(), err)
			}
		}
	}
	h.dirty = false
	return nil
}

// run executes k optimiser steps (st.step+1 … st.step+k) and returns their losses.
func (h *hostStep) run(st *state, b *batcher, k int, cfg Config) ([]float64, error) {
	ncfg := st.net.Config()
	B, xd, cd := b.B, ncfg.XDim, ncfg.CondDim()
	if h.cur == nil || len(h.cur.t) != B {
		h.cur, h.next = newHostBatch(B, xd, cd), newHostBatch(B, xd, cd)
	}
	noise := ncfg.NoiseOutput()
	coef := float32(2 / float64(B*xd))
	fill := func(j0, j1 int, buf []float32, ld int) {
		n, bt := j1-j0, h.cur
		for d := range xd {
			copy(buf[d*ld:d*ld+n], bt.xt[d*B+j0:d*B+j1])
		}
		for d := range cd {
			copy(buf[(xd+d)*ld:(xd+d)*ld+n], bt.cond[d*B+j0:d*B+j1])
		}
		for j := j0; j < j1; j++ {
			e := scorenet.TimeEmbedding(float64(bt.t[j]))
			for f, v := range e {
				buf[(xd+cd+f)*ld+j-j0] = float32(v)
			}
		}
	}
	lossGrad := func(j0, j1 int, out, dOut []float32, ld int) float64 {
		sum, bt := 0.0, h.cur
		for d := range xd {
			o, g := out[d*ld:], dOut[d*ld:]
			z := bt.z[d*B:]
			for j := j0; j < j1; j++ {
				c := j - j0
				var r float32
				if noise {
					// score = −ε̂/s (theory eq. 120): s·score + z = z − ε̂, ∂loss/∂ε̂ = −2r/(B·x_dim).
					r = z[j] - o[c]
					g[c] = -coef * r
				} else {
					r = bt.s[j]*o[c] + z[j]
					g[c] = coef * bt.s[j] * r
				}
				sum += float64(r) * float64(r)
			}
		}
		return sum
	}
	losses := make([]float64, k)
	fillBatch := func(hb *hostBatch, j int64) { b.fill(j, hb.xt, hb.cond, hb.t, hb.s, hb.z) }
	fillBatch(h.cur, st.step)
	for i := range k {
		j := st.step + int64(i)
		// The next step's batch is drawn on the host while this step's
		// gradient runs (the batcher depends only on the step index).
		var prep sync.WaitGroup
		if i+1 < k {
			prep.Go(func() { fillBatch(h.next, j+1) })
		}
		sum, grads, err := h.tr.Gradient(B, 0, fill, lossGrad)
		prep.Wait()
		if err != nil {
			return nil, err
		}
		losses[i] = sum / float64(B*xd) // theory eq. 61
		n := float64(j + 1)             // Adam bias corrections, PyTorch form
		c1 := float32(lrFactor(cfg.LRSchedule, j, st.total) / (1 - math.Pow(cfg.Beta1, n)))
		c2 := float32(1 / math.Sqrt(1-math.Pow(cfg.Beta2, n)))
		h.adam(grads, float32(cfg.LearningRate)*c1, c2, cfg)
		h.mlp.Repack()
		h.dirty = true
		h.cur, h.next = h.next, h.cur
	}
	return losses, nil
}

// adam applies one Adam step (and the EMA update) to every parameter, as
// graphFn does: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², θ ← θ − lr·c1·m /
// (√v·c2 + ε). The parameters are split between the cores.
func (h *hostStep) adam(grads [][]float32, lrc1, c2 float32, cfg Config) {
	b1, b2, eps := float32(cfg.Beta1), float32(cfg.Beta2), float32(cfg.AdamEps)
	ema := float32(cfg.EMADecay)
	type span struct{ p, i0, i1 int }
	var spans []span
	const piece = 16384
	for p, g := range grads {
		for i := 0; i < len(g); i += piece {
			spans = append(spans, span{p, i, min(i+piece, len(g))})
		}
	}
	update := func(sp span) {
		g := grads[sp.p][sp.i0:sp.i1]
		th, m, v := h.params[sp.p][sp.i0:sp.i1], h.m[sp.p][sp.i0:sp.i1], h.v[sp.p][sp.i0:sp.i1]
		var e []float32
		if h.ema != nil {
			e = h.ema[sp.p][sp.i0:sp.i1]
		}
		for i, gi := range g {
			mi := b1*m[i] + (1-b1)*gi
			vi := b2*v[i] + (1-b2)*(gi*gi)
			m[i], v[i] = mi, vi
			den := float32(math.Sqrt(float64(vi)))*c2 + eps
			th[i] -= lrc1 * (mi / den)
			if e != nil {
				e[i] = ema*e[i] + (1-ema)*th[i]
			}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(spans))
	if workers <= 1 {
		for _, sp := range spans {
			update(sp)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for k := w; k < len(spans); k += workers {
				update(spans[k])
			}
		})
	}
	wg.Wait()
}
