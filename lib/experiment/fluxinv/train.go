package fluxinv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/gomlx/compute"

	"github.com/pdediff/pdediff/datasets/flux"
	"github.com/pdediff/pdediff/lib/experiment"
	"github.com/pdediff/pdediff/lib/model"
	"github.com/pdediff/pdediff/lib/scorenet"
	"github.com/pdediff/pdediff/lib/sde"
	"github.com/pdediff/pdediff/lib/train"
)

// TrainSettings are the network and optimiser settings of one training run.
type TrainSettings struct {
	// Epochs, BatchSize and LR configure Adam (theory §4.2).
	Epochs    int     `json:"epochs"`
	BatchSize int     `json:"batch_size"`
	LR        float64 `json:"learning_rate"`
	// EMADecay > 0 keeps an exponential moving average of the weights, which
	// the model then samples with (0: off, the paper's setting).
	EMADecay float64 `json:"ema_decay"`
	// HiddenLayers × Width is the MLP (theory eq. 65).
	HiddenLayers int `json:"hidden_layers"`
	Width        int `json:"width"`
	// Output is the network's output parameterisation: "" (the paper's: the
	// score itself, theory eq. 65) or scorenet.OutputNoise (the noise, score
	// −ε̂/s(t), theory eq. 120).
	Output string `json:"output,omitempty"`
	// TimeSampling and TimeEps choose the training times of the loss (61)
	// (lib/train Config: "" = U(0, T), the paper's; "log-mix" = theory eq. 121).
	TimeSampling string  `json:"time_sampling,omitempty"`
	TimeEps      float64 `json:"time_eps,omitempty"`
	// LRSchedule is "" (constant, the paper's) or "cosine" (lib/train).
	LRSchedule string `json:"lr_schedule,omitempty"`
	// MaskResample (masked data only; ours, not the paper's) draws a fresh
	// Bernoulli(MaskProb) sensor mask for a training pair every time it enters
	// a batch, instead of the one mask the data set drew for it (theory §7.6):
	// the network then sees each flux field under many masks. The readings of
	// the off sensors are masked from the pair's full noisy readings.
	MaskResample bool `json:"mask_resample,omitempty"`
}

// netConfig is the network of the settings (dimensions come from the data).
func (ts TrainSettings) netConfig() scorenet.Config {
	return scorenet.Config{HiddenLayers: ts.HiddenLayers, Width: ts.Width, Output: ts.Output}
}

// trainConfig is the optimiser configuration of the settings with the given seed.
func (ts TrainSettings) trainConfig(seed uint64) train.Config {
	c := train.Config{Epochs: ts.Epochs, BatchSize: ts.BatchSize, LearningRate: ts.LR, EMADecay: ts.EMADecay,
		TimeSampling: ts.TimeSampling, TimeEps: ts.TimeEps, LRSchedule: ts.LRSchedule, Seed: seed}
	if ts.MaskResample {
		c.Augment = AugmentMaskResample
	}
	return c
}

// Validate checks the settings: epochs, batch size, learning rate, layers and
// width > 0 (zero would take lib/train's or scorenet's defaults silently),
// then the output, time sampling and schedule names as scorenet and lib/train
// check them.
func (ts TrainSettings) Validate() error {
	switch {
	case ts.Epochs < 1 || ts.BatchSize < 1 || !(ts.LR > 0):
		return fmt.Errorf("fluxinv: training settings: epochs, batch_size and learning_rate must be > 0, got %+v", ts)
	case ts.HiddenLayers < 1 || ts.Width < 1:
		return fmt.Errorf("fluxinv: training settings: hidden_layers and width must be ≥ 1, got %+v", ts)
	}
	nc := ts.netConfig()
	nc.XDim = D
	if err := nc.Validate(); err != nil {
		return fmt.Errorf("fluxinv: training settings: %w", err)
	}
	if err := ts.trainConfig(0).WithDefaults().Validate(); err != nil {
		return fmt.Errorf("fluxinv: training settings: %w", err)
	}
	return nil
}

// TrainResult summarises the training of one model.
type TrainResult struct {
	// Dir is the model folder and Process its process label.
	Dir     string `json:"dir"`
	Process string `json:"process"`
	// Seed is the seed given to Train.
	Seed uint64 `json:"seed"`
	// Steps is the optimiser steps taken in all and FinalLoss the last loss.
	Steps     int64   `json:"steps"`
	FinalLoss float64 `json:"final_loss"`
	// Resumed is true when the call continued a saved model.
	Resumed bool `json:"resumed"`
	// Seconds is the wall time (kept out of committed files).
	Seconds float64 `json:"-"`
}

