package toybench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/gomlx/compute"
	"github.com/pdediff/pdediff/datasets/toy"
	"github.com/pdediff/pdediff/lib/ot"
	"github.com/pdediff/pdediff/lib/sample"
	"github.com/pdediff/pdediff/lib/scorenet"
	"github.com/pdediff/pdediff/lib/sde"
	"github.com/pdediff/pdediff/lib/train"
)

// TrainInfo summarises the training of one model.
type TrainInfo struct {
	Case      string  `json:"case"`
	Process   string  `json:"process"`
	Dir       string  `json:"dir"`
	Seed      uint64  `json:"seed"`
	Steps     int64   `json:"steps"`
	FinalLoss float64 `json:"final_loss"`
	Seconds   float64 `json:"seconds"`
	Resumed   bool    `json:"resumed"`
}

// TrainModel trains (or resumes, or reuses when complete) the conditional
// score network of one case × process into dir: training data are NTrain
// joint samples of the case (seeded), the net is S(x_t, y, t) with the
// preset's size, trained by denoising score matching (SPEC Eq 45).
func TrainModel(ctx context.Context, backend compute.Backend, c toy.Case, process string, p Preset, seed uint64, dir string, progress io.Writer) (*scorenet.Net, TrainInfo, error) {
	if err := p.Validate(); err != nil {
		return nil, TrainInfo{}, err
	}
	x, y, err := toy.Sample(c, p.NTrain, SubSeed(seed, "data", string(c)))
	if err != nil {
		return nil, TrainInfo{}, err
	}
	return TrainOn(ctx, backend, x, y, string(c), process, p, seed, dir, progress)
}

// TrainOn is TrainModel on given training pairs (x[i], y[i]); label names the
// data in the model's sidecar.
func TrainOn(ctx context.Context, backend compute.Backend, x, y []float64, label, process string, p Preset, seed uint64, dir string, progress io.Writer) (*scorenet.Net, TrainInfo, error) {
	info := TrainInfo{Case: label, Process: process, Dir: dir, Seed: seed}
	c := label
	if len(x) != len(y) || len(x) == 0 {
		return nil, info, fmt.Errorf("toybench: training data: %d x values and %d y values", len(x), len(y))
	}
	if err := p.Validate(); err != nil {
		return nil, info, err
	}
	proc, err := NewProcess(process)
	if err != nil {
		return nil, info, err
	}
	var net *scorenet.Net
	if scorenet.Exists(dir) {
		if net, err = scorenet.Load(backend, dir); err != nil {
			return nil, info, fmt.Errorf("toybench: resume from %s: %w (delete the folder to start over)", dir, err)
		}
		if got, want := net.Config(), netConfig(p); got != want {
			return nil, info, fmt.Errorf("toybench: %s holds a network %+v, preset %q needs %+v (use another --out or delete it)", dir, got, p.Name, want)
		}
		info.Resumed = true
	} else if net, err = scorenet.New(backend, netConfig(p), SubSeed(seed, "init", c, process)); err != nil {
		return nil, info, err
	}
	sdeJSON, _ := json.Marshal(sde.ToyConfig(process))
	extra, _ := json.Marshal(map[string]any{"case": c, "preset": p, "seed": seed})
	cfg := train.Config{
		Epochs: p.Epochs, BatchSize: p.BatchSize, LearningRate: p.LR, EMADecay: p.EMADecay,
		Seed: SubSeed(seed, "train", c, process), CheckpointDir: dir, CheckpointEvery: 5000,
		SDE: sdeJSON, Extra: extra, Progress: progress,
	}
	start := time.Now()
	res, err := train.Train(ctx, net, proc, train.Data{X: x, Cond: y, N: len(x)}, cfg)
	info.Seconds = time.Since(start).Seconds()
	if res != nil {
		info.Steps = res.Steps
		if n := len(res.Losses); n > 0 {
			info.FinalLoss = res.Losses[n-1]
		}
	}
	if err != nil {
		return nil, info, fmt.Errorf("toybench: training %s/%s: %w", c, process, err)
	}
	return net, info, nil
}

func netConfig(p Preset) scorenet.Config {
	return scorenet.Config{XDim: 1, YDim: 1, HiddenLayers: p.HiddenLayers, Width: p.Width}.WithDefaults()
}

// Sampler names accepted by Sample: "ode" (adaptive Dormand–Prince PF-ODE),
// "sde" (Euler–Maruyama, alpha = 1), "em" (Euler–Maruyama with a given alpha),
// "euler", "heun", "rk4" (fixed-step PF-ODE).
var Samplers = []string{"ode", "sde", "em", "euler", "heun", "rk4"}

