package scorenet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph DSL
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/pdediff/pdediff/lib/sample"
)

// Store scopes of the variables.
const (
	// ParamScope holds the trained parameters θ.
	ParamScope = "/scorenet"
	// EMAScope holds the exponential moving average of θ (training with EMA on).
	EMAScope = "/ema/scorenet"
)

// seedStreamInit is the PCG stream used to draw the initial weights.
const seedStreamInit = 0x5c0e_11e7

// Net is an MLP score network whose parameters live in a GoMLX model.Store.
// Score runs either on the host engine (lib/hostmlp, the default with the
// pure-Go backend on AVX-512 CPUs: no graph, both cores) or as one graph
// execution per call (EngineEnv); graphs are compiled once per batch size n
// (GoMLX compiles per input shape), so callers should keep n fixed. Score may
// be called from several goroutines: calls are serialised (one evaluation at a
// time per Net, which already uses every core). Training (lib/train) must not
// run while Score is called on the same Net.
type Net struct {
	cfg     Config
	backend compute.Backend
	store   *model.Store
	useEMA  bool
	meta    *Meta // set by Load

	mu       sync.Mutex // guards exec, execRows, useEMA
	scoreMu  sync.Mutex // serialises Score executions
	exec     *model.Exec
	execRows map[int]bool // batch sizes compiled into exec

	// The per-row-time graph of ScoreRows (rows.go), guarded by mu.
	rowsExec   *model.Exec
	rowsShapes map[int]bool // batch sizes compiled into rowsExec
	rowsEMA    bool         // useEMA when rowsExec was built

	std func(float64) float64 // s(t) of the process, for OutputNoise (SetStd)

	host *hostState // packed parameters of the host engine (host.go), guarded by mu
}

// SetStd gives a noise-predicting network (Config.Output = OutputNoise) the
// kernel standard deviation s(t) of its forward process, which turns its
// output ε̂ into the score −ε̂/s(t) (theory eq. 120). lib/model calls it with
// the model's process; a score-output network ignores it.
func (n *Net) SetStd(std func(t float64) float64) { n.std = std }

// toScore converts the raw output of row i, at time t, into the score: a
// no-op for a score-output network, −out/s(t) for a noise-predicting one.
func (n *Net) toScore(t float64, row []float64) error {
	if !n.cfg.NoiseOutput() {
		return nil
	}
	if n.std == nil {
		return fmt.Errorf("scorenet: a noise-predicting network needs its process's s(t) (SetStd; lib/model.Load sets it)")
	}
	s := n.std(t)
	if !(s > 0) || math.IsInf(s, 0) {
		return fmt.Errorf("scorenet: s(t) = %v at t = %v: the score of a noise-predicting network needs 0 < s(t) < ∞", s, t)
	}
	for i := range row {
		row[i] /= -s
	}
	return nil
}

// maxCompiledShapes bounds the graphs kept for distinct batch sizes; past it
// the compiled graphs are dropped and rebuilt on demand (GoMLX's executor
// refuses more than 32 shapes).
const maxCompiledShapes = 16

// New returns a network with freshly initialised parameters drawn with the
// given seed like PyTorch's nn.Linear default: weights and biases of a layer
// with fan-in f are U(−1/√f, 1/√f). The same seed gives the same parameters.
func New(backend compute.Backend, cfg Config, seed uint64) (*Net, error) {
	if backend == nil {
		return nil, fmt.Errorf("scorenet: nil backend")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Net{cfg: cfg, backend: backend, store: model.NewStore()}
	rng := rand.New(rand.NewPCG(seed, seedStreamInit))
	in := cfg.InputDim()
	for l := range cfg.HiddenLayers + 1 {
		out := cfg.Width
		if l == cfg.HiddenLayers {
			out = cfg.XDim
		}
		bound := 1 / math.Sqrt(float64(in))
		w := make([]float32, in*out)
		for i := range w {
			w[i] = float32(bound * (2*rng.Float64() - 1))
		}
		b := make([]float32, out)
		for i := range b {
			b[i] = float32(bound * (2*rng.Float64() - 1))
		}
		wn, bn := n.paramPaths(ParamScope, l)
		if _, err := n.store.CreateVariable(wn, tensors.FromFlatDataAndDimensions(w, out, in)); err != nil {
			return nil, fmt.Errorf("scorenet: %w", err)
		}
		if _, err := n.store.CreateVariable(bn, tensors.FromFlatDataAndDimensions(b, out)); err != nil {
			return nil, fmt.Errorf("scorenet: %w", err)
		}
		in = out
	}
	return n, nil
}

func (n *Net) paramPaths(scope string, layer int) (w, b string) {
	p := model.JoinPath(scope, fmt.Sprintf("layer_%d", layer))
	return model.JoinPath(p, "weights"), model.JoinPath(p, "biases")
}

// Config returns the network's configuration (defaults applied).
func (n *Net) Config() Config { return n.cfg }

// Backend returns the backend the network's graphs run on.
func (n *Net) Backend() compute.Backend { return n.backend }

// Store returns the model.Store holding the parameters (and, during or after
// training, the optimiser state and EMA weights).
func (n *Net) Store() *model.Store { return n.store }

// Meta returns the metadata read by Load, or nil for a network made by New.
func (n *Net) Meta() *Meta { return n.meta }

// UseEMA reports whether Score uses the EMA weights instead of the raw ones.
func (n *Net) UseEMA() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.useEMA
}