// TrainData returns the training rows of a data set: x = scaled flux,
// conditioning = scaled readings (off sensors at the off value) followed by
// the mask for a masked data set (theory §7.6).
func TrainData(ds *flux.Dataset) train.Data {
	s := ds.Train
	if !ds.Meta.Masks {
		return train.Data{X: s.QScaled, Cond: s.Readings, N: s.N}
	}
	cond := make([]float64, 0, s.N*2*D)
	for i := 0; i < s.N; i++ {
		cond = append(cond, s.Readings[i*D:(i+1)*D]...)
		cond = append(cond, s.Mask[i*D:(i+1)*D]...)
	}
	return train.Data{X: s.QScaled, Cond: cond, N: s.N}
}

// AugmentMaskResample is the train.Config.Augment name of
// TrainSettings.MaskResample.
const AugmentMaskResample = "mask-resample"

// MaskResampler returns the train.Data.Augment of TrainSettings.MaskResample
// for a masked data set: each call draws η_i ~ Bernoulli(MaskProb) for the
// 30 sensors (the law of the data set's own masks, theory eq. 99) and writes
// the row's conditioning: the scaled noisy readings with the off sensors at
// the off value, then η (theory eq. 100). It refuses data without masks and
// fixed-mask data (whose mask is not drawn).
func MaskResampler(ds *flux.Dataset) (func(rng *rand.Rand, row int, cond []float64), error) {
	switch {
	case ds == nil:
		return nil, fmt.Errorf("fluxinv: no data set")
	case !ds.Meta.Masks:
		return nil, fmt.Errorf("fluxinv: mask resampling needs a masked data set (flux data --masks); %s has none", ds.Meta.RunID)
	case ds.Meta.FixedMask != nil:
		return nil, fmt.Errorf("fluxinv: mask resampling draws masks, but data set %s reads every pair through one fixed mask", ds.Meta.RunID)
	}
	s := ds.Train
	full := make([]float64, len(s.ReadingsNoisy))
	if err := ds.Meta.Scaling.Readings.Apply(s.ReadingsNoisy, full); err != nil {
		return nil, fmt.Errorf("fluxinv: mask resampling: %w", err)
	}
	p, off := ds.Meta.MaskProb, ds.Meta.OffValue
	return func(rng *rand.Rand, row int, cond []float64) {
		for j := 0; j < D; j++ {
			if rng.Float64() < p {
				cond[j], cond[D+j] = full[row*D+j], 1
			} else {
				cond[j], cond[D+j] = off, 0
			}
		}
	}, nil
}

// Train trains (or resumes, or returns when complete) the conditional score
// model of a flux data set under the process proc into dir by denoising score
// matching (theory eq. 61). The model folder records the data's Info, so it
// can be used without the data folder. Seeds: training SubSeed(seed, "train",
// process label), initial weights SubSeed(seed, "init", process label).
func Train(ctx context.Context, backend compute.Backend, ds *flux.Dataset, proc sde.Config, ts TrainSettings, seed uint64, dir string, run json.RawMessage, progress io.Writer) (*Model, TrainResult, error) {
	pl := ProcessLabel(proc)
	res := TrainResult{Dir: dir, Process: pl, Seed: seed}
	if ds == nil {
		return nil, res, fmt.Errorf("fluxinv: no data set")
	}
	info, err := InfoFromMeta(ds.Meta)
	if err != nil {
		return nil, res, err
	}
	if err := ts.Validate(); err != nil {
		return nil, res, err
	}
	ib, err := json.Marshal(info)
	if err != nil {
		return nil, res, err
	}
	if run == nil {
		run, _ = json.Marshal(map[string]any{"experiment": "fluxinv", "training": ts, "seed": seed})
	}
	spec := model.Spec{
		Process:  proc,
		Net:      ts.netConfig(),
		Train:    ts.trainConfig(experiment.SubSeed(seed, "train", pl)),
		Data:     model.Data{Name: info.DataName(), XDim: D, YDim: D, MaskDim: info.MaskDim(), Info: ib},
		InitSeed: experiment.SubSeed(seed, "init", pl),
		Run:      run,
	}
	data := TrainData(ds)
	if ts.MaskResample {
		if data.Augment, err = MaskResampler(ds); err != nil {
			return nil, res, err
		}
	}
	m, mi, err := model.TrainOrResume(ctx, backend, dir, spec, data, progress)
	res.Steps, res.FinalLoss, res.Resumed, res.Seconds = mi.Steps, mi.FinalLoss, mi.Resumed, mi.Seconds
	if err != nil {
		return nil, res, fmt.Errorf("fluxinv: %w", err)
	}
	return &Model{Model: m, Info: info}, res, nil
}
