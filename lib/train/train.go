package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"time"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph DSL
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/schollz/progressbar/v3"

	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/scorenet"
	"github.com/pdediff/pdediff/lib/sde"
)

// Store scopes of the optimiser state.
const (
	adamMScope = "/adam/m/scorenet"
	adamVScope = "/adam/v/scorenet"
	stepVar    = "/global_step"
)

// PCG stream keys (second PCG word) of the host random streams.
const (
	streamShuffle = 0x5f_0001 << 32
	streamNoise   = 0x5f_0002 << 32
	streamAugment = 0x5f_0003 << 32
)

// LossFile is the loss history written beside a checkpoint (one float64 per step).
const LossFile = "losses.npy"

// Data holds the training pairs: N rows of x (XDim values each, row-major)
// and, for a conditional network, N rows of conditioning values (y then η,
// CondDim each).
type Data struct {
	X    []float64
	Cond []float64
	N    int
	// Augment, when non-nil, redraws the conditioning of a row each time the
	// row enters a batch: it writes row's conditioning (CondDim values) into
	// cond using rng, a stream that depends only on (Config.Seed, step), so
	// runs stay reproducible and resumable. It is called from one goroutine at
	// a time. Config.Augment must name it (recorded with checkpoints). The
	// masked flux data use it to draw a fresh sensor mask per visit.
	Augment func(rng *rand.Rand, row int, cond []float64)
}

// MaxDataMagnitude is the largest |value| Data.Validate accepts in x or the
// conditioning.
const MaxDataMagnitude = 1e15

// Validate checks the data against a network configuration.
func (d Data) Validate(cfg scorenet.Config) error {
	if d.N < 1 {
		return fmt.Errorf("train: data has %d rows, need ≥ 1", d.N)
	}
	if len(d.X) != d.N*cfg.XDim {
		return fmt.Errorf("train: x has %d values, want rows·x_dim = %d·%d", len(d.X), d.N, cfg.XDim)
	}
	if len(d.Cond) != d.N*cfg.CondDim() {
		return fmt.Errorf("train: conditioning has %d values, want rows·cond_dim = %d·%d (y_dim %d + mask_dim %d)",
			len(d.Cond), d.N, cfg.CondDim(), cfg.YDim, cfg.MaskDim)
	}
	for _, c := range []struct {
		name string
		a    []float64
	}{{"x", d.X}, {"conditioning", d.Cond}} {
		for i, v := range c.a {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("train: %s value %d (row %d) is %v", c.name, i, i/max(1, len(c.a)/d.N), v)
			}
			// The network runs in float32 (max ~3e38) and its loss squares
			// values: beyond 1e15 training cannot work. Say so instead of a
			// later "diverged" at the first step.
			if math.Abs(v) > MaxDataMagnitude {
				return fmt.Errorf("train: %s value %d (row %d) is %g; the network computes in float32: scale the data (|values| ≤ %g; the flux and toy data sets are scaled to about [-1, 1])",
					c.name, i, i/max(1, len(c.a)/d.N), v, MaxDataMagnitude)
			}
		}
	}
	return nil
}

// Result reports a training call.
type Result struct {
	// StartStep is the step count the call started from (> 0 when resuming).
	StartStep int64
	// Steps is the step count reached.
	Steps int64
	// TotalSteps is Epochs·⌊N/B⌋.
	TotalSteps int64
	// StepsPerEpoch is ⌊N/B⌋ (B = min(batch size, N)).
	StepsPerEpoch int
	// Losses holds the loss of every step run by this call (Steps − StartStep values).
	Losses []float64
	// Elapsed is the wall time spent in the training loop.
	Elapsed time.Duration
}

