// Package toybench runs the conditional density estimation benchmark of the
// paper's Section 6.1 (SPEC §5, §8): for each joint density (Tanh, Bimodal,
// Spiral) and forward process (VE, VP) it trains a conditional score network,
// draws x | y at four y values with the probability-flow ODE (adaptive
// Dormand–Prince, rtol = atol = 1e-5) and the reverse SDE (Euler–Maruyama,
// alpha = 1, 1000 steps), and scores the samples against the reference
// conditional with the entropic OT distance (Sinkhorn, reg 0.01): Table 2.
//
// Every stage reads and writes files, so a long run can stop and resume:
// models are GoMLX checkpoints (lib/scorenet), samples are .npz files, the
// table is Markdown + CSV + JSON. Hyper-parameters live in one place: Preset.
package toybench

import (
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/pdediff/pdediff/datasets/toy"
	"github.com/pdediff/pdediff/lib/sde"
)

// Preset holds every hyper-parameter of the benchmark.
type Preset struct {
	// Name is "quick" or "paper".
	Name string `json:"name"`
	// NTrain is the number of training pairs per case (paper: 10,000).
	NTrain int `json:"n_train"`
	// Epochs and BatchSize of Adam training (paper: 10,000 epochs, batch 1000, lr 1e-3).
	Epochs    int     `json:"epochs"`
	BatchSize int     `json:"batch_size"`
	LR        float64 `json:"learning_rate"`
	// EMADecay of the weights used for sampling (0 = off, the paper's setting).
	EMADecay float64 `json:"ema_decay"`
	// HiddenLayers and Width of the MLP score network (paper 6.1: 2 × 256).
	HiddenLayers int `json:"hidden_layers"`
	Width        int `json:"width"`
	// NSamples is the number of generated x per y value (paper: 10,000).
	NSamples int `json:"n_samples"`
	// RefSize is the size of the joint reference set the band is cut from
	// (paper: 100,000), HalfWidth the band half-width (0.05).
	RefSize   int     `json:"ref_size"`
	HalfWidth float64 `json:"half_width"`
	// SDESteps is the number of Euler–Maruyama steps (SPEC §8 guess: 1000).
	SDESteps int `json:"sde_steps"`
	// Rtol and Atol are the ODE sampler's tolerances (1e-5).
	Rtol float64 `json:"rtol"`
	Atol float64 `json:"atol"`
	// Reg is the Sinkhorn regularisation (0.01).
	Reg float64 `json:"reg"`
	// NFESteps are the step counts of the fixed-step ODE solvers in the
	// accuracy-vs-NFE study; NFETols the Dormand–Prince tolerances.
	NFESteps []int     `json:"nfe_steps"`
	NFETols  []float64 `json:"nfe_tols"`
}

// Presets returns the named presets: "quick" (a couple of minutes on 2 cores,
// used by tests, CI and the notebooks) and "paper" (the paper's sizes).
func Presets() map[string]Preset {
	paper := Preset{
		Name: "paper", NTrain: 10000, Epochs: 10000, BatchSize: 1000, LR: 1e-3,
		HiddenLayers: 2, Width: 256, NSamples: 10000, RefSize: toy.DefaultReferenceSize,
		HalfWidth: toy.DefaultBandHalfWidth, SDESteps: 1000, Rtol: 1e-5, Atol: 1e-5, Reg: 0.01,
		NFESteps: []int{5, 10, 20, 50, 100, 200, 500},
		NFETols:  []float64{1e-2, 1e-3, 1e-4, 1e-5},
	}
	quick := paper
	quick.Name = "quick"
	quick.NTrain = 4000
	quick.Epochs = 150
	quick.BatchSize = 500
	quick.Width = 64
	quick.NSamples = 1000
	quick.RefSize = 40000
	quick.SDESteps = 200
	quick.Rtol, quick.Atol = 1e-4, 1e-4
	quick.NFESteps = []int{5, 10, 20, 50}
	quick.NFETols = []float64{1e-2, 1e-3, 1e-4, 1e-5}
	return map[string]Preset{"quick": quick, "paper": paper}
}

// PresetByName returns the preset called name.
func PresetByName(name string) (Preset, error) {
	p, ok := Presets()[name]
	if !ok {
		return Preset{}, fmt.Errorf("toybench: unknown preset %q (want quick or paper)", name)
	}
	return p, nil
}

// Validate checks the preset's values.
func (p Preset) Validate() error {
	switch {
	case p.NTrain < 1 || p.Epochs < 1 || p.BatchSize < 1:
		return fmt.Errorf("toybench: preset %q: n_train, epochs and batch_size must be ≥ 1", p.Name)
	case p.HiddenLayers < 1 || p.Width < 1:
		return fmt.Errorf("toybench: preset %q: hidden_layers and width must be ≥ 1", p.Name)
	case p.NSamples < 2 || p.RefSize < 2 || !(p.HalfWidth > 0):
		return fmt.Errorf("toybench: preset %q: n_samples and ref_size must be ≥ 2 and half_width > 0", p.Name)
	case p.SDESteps < 1 || !(p.Rtol > 0) || !(p.Atol > 0) || !(p.Reg > 0):
		return fmt.Errorf("toybench: preset %q: sde_steps, rtol, atol and reg must be > 0", p.Name)
	}
	return nil
}

// Processes of Table 2.
var Processes = []string{"ve", "vp"}

// NewProcess returns the forward process of Section 6.1 (SPEC §8: VE with
// sigma_max = 12; VP with beta in [0.001, 15]; T = 1).
func NewProcess(name string) (sde.Process, error) {
	switch name {
	case "ve", "vp":
		return sde.New(sde.ToyConfig(name))
	default:
		return nil, fmt.Errorf("toybench: unknown process %q (want ve or vp)", name)
	}
}

// SubSeed derives a reproducible seed for one part of a run (e.g. the
// training of one case × process) from the run's seed.
func SubSeed(seed uint64, parts ...string) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", seed, strings.Join(parts, "/"))
	return h.Sum64()
}
