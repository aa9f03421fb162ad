package scorenet

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph DSL
	"github.com/gomlx/gomlx/core/tensors"
)

// TestBackwardMatchesAutodiff checks the hand-written backward pass against
// GoMLX's reverse-mode autodiff for the loss mean((s·S + z)²) of theory eq. 61.
func TestBackwardMatchesAutodiff(t *testing.T) {
	be := testBackend(t)
	cfg := Config{XDim: 3, YDim: 2, MaskDim: 1, HiddenLayers: 3, Width: 16}.WithDefaults()
	net, _ := New(be, cfg, 5)
	pv, _ := net.ParamValues(ParamScope)
	vars, _ := net.Vars(ParamScope)
	rng := rand.New(rand.NewPCG(8, 9))
	const n = 7
	mk := func(d int) *tensors.Tensor {
		v := make([]float32, n*d)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return tensors.FromFlatDataAndDimensions(v, n, d)
	}
	args := []any{mk(cfg.XDim), mk(cfg.CondDim()), mk(1), mk(1), mk(cfg.XDim)}
	for i, p := range pv {
		args = append(args, tensors.FromFlatDataAndDimensions(p, vars[i].Shape().Dimensions...))
	}
	exec := MustNewExec(be, func(in []*Node) []*Node {
		x, c, tt, s, z := in[0], in[1], in[2], in[3], in[4]
		params := in[5:]
		// Autodiff through the row-major Apply; manual backward through the feature-major trace.
		r := Add(Mul(s, Apply(cfg, params, x, c, tt)), z)
		loss := ReduceAllMean(Square(r))
		auto := Gradient(loss, params...)
		tp := func(a *Node) *Node { return Transpose(a, 0, 1) }
		outT, tr := ApplyTrace(cfg, params, tp(x), tp(c), tp(tt))
		rT := Add(Mul(tp(s), outT), tp(z))
		dOut := MulScalar(Mul(tp(s), rT), 2/float64(n*cfg.XDim))
		manual := tr.Backward(dOut)
		return append(manual, auto...)
	})
	res := exec.MustExec(args...)
	np := len(pv)
	nonzero := 0
	for i := range np {
		a, _ := tensors.CopyFlatData[float32](res[i])
		b, _ := tensors.CopyFlatData[float32](res[np+i])
		for j := range a {
			if d := math.Abs(float64(a[j] - b[j])); d > 1e-5*(1+math.Abs(float64(b[j]))) {
				t.Fatalf("param %d elem %d: manual %v autodiff %v", i, j, a[j], b[j])
			}
			if b[j] != 0 {
				nonzero++
			}
		}
	}
	if nonzero < cfg.NumParams()/2 {
		t.Errorf("only %d of %d gradient entries are non-zero", nonzero, cfg.NumParams())
	}
}
