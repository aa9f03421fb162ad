package density

import (
	"fmt"

	"github.com/pdediff/pdediff/datasets/toy"
	"github.com/pdediff/pdediff/lib/experiment"
	"github.com/pdediff/pdediff/lib/sde"
)

// Preset holds every hyper-parameter of the benchmark.
type Preset struct {
	// Name is quick or paper.
	Name experiment.PresetName `json:"name"`
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
	// SDESteps is the number of Euler–Maruyama steps (our choice: 1000, theory §5).
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
	// Fig2Cells is the grid resolution of Figure 2's exact densities (the
	// histograms use half) and Fig2Samples its histogram sample count.
	Fig2Cells   int `json:"fig2_cells"`
	Fig2Samples int `json:"fig2_samples"`
}

// Presets returns the presets in order: quick (a couple of minutes on 2
// cores: tests, CI, notebooks) and paper (the paper's sizes).
func Presets() []Preset {
	paper := Preset{
		Name: experiment.Paper, NTrain: 10000, Epochs: 10000, BatchSize: 1000, LR: 1e-3,
		HiddenLayers: 2, Width: 256, NSamples: 10000, RefSize: toy.DefaultReferenceSize,
		HalfWidth: toy.DefaultBandHalfWidth, SDESteps: 1000, Rtol: 1e-5, Atol: 1e-5, Reg: 0.01,
		NFESteps:  []int{5, 10, 20, 50, 100, 200, 500},
		NFETols:   []float64{1e-2, 1e-3, 1e-4, 1e-5},
		Fig2Cells: 200, Fig2Samples: 100000,
	}
	quick := paper
	quick.Name = experiment.Quick
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
	quick.Fig2Cells, quick.Fig2Samples = 60, 10000
	return []Preset{quick, paper}
}

// PresetFor returns the preset called name (quick or paper).
func PresetFor(name string) (Preset, error) {
	for _, p := range Presets() {
		if string(p.Name) == name {
			return p, nil
		}
	}
	return Preset{}, fmt.Errorf("density: unknown preset %q (want quick or paper)", name)
}

// Validate checks the preset's values.
func (p Preset) Validate() error {
	switch {
	case p.NTrain < 1 || p.Epochs < 1 || p.BatchSize < 1:
		return fmt.Errorf("density: preset %q: n_train, epochs and batch_size must be ≥ 1", p.Name)
	case p.HiddenLayers < 1 || p.Width < 1:
		return fmt.Errorf("density: preset %q: hidden_layers and width must be ≥ 1", p.Name)
	case p.NSamples < 2 || p.RefSize < 2 || !(p.HalfWidth > 0):
		return fmt.Errorf("density: preset %q: n_samples and ref_size must be ≥ 2 and half_width > 0", p.Name)
	case p.SDESteps < 1 || !(p.Rtol > 0) || !(p.Atol > 0) || !(p.Reg > 0):
		return fmt.Errorf("density: preset %q: sde_steps, rtol, atol and reg must be > 0", p.Name)
	case p.Fig2Cells < 2 || p.Fig2Samples < 1:
		return fmt.Errorf("density: preset %q: fig2_cells must be ≥ 2 and fig2_samples ≥ 1", p.Name)
	}
	return nil
}

// Processes returns the processes of Table 2 (ve, vp).
func Processes() []string { return []string{"ve", "vp"} }

// ProcessConfig returns the forward process of Section 6.1 (theory §5: VE
// with sigma_max = 12; VP and the VP family with beta in [0.001, 15]; T = 1).
// kappa is the VP family's parameter (ignored for ve and vp); variant its
// closed form ("" = power).
func ProcessConfig(name string, kappa float64, variant sde.Variant) (sde.Config, error) {
	c := sde.ToyConfig(name)
	switch name {
	case "ve", "vp":
	case "vpfamily":
		c.Kappa = kappa
		if variant != "" {
			c.Variant = variant
		}
	default:
		return c, fmt.Errorf("density: unknown process %q (want ve, vp or vpfamily)", name)
	}
	if _, err := sde.New(c); err != nil {
		return c, fmt.Errorf("density: %w", err)
	}
	return c, nil
}

// processLabel names a process configuration in file names and seeds: ve,
// vp, or vpfamily-k<kappa>[-alt].
func processLabel(c sde.Config) string {
	if c.Process != "vpfamily" {
		return c.Process
	}
	s := fmt.Sprintf("vpfamily-k%g", c.Kappa)
	if c.Variant != "" && c.Variant != sde.VariantPower {
		s += "-" + string(c.Variant)
	}
	return s
}