// SetUseEMA selects the EMA weights (true) or the raw parameters (false) for
// Score. It fails if EMA weights do not exist in the store.
func (n *Net) SetUseEMA(on bool) error {
	if on {
		if _, err := n.Vars(EMAScope); err != nil {
			return fmt.Errorf("scorenet: no EMA weights in this model: %w", err)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.useEMA != on {
		n.useEMA = on
		n.exec = nil // the graph reads a different set of variables
	}
	return nil
}

// Vars returns the parameter variables in the order Apply expects (weights
// [out, in], biases [out] of layer 0, …, output layer last) under the given scope (ParamScope,
// EMAScope or any scope holding a copy). It fails when one is missing or has
// the wrong shape.
func (n *Net) Vars(scope string) ([]*model.Variable, error) {
	var vars []*model.Variable
	in := n.cfg.InputDim()
	for l := range n.cfg.HiddenLayers + 1 {
		out := n.cfg.Width
		if l == n.cfg.HiddenLayers {
			out = n.cfg.XDim
		}
		wn, bn := n.paramPaths(scope, l)
		for _, p := range []struct {
			path string
			dims []int
		}{{wn, []int{out, in}}, {bn, []int{out}}} {
			v := n.store.GetVariable(p.path)
			if v == nil {
				return nil, fmt.Errorf("scorenet: variable %s missing", p.path)
			}
			if got := v.Shape().Dimensions; fmt.Sprint(got) != fmt.Sprint(p.dims) {
				return nil, fmt.Errorf("scorenet: variable %s has shape %v, want %v", p.path, got, p.dims)
			}
			vars = append(vars, v)
		}
		in = out
	}
	return vars, nil
}

// activeVars returns the variables Score evaluates: the EMA copy when
// UseEMA, the trained parameters otherwise. The caller holds n.mu.
func (n *Net) activeVars() ([]*model.Variable, error) {
	if n.useEMA {
		return n.Vars(EMAScope)
	}
	return n.Vars(ParamScope)
}

// ParamValues returns a host copy of the parameters of the given scope, in
// Vars order, as float32 slices.
func (n *Net) ParamValues(scope string) ([][]float32, error) {
	vars, err := n.Vars(scope)
	if err != nil {
		return nil, err
	}
	out := make([][]float32, len(vars))
	for i, v := range vars {
		t, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("scorenet: reading %s: %w", v.Path(), err)
		}
		if out[i], err = tensors.CopyFlatData[float32](t); err != nil {
			return nil, fmt.Errorf("scorenet: reading %s: %w", v.Path(), err)
		}
	}
	return out, nil
}

// Score evaluates S_θ(x, cond, t) for n points of dimension XDim stored
// row-major in x (len n·XDim), writing n·XDim values into out. cond holds n
// rows of CondDim values (y then η), or is nil/empty when CondDim is 0. The
// whole batch is one graph execution; the graph is compiled once per n.
func (n *Net) Score(t float64, x []float64, rows int, cond []float64, out []float64) error {
	c := n.cfg
	switch {
	case rows < 1:
		return fmt.Errorf("scorenet: Score needs ≥ 1 row, got %d", rows)
	case len(x) != rows*c.XDim:
		return fmt.Errorf("scorenet: Score: len(x) = %d, want rows·x_dim = %d·%d", len(x), rows, c.XDim)
	case len(out) != rows*c.XDim:
		return fmt.Errorf("scorenet: Score: len(out) = %d, want rows·x_dim = %d·%d", len(out), rows, c.XDim)
	case len(cond) != rows*c.CondDim():
		return fmt.Errorf("scorenet: Score: len(cond) = %d, want rows·cond_dim = %d·%d", len(cond), rows, c.CondDim())
	case math.IsNaN(t) || math.IsInf(t, 0):
		return fmt.Errorf("scorenet: Score: time t = %v is not finite", t)
	}
	engine, err := n.Engine()
	if err != nil {
		return err
	}
	if engine == EngineHost {
		n.scoreMu.Lock()
		defer n.scoreMu.Unlock()
		if err := n.scoreHost([]float32{float32(t)}, x, rows, cond, out); err != nil {
			return err
		}
		return n.toScore(t, out)
	}
	// Feature-major inputs ([dim, rows]): the layout the backend multiplies fastest.
	args := []any{tensors.FromFlatDataAndDimensions(transposeF32(x, rows, c.XDim), c.XDim, rows)}
	if c.CondDim() > 0 {
		args = append(args, tensors.FromFlatDataAndDimensions(transposeF32(cond, rows, c.CondDim()), c.CondDim(), rows))
	}
	args = append(args, float32(t))
	n.scoreMu.Lock()
	defer n.scoreMu.Unlock()
	exec, err := n.scoreExec(rows)
	if err != nil {
		return err
	}
	res, err := exec.Exec(args...)
	if err != nil {
		return fmt.Errorf("scorenet: Score: %w", err)
	}
	defer finalizeAll(res)
	if err := tensors.ConstFlatData(res[0], func(flat []float32) {
		for d := range c.XDim { // [XDim, rows] → row-major
			for i, v := range flat[d*rows : (d+1)*rows] {
				out[i*c.XDim+d] = float64(v)
			}
		}
	}); err != nil {
		return err
	}
	return n.toScore(t, out)
}

func (n *Net) scoreExec(rows int) (*model.Exec, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.exec != nil && !n.execRows[rows] && len(n.execRows) >= maxCompiledShapes {
		n.exec = nil // too many batch sizes: start a fresh cache
	}
	if n.exec != nil {
		n.execRows[rows] = true
		return n.exec, nil
	}
	vars, err := n.activeVars()
	if err != nil {
		return nil, err
	}
	cfg := n.cfg
	fn := func(_ *model.Scope, inputs []*Node) *Node {
		x := inputs[0]
		var cond *Node
		if cfg.CondDim() > 0 {
			cond = inputs[1]
		}
		tIn := inputs[len(inputs)-1]
		rows := x.Shape().Dimensions[1]
		t := BroadcastToDims(Reshape(tIn, 1, 1), 1, rows)
		params := make([]*Node, len(vars))
		for i, v := range vars {
			params[i] = v.NodeValue(x.Graph())
		}
		out, _ := ApplyTrace(cfg, params, x, cond, t)
		return out
	}
	e, err := model.NewExec(n.backend, n.store, fn)
	if err != nil {
		return nil, fmt.Errorf("scorenet: building score graph: %w", err)
	}
	n.exec = e
	n.execRows = map[int]bool{rows: true}
	return e, nil
}

// ScoreFunc returns a sample.ScoreFunc evaluating this network with the
// conditioning rows captured: cond holds either one row of CondDim values,
// broadcast to every point, or one row per point (then every call must pass
// exactly that many points). For an unconditional network cond must be empty.
func (n *Net) ScoreFunc(cond []float64) (sample.ScoreFunc, error) {
	cd := n.cfg.CondDim()
	if cd == 0 && len(cond) != 0 {
		return nil, fmt.Errorf("scorenet: unconditional network given %d conditioning values", len(cond))
	}
	if cd > 0 && (len(cond) == 0 || len(cond)%cd != 0) {
		return nil, fmt.Errorf("scorenet: conditioning length %d is not a positive multiple of cond_dim %d", len(cond), cd)
	}
	for i, v := range cond {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("scorenet: conditioning value %d is %v", i, v)
		}
	}
	cond = append([]float64(nil), cond...)
	condRows := 0
	if cd > 0 {
		condRows = len(cond) / cd
	}
	var mu sync.Mutex
	var bcast []float64 // broadcast copy, reused while the batch size is unchanged
	return func(t float64, x []float64, rows, d int, out []float64) error {
		if d != n.cfg.XDim {
			return fmt.Errorf("scorenet: ScoreFunc called with d = %d, network x_dim = %d", d, n.cfg.XDim)
		}
		c := cond
		if cd > 0 && condRows != rows {
			if condRows != 1 {
				return fmt.Errorf("scorenet: ScoreFunc has %d conditioning rows but was called with %d points", condRows, rows)
			}
			mu.Lock()
			if len(bcast) != rows*cd {
				bcast = make([]float64, rows*cd)
				for i := range rows {
					copy(bcast[i*cd:], cond)
				}
			}
			c = bcast
			mu.Unlock()
		}
		return n.Score(t, x, rows, c, out)
	}, nil
}

// transposeF32 returns the float32 [cols, rows] transpose of the row-major
// [rows, cols] matrix x.
func transposeF32(x []float64, rows, cols int) []float32 {
	out := make([]float32, len(x))
	for i := range rows {
		for j := range cols {
			out[j*rows+i] = float32(x[i*cols+j])
		}
	}
	return out
}

func finalizeAll(ts []*tensors.Tensor) {
	for _, t := range ts {
		_ = t.FinalizeAll()
	}
}
