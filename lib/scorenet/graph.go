package scorenet

import (
	"math"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph DSL
)

// EmbedTime returns e(t) (SPEC Eq 59) for t of shape [n, 1]: shape [n, 4].
func EmbedTime(t *Node) *Node {
	return Concatenate([]*Node{
		AddScalar(t, -0.5),
		Cos(MulScalar(t, 2*math.Pi)),
		Sin(MulScalar(t, 2*math.Pi)),
		Neg(Cos(MulScalar(t, 4*math.Pi))),
	}, -1)
}

// Apply builds S_θ(x, cond, t) in a graph from explicit parameter nodes
// (ordered as Net.ParamNames: weights then biases of each layer, the output
// layer last). x is [n, XDim], cond is [n, CondDim] (nil when CondDim is 0),
// t is [n, 1]; the result is [n, XDim]. Training calls it with the parameters
// of each unrolled optimizer step.
func Apply(cfg Config, params []*Node, x, cond, t *Node) *Node {
	cfg = cfg.WithDefaults()
	parts := []*Node{x}
	if cond != nil {
		parts = append(parts, cond)
	}
	parts = append(parts, EmbedTime(t))
	h := Concatenate(parts, -1)
	nLayers := cfg.HiddenLayers + 1
	for l := range nLayers {
		w, b := params[2*l], params[2*l+1]
		h = Add(MatMul(h, w), ExpandAxes(b, 0))
		if l < nLayers-1 {
			h = Max(h, ZerosLike(h)) // ReLU
		}
	}
	return h
}