// Train runs denoising score matching (theory eq. 61) on net under the forward
// process proc. It continues from the step count and optimiser state stored in
// net (a network returned by scorenet.Load from a checkpoint of an earlier
// call resumes exactly where it stopped) until Epochs·⌊N/B⌋ steps are done.
// When ctx is cancelled it stops after the current graph execution, saves a
// checkpoint (if CheckpointDir is set) and returns the partial Result with
// ctx's error.
func Train(ctx context.Context, net *scorenet.Net, proc sde.Process, data Data, cfg Config) (*Result, error) {
	if net == nil || proc == nil {
		return nil, errors.New("train: nil network or process")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ncfg := net.Config()
	if err := data.Validate(ncfg); err != nil {
		return nil, err
	}
	if (data.Augment != nil) != (cfg.Augment != "") {
		return nil, fmt.Errorf("train: Config.Augment %q and Data.Augment (set: %v) must come together", cfg.Augment, data.Augment != nil)
	}
	T := proc.T()
	if !(T > 0) || math.IsInf(T, 0) {
		return nil, fmt.Errorf("train: process %q has invalid final time %v", proc.Name(), T)
	}
	t0, logLo := 0.0, 0.0
	if cfg.TimeSampling == TimeLogMix {
		if cfg.TimeEps >= T {
			return nil, fmt.Errorf("train: time eps %v must be below the final time %v", cfg.TimeEps, T)
		}
		logLo = cfg.TimeEps
	}
	if cfg.TimeSampling == TimeUniformEps {
		if cfg.TimeEps >= T {
			return nil, fmt.Errorf("train: time eps %v must be below the final time %v", cfg.TimeEps, T)
		}
		t0 = cfg.TimeEps
	}
	engine, err := net.Engine()
	if err != nil {
		return nil, err
	}
	st, err := newState(net, cfg)
	if err != nil {
		return nil, err
	}
	if err := checkResume(net, cfg, st.step); err != nil {
		return nil, err
	}
	if engine == scorenet.EngineHost {
		if st.host, err = newHostStep(st); err != nil {
			return nil, err
		}
		// Every return leaves the trained values in the model (the normal
		// end and save check the error; this covers the error returns).
		defer func() { _ = st.flush() }()
	}
	B := min(cfg.BatchSize, data.N)
	spe := data.N / B
	total := int64(cfg.Epochs) * int64(spe)
	st.total = total
	res := &Result{StartStep: st.step, Steps: st.step, TotalSteps: total, StepsPerEpoch: spe}

	var history []float64 // full history for LossFile
	if cfg.CheckpointDir != "" && st.step > 0 {
		if a, err := arrayio.ReadNPY(filepath.Join(cfg.CheckpointDir, LossFile)); err == nil && int64(len(a.Data)) >= st.step {
			history = a.Data[:st.step]
		}
	}
	save := func() error {
		if cfg.CheckpointDir == "" {
			return nil
		}
		if err := st.flush(); err != nil {
			return err
		}
		if err := st.syncStep(); err != nil {
			return err
		}
		if history != nil || st.step == int64(len(res.Losses)) {
			h := append(append([]float64{}, history...), res.Losses...)
			if err := arrayio.WriteNPY(filepath.Join(cfg.CheckpointDir, LossFile), arrayio.Vector(h)); err != nil {
				return fmt.Errorf("train: %w", err)
			}
		}
		tj, _ := json.Marshal(cfg)
		sdeJSON := cfg.SDE
		if sdeJSON == nil {
			sdeJSON, _ = json.Marshal(map[string]any{"name": proc.Name(), "T": T})
		}
		extra := cfg.Extra
		if extra == nil {
			extra, _ = json.Marshal(map[string]any{"rows": data.N})
		}
		meta := scorenet.Meta{UseEMA: cfg.EMADecay > 0, Step: st.step, Seed: cfg.Seed, SDE: sdeJSON, Training: tj, Extra: extra}
		if err := net.Save(cfg.CheckpointDir, meta); err != nil {
			return fmt.Errorf("train: checkpoint: %w", err)
		}
		return nil
	}

	var bar *progressbar.ProgressBar
	if cfg.Progress != nil {
		bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(cfg.Progress),
			progressbar.OptionSetDescription("training"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("steps"),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetPredictTime(true),
		)
		_ = bar.Set64(st.step)
	}
	b := &batcher{data: data, cfg: ncfg, proc: proc, seed: cfg.Seed, B: B, spe: spe, t0: t0, T: T, logLo: logLo, epoch: -1}
	start := time.Now()
	running := math.NaN()
	for st.step < total {
		k := int(min(int64(cfg.StepsPerExec), total-st.step))
		losses, err := st.run(b, k, cfg)
		if err != nil {
			return res, err
		}
		for i, l := range losses {
			if math.IsNaN(l) || math.IsInf(l, 0) {
				return res, fmt.Errorf("train: loss is %v at step %d (diverged; lower the learning rate)", l, st.step+int64(i)+1)
			}
			if math.IsNaN(running) {
				running = l
			} else {
				running = 0.98*running + 0.02*l
			}
		}
		prev := st.step
		st.step += int64(k)
		res.Steps = st.step
		res.Losses = append(res.Losses, losses...)
		if bar != nil {
			bar.Describe(fmt.Sprintf("training (loss %.4g)", running))
			_ = bar.Set64(st.step)
		}
		if cfg.CheckpointEvery > 0 && st.step < total && st.step/int64(cfg.CheckpointEvery) > prev/int64(cfg.CheckpointEvery) {
			if err := save(); err != nil {
				return res, err
			}
		}
		if ctx.Err() != nil {
			res.Elapsed = time.Since(start)
			if err := save(); err != nil {
				return res, err
			}
			if cfg.Progress != nil {
				fmt.Fprintf(cfg.Progress, "\ninterrupted at step %d of %d (running loss %.4g)", st.step, total, running)
				if cfg.CheckpointDir != "" {
					fmt.Fprintf(cfg.Progress, "; checkpoint in %s", cfg.CheckpointDir)
				}
				fmt.Fprintln(cfg.Progress)
			}
			return res, ctx.Err()
		}
	}
	res.Elapsed = time.Since(start)
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintf(cfg.Progress, "\ntrained steps %d–%d in %s (running loss %.4g)\n",
			res.StartStep+1, st.step, res.Elapsed.Round(time.Millisecond), running)
	}
	if err := st.flush(); err != nil {
		return res, err
	}
	if err := st.syncStep(); err != nil {
		return res, err
	}
	return res, save()
}

