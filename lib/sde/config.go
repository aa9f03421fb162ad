package sde

import (
	"fmt"
	"strings"
)

// Config selects and parameterises a process; it is JSON-taggable so runs can
// record it in their sidecar files.
type Config struct {
	// Process is "ve", "vp" or "vpfamily".
	Process string `json:"process"`
	// Kappa is κ > 0 of the VP family (ignored by ve and vp).
	Kappa float64 `json:"kappa,omitempty"`
	// Variant is the VP-family closed form: "power" (default) or "alt".
	Variant Variant `json:"variant,omitempty"`
	// SigmaMax is σ_max of the VE process.
	SigmaMax float64 `json:"sigma_max,omitempty"`
	// BetaMin and BetaMax define the linear β schedule of VP-type processes.
	BetaMin float64 `json:"beta_min,omitempty"`
	BetaMax float64 `json:"beta_max,omitempty"`
	// BetaConst, when > 0, selects the constant schedule β(t) = BetaConst
	// instead of the linear one (Figure 1).
	BetaConst float64 `json:"beta_const,omitempty"`
	// T is the final time.
	T float64 `json:"T"`
}

// ProcessNames returns the valid Config.Process values (a fresh slice).
func ProcessNames() []string { return []string{"ve", "vp", "vpfamily"} }

// ToyConfig returns the settings of Section 6.1 (theory §1.5, §5.1) for the named process:
// σ_max = 12, β_min = 0.001, β_max = 15, T = 1 (κ = 1, power variant).
func ToyConfig(process string) Config {
	return Config{Process: process, Kappa: 1, Variant: VariantPower, SigmaMax: 12, BetaMin: 0.001, BetaMax: 15, T: 1}
}

// FluxConfig returns the settings of Section 6.2 (theory §1.5, §4.4): σ_max = 5,
// β_min = 0.001, β_max = 15, T = 1.
func FluxConfig(process string) Config {
	c := ToyConfig(process)
	c.SigmaMax = 5
	return c
}

// New builds the process described by c, validating every parameter.
func New(c Config) (Process, error) {
	switch c.Process {
	case "ve":
		return NewVE(c.SigmaMax, c.T)
	case "vp", "vpfamily":
		var sched BetaSchedule
		var err error
		if c.BetaConst != 0 {
			sched, err = NewConstantBeta(c.BetaConst)
		} else {
			sched, err = NewLinearBeta(c.BetaMin, c.BetaMax)
		}
		if err != nil {
			return nil, err
		}
		if c.Process == "vp" {
			return NewVP(sched, c.T)
		}
		return NewFamily(sched, c.Kappa, c.Variant, c.T)
	default:
		return nil, fmt.Errorf("sde: unknown process %q (want one of %s)", c.Process, strings.Join(ProcessNames(), ", "))
	}
}
