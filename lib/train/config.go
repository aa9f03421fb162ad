// Package train fits a score network (lib/scorenet) to paired samples (x, y)
// by conditional denoising score matching with the s(t)² weighting of theory
// eq. 61:
//
//	L(θ) = mean over the batch and the components of x of
//	       ‖ s(t)·S_θ(m(t)·x0 + s(t)·z, y, t) + z ‖²,   z ~ N(0, I),
//
// with Adam (theory §4.2). The steps run on the engine scorenet.Net.Engine
// selects: the host engine (lib/hostmlp, the default with the pure-Go backend
// on AVX-512 CPUs) or GoMLX graphs; both give the same results up to float32
// rounding. The forward process enters only through m(t) and s(t),
// evaluated on the host (lib/sde Process); t and z are drawn on the host from
// seeded PCG streams, so the same seed gives the same loss curve and weights on
// the same engine and backend, independently of how many optimiser steps run per graph
// execution (Config.StepsPerExec), of the number of cores (host engine) and of
// interruptions and resumes.
//
// Independent models (e.g. the VE and the VP model of one data set) can be
// trained at the same time by calling Train from several goroutines on the
// shared backend; each gives exactly its sequential result.
package train

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
)

// Learning-rate schedules for Config.LRSchedule.
const (
	// LRConstant keeps the learning rate fixed (the paper's).
	LRConstant = "constant"
	// LRCosine decays it as ½(1 + cos(π j/J)) over the J steps of the run,
	// so the last steps average out Adam's step noise.
	LRCosine = "cosine"
)

// Time-sampling schemes for Config.TimeSampling.
const (
	// TimeUniform draws t ~ U(0, T) (theory eqs. 60-61; safe because s(t) multiplies the output).
	TimeUniform = "uniform"
	// TimeUniformEps draws t ~ U(eps, T) with eps = Config.TimeEps.
	TimeUniformEps = "uniform-eps"
	// TimeLogMix draws t from an equal mixture of U(0, T) and a log-uniform
	// law on [TimeEps, T] (theory eq. 121): half of the batch at small times,
	// where a narrow posterior takes its shape. Any positive time density
	// leaves the minimiser of the loss (61) unchanged; only its weighting.
	TimeLogMix = "log-mix"
)

// Defaults used by Config.WithDefaults.
const (
	DefaultBatchSize    = 1000
	DefaultLearningRate = 1e-3
	DefaultBeta1        = 0.9
	DefaultBeta2        = 0.999
	DefaultAdamEps      = 1e-8
	DefaultTimeEps      = 1e-3
	DefaultStepsPerExec = 8
)

// Config configures a training run. Zero numeric fields take the defaults of
// WithDefaults.
type Config struct {
	// Epochs is the number of passes over the data (required, ≥ 1). With N rows
	// and batch size B an epoch has ⌊N/B⌋ steps: rows are reshuffled every epoch
	// and the N mod B rows left over by the shuffle are not used in that epoch.
	// When N < B the batch is the whole data set (one step per epoch).
	Epochs int `json:"epochs"`
	// BatchSize is the number of rows per optimiser step (default 1000).
	BatchSize int `json:"batch_size"`
	// LearningRate is Adam's constant step size (default 1e-3).
	LearningRate float64 `json:"learning_rate"`
	// Beta1, Beta2 and AdamEps are Adam's moment decays and ε (defaults 0.9,
	// 0.999, 1e-8, PyTorch's).
	Beta1   float64 `json:"beta1"`
	Beta2   float64 `json:"beta2"`
	AdamEps float64 `json:"adam_eps"`
	// Seed selects the shuffles, t and z (and nothing else: the initial weights
	// come from the seed given to scorenet.New).
	Seed uint64 `json:"seed"`
	// EMADecay, when > 0, keeps an exponential moving average of the weights
	// (ema ← d·ema + (1−d)·θ after every step); saved models then sample with it.
	EMADecay float64 `json:"ema_decay"`
	// LRSchedule is "" or LRConstant (the paper's) or LRCosine. The horizon
	// is Epochs, so a run extended to more epochs follows a new schedule.
	LRSchedule string `json:"lr_schedule,omitempty"`
	// TimeSampling is TimeUniform (default, t ~ U(0,T)), TimeUniformEps (t ~
	// U(TimeEps,T)) or TimeLogMix (half U(0,T), half log-uniform on [TimeEps,T]).
	TimeSampling string `json:"time_sampling"`
	// TimeEps is the lower time bound of TimeUniformEps and TimeLogMix (default 1e-3).
	TimeEps float64 `json:"time_eps"`
	// Augment names Data.Augment ("" = none); it is recorded with checkpoints,
	// and a run is only resumed with the same name.
	Augment string `json:"augment,omitempty"`
	// StepsPerExec is the number K of optimiser steps unrolled in one graph
	// execution (default 8). Any K gives the same result up to float rounding;
	// larger K amortises the backend's per-execution overhead but compiles a
	// larger graph. The last execution of a run may have fewer steps (one more
	// compilation).
	StepsPerExec int `json:"steps_per_exec"`
	// CheckpointDir, when set, is the model folder (scorenet.Save) written at the
	// end, every CheckpointEvery steps and on interruption; losses.npy beside it
	// holds the loss history.
	CheckpointDir string `json:"checkpoint_dir,omitempty"`
	// CheckpointEvery saves a checkpoint at the end of the first graph execution
	// at or after every multiple of this many steps (0 = only at the end).
	CheckpointEvery int `json:"checkpoint_every"`
	// SDE is the forward-process configuration recorded in the sidecar (opaque).
	SDE json.RawMessage `json:"-"`
	// Extra is any other run information recorded in the sidecar (opaque).
	Extra json.RawMessage `json:"-"`
	// Progress, when non-nil, receives a progress bar with the running loss.
	Progress io.Writer `json:"-"`
}

