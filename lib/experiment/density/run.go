package density

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/gomlx/compute"

	"github.com/pdediff/pdediff/datasets/toy"
	"github.com/pdediff/pdediff/lib/experiment"
	"github.com/pdediff/pdediff/lib/model"
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
	Seed      uint64  `json:"seed"`
	Steps     int64   `json:"steps"`
	FinalLoss float64 `json:"final_loss"`
	// Resumed and Seconds depend on the folder's history and the machine:
	// kept out of committed files.
	Resumed bool    `json:"-"`
	Seconds float64 `json:"-"`
}

// TrainModel trains (or resumes, or reuses when complete) the conditional
// score network of one case × process into dir: training data are NTrain
// joint samples of the case (seeded), the net is S(x_t, y, t) with the
// preset's size, trained by denoising score matching (theory eq. 61).
func TrainModel(ctx context.Context, backend compute.Backend, c toy.Case, proc sde.Config, p Preset, seed uint64, dir string, progress io.Writer) (*model.Model, TrainInfo, error) {
	if err := p.Validate(); err != nil {
		return nil, TrainInfo{}, err
	}
	x, y, err := toy.Sample(c, p.NTrain, experiment.SubSeed(seed, "data", string(c)))
	if err != nil {
		return nil, TrainInfo{}, err
	}
	return TrainOn(ctx, backend, x, y, string(c), proc, p, seed, dir, progress)
}

// TrainOn is TrainModel on given training pairs (x[i], y[i]); label names the
// data in the model's description.
func TrainOn(ctx context.Context, backend compute.Backend, x, y []float64, label string, proc sde.Config, p Preset, seed uint64, dir string, progress io.Writer) (*model.Model, TrainInfo, error) {
	pl := processLabel(proc)
	info := TrainInfo{Case: label, Process: pl, Seed: seed}
	if len(x) != len(y) || len(x) == 0 {
		return nil, info, fmt.Errorf("density: training data: %d x values and %d y values", len(x), len(y))
	}
	if err := p.Validate(); err != nil {
		return nil, info, err
	}
	run, _ := json.Marshal(map[string]any{"experiment": "density", "preset": p, "seed": seed})
	dinfo, _ := json.Marshal(map[string]any{"case": label})
	spec := model.Spec{
		Process: proc,
		Net:     scorenet.Config{HiddenLayers: p.HiddenLayers, Width: p.Width},
		Train: train.Config{Epochs: p.Epochs, BatchSize: p.BatchSize, LearningRate: p.LR, EMADecay: p.EMADecay,
			Seed: experiment.SubSeed(seed, "train", label, pl)},
		Data:     model.Data{Name: "toy/" + label, XDim: 1, YDim: 1, Info: dinfo},
		InitSeed: experiment.SubSeed(seed, "init", label, pl),
		Run:      run,
	}
	m, mi, err := model.TrainOrResume(ctx, backend, dir, spec, train.Data{X: x, Cond: y, N: len(x)}, progress)
	info.Steps, info.FinalLoss, info.Resumed, info.Seconds = mi.Steps, mi.FinalLoss, mi.Resumed, mi.Seconds
	if err != nil {
		return nil, info, fmt.Errorf("density: %s/%s: %w", label, pl, err)
	}
	return m, info, nil
}

// SampleResult is the outcome of one conditional sampling run.
type SampleResult struct {
	// X holds n rows of the model's x dimension.
	X   []float64 `json:"-"`
	NFE int       `json:"nfe"`
	// Seconds is the wall time (kept out of committed files).
	Seconds float64 `json:"-"`
}

// Sample draws n samples of x | y from the model with the sampler of spec
// (validated before any work). y has the model's y dimension.
func Sample(m *model.Model, y []float64, n int, spec sample.Spec, seed uint64, progress io.Writer) (SampleResult, error) {
	if err := spec.Validate(); err != nil {
		return SampleResult{}, err
	}
	if len(y) != m.Data.YDim {
		return SampleResult{}, fmt.Errorf("density: the model takes y of dimension %d, got %d values", m.Data.YDim, len(y))
	}
	score, err := m.ScoreFunc(y)
	if err != nil {
		return SampleResult{}, err
	}
	start := time.Now()
	r, err := spec.Run(m.Process, score, sample.Options{N: n, D: m.Data.XDim, Seed: seed, Progress: progress})
	if err != nil {
		return SampleResult{}, fmt.Errorf("density: sampler %s at y = %v: %w", spec.Name, y, err)
	}
	return SampleResult{X: r.X, NFE: r.NFE, Seconds: time.Since(start).Seconds()}, nil
}

// Distance holds the Sinkhorn distance between generated and reference
// samples by both methods.
type Distance struct {
	// POT is POT 0.8.2's sinkhorn_knopp value (1000-iteration cap), as the
	// paper; it is a result only when POTStatus is "converged" or
	// "max_iterations" (the paper's cap). For "underflow" (the kernel
	// exp(−M/reg) vanished on a row: samples far from the reference) it is 0
	// and not a distance.
	POT           float64   `json:"pot"`
	POTIterations int       `json:"pot_iterations"`
	POTConverged  bool      `json:"pot_converged"`
	POTStatus     ot.Status `json:"pot_status"`
	// Log is the converged log-domain value.
	Log           float64 `json:"log"`
	LogIterations int     `json:"log_iterations"`
	LogConverged  bool    `json:"log_converged"`
}

// POTValid reports whether POT is a distance (not an underflow).
func (d Distance) POTValid() bool {
	return d.POTStatus == ot.StatusConverged || d.POTStatus == ot.StatusMaxIterations
}

// Evaluate computes the entropic OT distance (Euclidean cost) between
// generated and reference 1-D samples with both Sinkhorn methods. The POT
// method's kernel underflow is recorded in POTStatus (the paper's method
// cannot score samples far from the reference); a failure of the log-domain
// method, or a non-finite value of either, is an error, never a number.
func Evaluate(gen, ref []float64, reg float64) (Distance, error) {
	var d Distance
	pot, err := ot.Sinkhorn2(gen, ref, len(gen), len(ref), 1, ot.Options{Reg: reg, Method: ot.MethodPOT})
	if err != nil {
		return d, fmt.Errorf("density: POT Sinkhorn: %w", err)
	}
	if err := pot.Check(); err != nil && pot.Status != ot.StatusUnderflow {
		return d, fmt.Errorf("density: POT Sinkhorn: %w", err)
	}
	lg, err := ot.Sinkhorn2Checked(gen, ref, len(gen), len(ref), 1, ot.Options{Reg: reg, Method: ot.MethodLog})
	if err != nil {
		return d, fmt.Errorf("density: log-domain Sinkhorn: %w", err)
	}
	d.POT, d.POTIterations, d.POTConverged, d.POTStatus = pot.Value, pot.Iterations, pot.Converged, pot.Status
	if pot.Status == ot.StatusUnderflow {
		d.POT = 0
	}
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

// LoadModelOf loads a model folder of this benchmark: any model with a
// 1-D y and no mask (Sample and the figures condition on one y value).
func LoadModelOf(backend compute.Backend, dir string) (*model.Model, error) {
	m, err := model.Load(backend, dir)
	if err != nil {
		return nil, err
	}
	if d := m.Data; d.YDim != 1 || d.MaskDim != 0 {
		return nil, fmt.Errorf("density: %s is a model of %s (y %d, mask %d), not of a Section 6.1 density (y of dimension 1, no mask)", dir, d.Name, d.YDim, d.MaskDim)
	}
	return m, nil
}