// SampleSpec selects a sampler and its settings.
type SampleSpec struct {
	Sampler string  `json:"sampler"`
	Steps   int     `json:"steps,omitempty"`
	Alpha   float64 `json:"alpha,omitempty"`
	Rtol    float64 `json:"rtol,omitempty"`
	Atol    float64 `json:"atol,omitempty"`
	Seed    uint64  `json:"seed"`
}

// SampleResult is the outcome of one conditional sampling run.
type SampleResult struct {
	X       []float64 `json:"-"`
	NFE     int       `json:"nfe"`
	Seconds float64   `json:"seconds"`
}

// Sample draws n samples of x | y from the trained network with the reverse
// process of proc.
func Sample(proc sde.Process, net *scorenet.Net, y float64, n int, spec SampleSpec, progress io.Writer) (SampleResult, error) {
	score, err := net.ScoreFunc([]float64{y})
	if err != nil {
		return SampleResult{}, err
	}
	opts := sample.Options{N: n, D: 1, Seed: spec.Seed, Steps: spec.Steps, Rtol: spec.Rtol, Atol: spec.Atol, Progress: progress}
	var f func(sde.Process, sample.ScoreFunc, sample.Options) (sample.Result, error)
	switch spec.Sampler {
	case "ode":
		f = sample.DoPri5
	case "sde":
		opts.Alpha = 1
		f = sample.EulerMaruyama
	case "em":
		opts.Alpha = spec.Alpha
		f = sample.EulerMaruyama
	case "euler":
		f = sample.ODEEuler
	case "heun":
		f = sample.ODEHeun
	case "rk4":
		f = sample.ODERK4
	default:
		return SampleResult{}, fmt.Errorf("toybench: unknown sampler %q (want one of %v)", spec.Sampler, Samplers)
	}
	start := time.Now()
	r, err := f(proc, score, opts)
	if err != nil {
		return SampleResult{}, fmt.Errorf("toybench: sampler %s at y = %g: %w", spec.Sampler, y, err)
	}
	return SampleResult{X: r.X, NFE: r.NFE, Seconds: time.Since(start).Seconds()}, nil
}

// Distance holds the Sinkhorn distance between generated and reference
// samples by both methods.
type Distance struct {
	// POT is POT 0.8.2's sinkhorn_knopp value (1000-iteration cap), as the paper.
	POT           float64 `json:"pot"`
	POTIterations int     `json:"pot_iterations"`
	POTConverged  bool    `json:"pot_converged"`
	// Log is the converged log-domain value.
	Log           float64 `json:"log"`
	LogIterations int     `json:"log_iterations"`
	LogConverged  bool    `json:"log_converged"`
}

// Evaluate computes the entropic OT distance (Euclidean cost) between
// generated and reference 1-D samples with both Sinkhorn methods.
func Evaluate(gen, ref []float64, reg float64) (Distance, error) {
	var d Distance
	pot, err := ot.Sinkhorn2(gen, ref, len(gen), len(ref), 1, ot.Options{Reg: reg, Method: ot.MethodPOT})
	if err != nil {
		return d, err
	}
	lg, err := ot.Sinkhorn2(gen, ref, len(gen), len(ref), 1, ot.Options{Reg: reg, Method: ot.MethodLog})
	if err != nil {
		return d, err
	}
	d.POT, d.POTIterations, d.POTConverged = pot.Value, pot.Iterations, pot.Converged
	d.Log, d.LogIterations, d.LogConverged = lg.Value, lg.Iterations, lg.Converged
	return d, nil
}

// ModelDir is where RunTable2 keeps the model of one case × process.
func ModelDir(out string, c toy.Case, process string) string {
	return filepath.Join(out, "models", string(c)+"-"+process)
}

// SamplesPath is where RunTable2 keeps the samples of one cell.
func SamplesPath(out string, c toy.Case, process, sampler string) string {
	return filepath.Join(out, "samples", string(c)+"-"+process+"-"+sampler+".npz")
}

// LoadModel loads a model folder written by TrainModel together with the
// forward process recorded in its sidecar.
func LoadModel(backend compute.Backend, dir string) (*scorenet.Net, sde.Process, error) {
	net, err := scorenet.Load(backend, dir)
	if err != nil {
		return nil, nil, err
	}
	var cfg sde.Config
	if err := json.Unmarshal(net.Meta().SDE, &cfg); err != nil || cfg.Process == "" {
		return nil, nil, fmt.Errorf("toybench: %s: sidecar has no forward-process configuration (%v)", dir, err)
	}
	proc, err := sde.New(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("toybench: %s: %w", dir, err)
	}
	if c := net.Config(); c.XDim != 1 || c.YDim != 1 {
		return nil, nil, fmt.Errorf("toybench: %s: network has x_dim %d, y_dim %d; the toy benchmark needs 1 and 1", dir, c.XDim, c.YDim)
	}
	return net, proc, nil
}
