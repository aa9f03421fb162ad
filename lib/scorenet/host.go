package scorenet

import (
	"fmt"
	"os"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/pdediff/pdediff/lib/hostmlp"
)

// EngineEnv is the environment variable that selects how Score and ScoreRows
// evaluate the network: EngineAuto (the default), EngineGraph or EngineHost.
const EngineEnv = "PDEDIFF_ENGINE"

// Score engines accepted in EngineEnv.
const (
	// EngineAuto uses the host engine with the pure-Go backend on a CPU with
	// AVX-512 in a GOEXPERIMENT=simd build, and the backend's graph otherwise
	// (e.g. XLA on a GPU).
	EngineAuto = "auto"
	// EngineGraph always runs one compiled graph of the backend per call.
	EngineGraph = "graph"
	// EngineHost always uses lib/hostmlp (its portable kernel where AVX-512 is
	// missing): the forward pass on the host CPU, both cores, no graph.
	EngineHost = "host"
)

// Engine returns the engine Score and ScoreRows use for this network
// (EngineGraph or EngineHost), or an error naming an invalid EngineEnv.
func (n *Net) Engine() (string, error) {
	v := strings.TrimSpace(os.Getenv(EngineEnv))
	switch v {
	case "", EngineAuto:
		if hostmlp.SIMD() && n.backend.String() == "go" {
			return EngineHost, nil
		}
		return EngineGraph, nil
	case EngineGraph, EngineHost:
		return v, nil
	}
	return "", fmt.Errorf("scorenet: %s=%q: want %q, %q or %q", EngineEnv, v, EngineAuto, EngineGraph, EngineHost)
}

// hostState is the packed copy of the parameters used by the host engine,
// with the tensors it was copied from: a training step or a load replaces
// the variables' tensors (never their contents), so comparing the pointers
// detects stale weights.
type hostState struct {
	mlp    *hostmlp.MLP
	source []*tensors.Tensor
	ema    bool
}

// hostNet returns the packed network for the current parameters, repacking
// it when they changed.
func (n *Net) hostNet() (*hostmlp.MLP, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	vars, err := n.activeVars()
	if err != nil {
		return nil, err
	}
	src := make([]*tensors.Tensor, len(vars))
	for i, v := range vars {
		if src[i], err = v.Value(); err != nil {
			return nil, fmt.Errorf("scorenet: reading %s: %w", v.Path(), err)
		}
	}
	if h := n.host; h != nil && h.ema == n.useEMA && len(h.source) == len(src) {
		same := true
		for i := range src {
			same = same && h.source[i] == src[i]
		}
		if same {
			return h.mlp, nil
		}
	}
	layers := make([]hostmlp.Layer, len(vars)/2)
	in := n.cfg.InputDim()
	for l := range layers {
		out := n.cfg.Width
		if l == len(layers)-1 {
			out = n.cfg.XDim
		}
		ly := hostmlp.Layer{In: in, Out: out}
		if ly.W, err = tensors.CopyFlatData[float32](src[2*l]); err != nil {
			return nil, err
		}
		if ly.B, err = tensors.CopyFlatData[float32](src[2*l+1]); err != nil {
			return nil, err
		}
		layers[l] = ly
		in = out
	}
	m, err := hostmlp.New(layers)
	if err != nil {
		return nil, fmt.Errorf("scorenet: %w", err)
	}
	n.host = &hostState{mlp: m, source: src, ema: n.useEMA}
	return m, nil
}

// embed32 is e(t) (theory eq. 64) of the float32 time, as the graph feeds it.
func embed32(t float32) [EmbedDim]float32 {
	e := TimeEmbedding(float64(t))
	return [EmbedDim]float32{float32(e[0]), float32(e[1]), float32(e[2]), float32(e[3])}
}

// scoreHost evaluates the raw network output (before toScore) on the host
// engine: row i at time t32[i], or at t32[0] when len(t32) == 1.
func (n *Net) scoreHost(t32 []float32, x []float64, rows int, cond []float64, out []float64) error {
	m, err := n.hostNet()
	if err != nil {
		return err
	}
	xd, cd := n.cfg.XDim, n.cfg.CondDim()
	var shared [EmbedDim]float32
	if len(t32) == 1 {
		shared = embed32(t32[0])
	}
	m.Forward(rows, 0, func(j0, j1 int, buf []float32, ld int) {
		for j := j0; j < j1; j++ {
			col := j - j0
			for f, v := range x[j*xd : (j+1)*xd] {
				buf[f*ld+col] = float32(v)
			}
			for f, v := range cond[j*cd : (j+1)*cd] {
				buf[(xd+f)*ld+col] = float32(v)
			}
			e := shared
			if len(t32) > 1 {
				e = embed32(t32[j])
			}
			for f, v := range e {
				buf[(xd+cd+f)*ld+col] = v
			}
		}
	}, func(j0, j1 int, buf []float32, ld int) {
		for j := j0; j < j1; j++ {
			col := j - j0
			row := out[j*xd : (j+1)*xd]
			for d := range row {
				row[d] = float64(buf[d*ld+col])
			}
		}
	})
	return nil
}
