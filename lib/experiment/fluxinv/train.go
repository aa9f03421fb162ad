package fluxinv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

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
}

// netConfig is the network of the settings (dimensions come from the data).
func (ts TrainSettings) netConfig() scorenet.Config {
	return scorenet.Config{HiddenLayers: ts.HiddenLayers, Width: ts.Width, Output: ts.Output}
}

// trainConfig is the optimiser configuration of the settings with the given seed.
func (ts TrainSettings) trainConfig(seed uint64) train.Config {
	return train.Config{Epochs: ts.Epochs, BatchSize: ts.BatchSize, LearningRate: ts.LR, EMADecay: ts.EMADecay,
		TimeSampling: ts.TimeSampling, TimeEps: ts.TimeEps, LRSchedule: ts.LRSchedule, Seed: seed}
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
	m, mi, err := model.TrainOrResume(ctx, backend, dir, spec, TrainData(ds), progress)
	res.Steps, res.FinalLoss, res.Resumed, res.Seconds = mi.Steps, mi.FinalLoss, mi.Resumed, mi.Seconds
	if err != nil {
		return nil, res, fmt.Errorf("fluxinv: %w", err)
	}
	return &Model{Model: m, Info: info}, res, nil
}