// WithDefaults fills the zero fields of c with the defaults.
func (c Config) WithDefaults() Config {
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.LearningRate == 0 {
		c.LearningRate = DefaultLearningRate
	}
	if c.Beta1 == 0 {
		c.Beta1 = DefaultBeta1
	}
	if c.Beta2 == 0 {
		c.Beta2 = DefaultBeta2
	}
	if c.AdamEps == 0 {
		c.AdamEps = DefaultAdamEps
	}
	if c.TimeSampling == "" {
		c.TimeSampling = TimeUniform
	}
	if c.TimeEps == 0 {
		c.TimeEps = DefaultTimeEps
	}
	if c.StepsPerExec == 0 {
		c.StepsPerExec = DefaultStepsPerExec
	}
	return c
}

// Validate reports the first invalid field (after defaults).
func (c Config) Validate() error {
	c = c.WithDefaults()
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case c.Epochs < 1:
		return fmt.Errorf("train: epochs must be ≥ 1, got %d", c.Epochs)
	case c.BatchSize < 1:
		return fmt.Errorf("train: batch size must be ≥ 1, got %d", c.BatchSize)
	case !finite(c.LearningRate) || c.LearningRate <= 0:
		return fmt.Errorf("train: learning rate must be finite and > 0, got %v", c.LearningRate)
	case !(c.Beta1 > 0 && c.Beta1 < 1) || !(c.Beta2 > 0 && c.Beta2 < 1):
		return fmt.Errorf("train: Adam betas must lie in (0, 1), got %v, %v", c.Beta1, c.Beta2)
	case !finite(c.AdamEps) || c.AdamEps <= 0:
		return fmt.Errorf("train: Adam eps must be finite and > 0, got %v", c.AdamEps)
	case !(c.EMADecay >= 0 && c.EMADecay < 1):
		return fmt.Errorf("train: EMA decay must lie in [0, 1), got %v", c.EMADecay)
	case c.LRSchedule != "" && c.LRSchedule != LRConstant && c.LRSchedule != LRCosine:
		return fmt.Errorf("train: unknown learning-rate schedule %q (want %q or %q)", c.LRSchedule, LRConstant, LRCosine)
	case c.TimeSampling != TimeUniform && c.TimeSampling != TimeUniformEps && c.TimeSampling != TimeLogMix:
		return fmt.Errorf("train: unknown time sampling %q (want %q, %q or %q)", c.TimeSampling, TimeUniform, TimeUniformEps, TimeLogMix)
	case !finite(c.TimeEps) || c.TimeEps <= 0:
		return fmt.Errorf("train: time eps must be finite and > 0, got %v", c.TimeEps)
	case c.StepsPerExec < 1:
		return fmt.Errorf("train: steps per execution must be ≥ 1, got %d", c.StepsPerExec)
	case c.CheckpointEvery < 0:
		return fmt.Errorf("train: checkpoint interval must be ≥ 0, got %d", c.CheckpointEvery)
	}
	return nil
}