// checkResume refuses to continue a saved run with settings that would not
// reproduce the uninterrupted run.
func checkResume(net *scorenet.Net, cfg Config, step int64) error {
	m := net.Meta()
	if m == nil || step == 0 || len(m.Training) == 0 {
		return nil
	}
	var old Config
	if err := json.Unmarshal(m.Training, &old); err != nil {
		return fmt.Errorf("train: cannot read the saved training configuration: %w", err)
	}
	switch {
	case old.Seed != cfg.Seed:
		return fmt.Errorf("train: resuming a run saved with seed %d using seed %d", old.Seed, cfg.Seed)
	case old.BatchSize != cfg.BatchSize:
		return fmt.Errorf("train: resuming a run saved with batch size %d using batch size %d", old.BatchSize, cfg.BatchSize)
	case (old.EMADecay > 0) != (cfg.EMADecay > 0):
		return fmt.Errorf("train: resuming a run saved with EMA decay %v using %v", old.EMADecay, cfg.EMADecay)
	case old.Augment != cfg.Augment:
		return fmt.Errorf("train: resuming a run saved with augmentation %q using %q", old.Augment, cfg.Augment)
	}
	return nil
}

// batcher produces the host-side inputs of each step from seeded streams that
// depend only on (seed, epoch) for the shuffle and (seed, step) for t and z.
type batcher struct {
	data  Data
	cfg   scorenet.Config
	proc  sde.Process
	seed  uint64
	B     int
	spe   int
	t0, T float64
	logLo float64 // > 0: TimeLogMix with this lower bound

	epoch int64
	perm  []int
	aug   []float64 // one row of Data.Augment's conditioning
}

