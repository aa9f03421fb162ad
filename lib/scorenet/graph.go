package scorenet

import (
	"math"

	"github.com/gomlx/compute/shapes"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph DSL
)

// EmbedTime returns e(t) (theory eq. 64) for t of shape [n, 1]: shape [n, 4].
func EmbedTime(t *Node) *Node {
	return Concatenate([]*Node{
		AddScalar(t, -0.5),
		Cos(MulScalar(t, 2*math.Pi)),
		Sin(MulScalar(t, 2*math.Pi)),
		Neg(Cos(MulScalar(t, 4*math.Pi))),
	}, -1)
}

// Apply builds S_θ(x, cond, t) in a graph from explicit parameter nodes
// (ordered as Net.Vars: weights then biases of each layer, the output layer
// last; weights are [out, in] like PyTorch's nn.Linear). x is [n, XDim], cond is [n, CondDim] (nil when CondDim is 0),
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
		h = Add(DotGeneral(h, []int{1}, nil, w, []int{1}, nil), ExpandAxes(b, 0)) // h·Wᵀ + b
		if l < nLayers-1 {
			h = Max(h, ScalarZero(h.Graph(), h.DType())) // ReLU
		}
	}
	return h
}

// Trace holds the activations of one forward pass built by ApplyTrace, for a
// hand-written backward pass. Everything is feature-major ([features, n]):
// with that layout the pure-Go backend's matrix products need no transposes
// of activations (only of the small weight matrices), and there are no sign
// ops, which makes training several times cheaper than generic autodiff.
type Trace struct {
	params []*Node
	inputs []*Node // input of each layer with a row of ones appended, [in+1, n]
	pre    []*Node // output relu(z) of each hidden layer, [width, n]
}

// ApplyTrace is Apply in feature-major layout: x is [XDim, n], cond is
// [CondDim, n] (nil when CondDim is 0), t is [1, n]; the result is [XDim, n].
// It also returns the activations needed by Backward. Biases are folded into
// the products (a row of ones appended to each layer input), which avoids the
// pure-Go backend's slow broadcasting add and gives the bias gradient for free.
func ApplyTrace(cfg Config, params []*Node, x, cond, t *Node) (*Node, *Trace) {
	cfg = cfg.WithDefaults()
	g := x.Graph()
	n := x.Shape().Dimensions[1]
	onesRow := Ones(g, shapes.Make(x.DType(), 1, n))
	parts := []*Node{x}
	if cond != nil {
		parts = append(parts, cond)
	}
	parts = append(parts, EmbedTimeT(t), onesRow)
	h := Concatenate(parts, 0)
	tr := &Trace{params: params}
	nLayers := cfg.HiddenLayers + 1
	for l := range nLayers {
		w, b := params[2*l], params[2*l+1]
		if l > 0 {
			h = Concatenate([]*Node{h, onesRow}, 0)
		}
		tr.inputs = append(tr.inputs, h)
		wb := Concatenate([]*Node{w, ExpandAxes(b, 1)}, 1)
		z := DotGeneral(wb, []int{1}, nil, h, []int{0}, nil) // [W b]·[h; 1] = W·h + b
		if l < nLayers-1 {
			h = Max(z, ScalarZero(g, z.DType())) // ReLU
			tr.pre = append(tr.pre, h)
		} else {
			h = z
		}
	}
	return h, tr
}

// EmbedTimeT is EmbedTime in feature-major layout: t [1, n] → e(t) [4, n] (theory eq. 64).
func EmbedTimeT(t *Node) *Node {
	return Concatenate([]*Node{
		AddScalar(t, -0.5),
		Cos(MulScalar(t, 2*math.Pi)),
		Sin(MulScalar(t, 2*math.Pi)),
		Neg(Cos(MulScalar(t, 4*math.Pi))),
	}, 0)
}

// Backward returns the gradients of a scalar loss with respect to the
// parameters (Apply's order and shapes), given dOut = ∂loss/∂output in
// feature-major layout [XDim, n].
func (tr *Trace) Backward(dOut *Node) []*Node {
	nLayers := len(tr.inputs)
	grads := make([]*Node, 2*nLayers)
	dz := dOut
	for l := nLayers - 1; l >= 0; l-- {
		h, w := tr.inputs[l], tr.params[2*l]
		gwb := DotGeneral(dz, []int{1}, nil, h, []int{1}, nil) // dz·[h; 1]ᵀ = [dW db]
		in := w.Shape().Dimensions[1]
		grads[2*l] = Slice(gwb, AxisRange(), AxisRange(0, in))
		grads[2*l+1] = Reshape(Slice(gwb, AxisRange(), AxisRange(in, in+1)), -1)
		if l == 0 {
			break
		}
		dh := DotGeneral(Transpose(w, 0, 1), []int{1}, nil, dz, []int{0}, nil) // Wᵀ·dz = [in, n]
		// ReLU derivative as a branch-free mask min(h·MaxFloat32, 1) ∈ {0, 1}: exact for every
		// h = relu(z) except denormals below 3e-39; the backend's Where is a branchy (slower) loop.
		act := tr.pre[l-1]
		mask := MinScalar(MulScalar(act, math.MaxFloat32), 1)
		dz = Mul(dh, mask)
	}
	return grads
}