// fill writes step j's inputs into xt, cond, t, s, z (float32, feature-major:
// component d of batch row i at d·B + i).
func (b *batcher) fill(j int64, xt, cond, t, s, z []float32) {
	e := j / int64(b.spe)
	if e != b.epoch {
		if b.perm == nil {
			b.perm = make([]int, b.data.N)
		}
		for i := range b.perm {
			b.perm[i] = i
		}
		rng := rand.New(rand.NewPCG(b.seed, streamShuffle^uint64(e)))
		rng.Shuffle(len(b.perm), func(i, k int) { b.perm[i], b.perm[k] = b.perm[k], b.perm[i] })
		b.epoch = e
	}
	p := int(j % int64(b.spe))
	rows := b.perm[p*b.B : (p+1)*b.B]
	rng := rand.New(rand.NewPCG(b.seed, streamNoise^uint64(j)))
	var ar *rand.Rand // Data.Augment's stream of step j
	xd, cd := b.cfg.XDim, b.cfg.CondDim()
	for i, r := range rows {
		ti := b.time(rng.Float64())
		mi, si := b.proc.Mean(ti), b.proc.Std(ti)
		t[i], s[i] = float32(ti), float32(si)
		for d := range xd {
			zi := rng.NormFloat64()
			z[d*b.B+i] = float32(zi)
			xt[d*b.B+i] = float32(mi*b.data.X[r*xd+d] + si*zi) // theory eq. 31
		}
		src := b.data.Cond[r*cd : (r+1)*cd]
		if b.data.Augment != nil {
			if ar == nil {
				ar = rand.New(rand.NewPCG(b.seed, streamAugment^uint64(j)))
			}
			if len(b.aug) != cd {
				b.aug = make([]float64, cd)
			}
			b.data.Augment(ar, r, b.aug)
			src = b.aug
		}
		for d := range cd {
			cond[d*b.B+i] = float32(src[d])
		}
	}
}

// time maps a U(0,1) draw u to a training time: t0 + (T − t0)·u, or for
// TimeLogMix uniform on [0, T] when u < ½ and log-uniform on [logLo, T]
// otherwise (theory eq. 121).
func (b *batcher) time(u float64) float64 {
	if b.logLo == 0 {
		return b.t0 + (b.T-b.t0)*u
	}
	if u < 0.5 {
		return b.T * 2 * u
	}
	lo := math.Log(b.logLo)
	return math.Exp(lo + (2*u-1)*(math.Log(b.T)-lo))
}

// state holds the variables and compiled step graph of a training run.
type state struct {
	net               *scorenet.Net
	params, m, v, ema []*model.Variable
	step              int64
	total             int64 // steps of the whole run (the learning-rate schedule's horizon)
	exec              *model.Exec
	host              *hostStep // non-nil: the host engine runs the steps (host.go)
}

// flush writes the host engine's values into the variables (no-op for the graph engine).
func (st *state) flush() error {
	if st.host == nil {
		return nil
	}
	return st.host.flush(st)
}

// lrFactor is the learning-rate multiplier of step j (0-based) of total:
// 1 for LRConstant, ½(1 + cos(π j/total)) for LRCosine (theory §4.2).
func lrFactor(schedule string, j, total int64) float64 {
	if schedule != LRCosine || total < 1 {
		return 1
	}
	return 0.5 * (1 + math.Cos(math.Pi*float64(j)/float64(total)))
}

func newState(net *scorenet.Net, cfg Config) (*state, error) {
	params, err := net.Vars(scorenet.ParamScope)
	if err != nil {
		return nil, err
	}
	st := &state{net: net, params: params}
	store := net.Store()
	if v := store.GetVariable(stepVar); v != nil {
		t, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("train: reading step count: %w", err)
		}
		step, ok := t.Value().(int64)
		if !ok || step < 0 {
			return nil, fmt.Errorf("train: invalid step count %v in the model", t.Value())
		}
		st.step = step
	}
	mk := func(scope string, init func(p *model.Variable) (*tensors.Tensor, error)) ([]*model.Variable, error) {
		out := make([]*model.Variable, len(params))
		for i, p := range params {
			path := scope + p.Path()[len(scorenet.ParamScope):]
			if v := store.GetVariable(path); v != nil {
				if !v.Shape().Equal(p.Shape()) {
					return nil, fmt.Errorf("train: variable %s has shape %s, want %s", path, v.Shape(), p.Shape())
				}
				out[i] = v.SetTrainable(false)
				continue
			}
			if st.step > 0 {
				return nil, fmt.Errorf("train: the model is at step %d but has no %s: cannot resume without the optimiser state", st.step, path)
			}
			t, err := init(p)
			if err != nil {
				return nil, err
			}
			v, err := store.CreateVariable(path, t)
			if err != nil {
				return nil, fmt.Errorf("train: %w", err)
			}
			out[i] = v.SetTrainable(false)
		}
		return out, nil
	}
	zeros := func(p *model.Variable) (*tensors.Tensor, error) {
		return tensors.FromShape(p.Shape()), nil
	}
	if st.m, err = mk(adamMScope, zeros); err != nil {
		return nil, err
	}
	if st.v, err = mk(adamVScope, zeros); err != nil {
		return nil, err
	}
	if cfg.EMADecay > 0 {
		clone := func(p *model.Variable) (*tensors.Tensor, error) {
			t, err := p.Value()
			if err != nil {
				return nil, err
			}
			data, err := tensors.CopyFlatData[float32](t)
			if err != nil {
				return nil, err
			}
			return tensors.FromFlatDataAndDimensions(data, p.Shape().Dimensions...), nil
		}
		if st.ema, err = mk(scorenet.EMAScope, clone); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// syncStep stores the host step count in the model's step variable.
func (st *state) syncStep() error {
	store := st.net.Store()
	v := store.GetVariable(stepVar)
	if v == nil {
		_, err := store.CreateVariable(stepVar, tensors.FromValue(st.step))
		return err
	}
	return v.SetValue(tensors.FromValue(st.step))
}

// run executes k optimiser steps (st.step+1 … st.step+k) in one graph
// execution and returns their losses.
func (st *state) run(b *batcher, k int, cfg Config) ([]float64, error) {
	if st.host != nil {
		return st.host.run(st, b, k, cfg)
	}
	if st.exec == nil {
		e, err := model.NewExec(st.net.Backend(), st.net.Store(), st.graphFn(cfg))
		if err != nil {
			return nil, fmt.Errorf("train: building the step graph: %w", err)
		}
		st.exec = e
	}
	ncfg := st.net.Config()
	B, xd, cd := b.B, ncfg.XDim, ncfg.CondDim()
	xt := make([]float32, k*B*xd)
	z := make([]float32, k*B*xd)
	cond := make([]float32, k*B*cd)
	tt := make([]float32, k*B)
	s := make([]float32, k*B)
	c1 := make([]float32, k)
	c2 := make([]float32, k)
	for i := range k {
		j := st.step + int64(i)
		b.fill(j, xt[i*B*xd:(i+1)*B*xd], cond[i*B*cd:(i+1)*B*cd], tt[i*B:(i+1)*B], s[i*B:(i+1)*B], z[i*B*xd:(i+1)*B*xd])
		n := float64(j + 1) // Adam bias corrections, PyTorch form
		c1[i] = float32(lrFactor(cfg.LRSchedule, j, st.total) / (1 - math.Pow(cfg.Beta1, n)))
		c2[i] = float32(1 / math.Sqrt(1-math.Pow(cfg.Beta2, n)))
	}
	args := []any{tensors.FromFlatDataAndDimensions(xt, k, xd, B)}
	if cd > 0 {
		args = append(args, tensors.FromFlatDataAndDimensions(cond, k, cd, B))
	}
	args = append(args,
		tensors.FromFlatDataAndDimensions(tt, k, 1, B),
		tensors.FromFlatDataAndDimensions(s, k, 1, B),
		tensors.FromFlatDataAndDimensions(z, k, xd, B),
		tensors.FromFlatDataAndDimensions(c1, k),
		tensors.FromFlatDataAndDimensions(c2, k))
	out, err := st.exec.Exec(args...)
	if err != nil {
		return nil, fmt.Errorf("train: step execution: %w", err)
	}
	lt := out[0]
	defer func() { _ = lt.FinalizeAll() }()
	l32, err := tensors.CopyFlatData[float32](lt)
	if err != nil {
		return nil, err
	}
	losses := make([]float64, k)
	for i, v := range l32 {
		losses[i] = float64(v)
	}
	return losses, nil
}

// graphFn builds K unrolled steps of loss (theory eq. 61), gradient and Adam
// update (and the EMA update), with K taken from the input shapes.
func (st *state) graphFn(cfg Config) func(*model.Scope, []*Node) *Node {
	ncfg := st.net.Config()
	lr, b1, b2, eps, ema := cfg.LearningRate, cfg.Beta1, cfg.Beta2, cfg.AdamEps, cfg.EMADecay
	return func(_ *model.Scope, in []*Node) *Node {
		g := in[0].Graph()
		xt := in[0]
		i := 1
		var cond *Node
		if ncfg.CondDim() > 0 {
			cond = in[1]
			i = 2
		}
		tt, s, z, c1, c2 := in[i], in[i+1], in[i+2], in[i+3], in[i+4]
		K := xt.Shape().Dimensions[0]
		nodes := func(vs []*model.Variable) []*Node {
			out := make([]*Node, len(vs))
			for i, v := range vs {
				out[i] = v.NodeValue(g)
			}
			return out
		}
		p, m, v := nodes(st.params), nodes(st.m), nodes(st.v)
		var e []*Node
		if ema > 0 {
			e = nodes(st.ema)
		}
		at := func(x *Node, k int) *Node {
			if x == nil {
				return nil
			}
			return Squeeze(SliceAxis(x, 0, AxisElem(k)), 0)
		}
		losses := make([]*Node, K)
		for k := range K {
			sk := at(s, k)
			out, trace := scorenet.ApplyTrace(ncfg, p, at(xt, k), at(cond, k), at(tt, k))
			var r, dOut *Node
			if ncfg.NoiseOutput() {
				// score = −ε̂/s (theory eq. 120): s·score + z = z − ε̂; ∂loss/∂ε̂ = −2·r / (rows·x_dim).
				r = Sub(at(z, k), out)
				dOut = MulScalar(r, -2/float64(r.Shape().Size()))
			} else {
				r = Add(Mul(sk, out), at(z, k))
				// ∂loss/∂out = 2·s·r / (rows·x_dim); hand-written backward (checked against autodiff in scorenet).
				dOut = MulScalar(Mul(sk, r), 2/float64(r.Shape().Size()))
			}
			losses[k] = ReduceAllMean(Square(r)) // theory eq. 61
			grads := trace.Backward(dOut)
			lrk := MulScalar(at(c1, k), lr)
			c2k := at(c2, k)
			for i := range p {
				gi := grads[i]
				m[i] = Add(MulScalar(m[i], b1), MulScalar(gi, 1-b1))
				v[i] = Add(MulScalar(v[i], b2), MulScalar(Square(gi), 1-b2))
				den := AddScalar(Mul(Sqrt(v[i]), c2k), eps)
				p[i] = Sub(p[i], Mul(lrk, Div(m[i], den)))
				if ema > 0 {
					e[i] = Add(MulScalar(e[i], ema), MulScalar(p[i], 1-ema))
				}
			}
		}
		set := func(vs []*model.Variable, ns []*Node) {
			for i, vv := range vs {
				vv.SetNodeValue(ns[i])
			}
		}
		set(st.params, p)
		set(st.m, m)
		set(st.v, v)
		if ema > 0 {
			set(st.ema, e)
		}
		return Stack(losses, 0)
	}
}
