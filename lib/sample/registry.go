package sample

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/pdediff/pdediff/lib/sde"
)

// Sampler is the one signature of every sampler: integrate the reverse
// process of proc from T down to opts.Eps with the score as a function.
type Sampler func(proc sde.Process, score ScoreFunc, opts Options) (Result, error)

// Info describes one registered sampler.
type Info struct {
	// Name is the sampler's one name, used by the CLI, tables and progress bars.
	Name string
	// Title is a human-readable description for legends and help texts.
	Title string
	// Run is the sampler.
	Run Sampler
	// Adaptive samplers choose their own steps (tolerances apply, Steps and
	// Times do not); fixed-step samplers take Steps or Times.
	Adaptive bool
	// Stochastic samplers draw Brownian increments (Seed matters beyond the
	// prior draw).
	Stochastic bool
	// TakesAlpha is true for the sampler whose Alpha the user sets.
	TakesAlpha bool
	// NFEPerStep is the score evaluations per step of a fixed-step sampler
	// (0 for adaptive ones).
	NFEPerStep int
}

// registry lists the samplers in display order. Unexported: Samplers and
// ByName hand out copies.
func registry() []Info {
	return []Info{
		{Name: "ode", Title: "PF-ODE, adaptive Dormand–Prince 5(4) (scipy RK45)", Run: DoPri5, Adaptive: true},
		{Name: "sde", Title: "reverse SDE, Euler–Maruyama (alpha = 1)", Run: EulerMaruyama, Stochastic: true, NFEPerStep: 1},
		{Name: "sde-karras", Title: "reverse SDE, Euler–Maruyama on the EDM (Karras) noise grid (alpha = 1)", Run: EulerMaruyamaKarras, Stochastic: true, NFEPerStep: 1},
		{Name: "em", Title: "reverse process with any alpha, Euler–Maruyama", Run: EulerMaruyama, Stochastic: true, TakesAlpha: true, NFEPerStep: 1},
		{Name: "euler", Title: "PF-ODE, explicit Euler", Run: ODEEuler, NFEPerStep: 1},
		{Name: "heun", Title: "PF-ODE, Heun (2nd order)", Run: ODEHeun, NFEPerStep: 2},
		{Name: "rk4", Title: "PF-ODE, classical Runge–Kutta (4th order)", Run: ODERK4, NFEPerStep: 4},
		{Name: "heun-edm", Title: "PF-ODE, Heun on the EDM (Karras) noise grid", Run: HeunEDM, NFEPerStep: 2},
		{Name: "dpmpp2m", Title: "PF-ODE, DPM-Solver++(2M), data prediction, Karras grid", Run: DPMSolver2M, NFEPerStep: 1},
	}
}

// Samplers returns every registered sampler in display order (a fresh slice).
func Samplers() []Info { return registry() }

// Names returns the registered sampler names in display order.
func Names() []string {
	var out []string
	for _, s := range registry() {
		out = append(out, s.Name)
	}
	return out
}

// ByName returns the sampler called name, or an error listing the names.
func ByName(name string) (Info, error) {
	for _, s := range registry() {
		if s.Name == name {
			return s, nil
		}
	}
	return Info{}, fmt.Errorf("sample: unknown sampler %q (want one of %s)", name, strings.Join(Names(), ", "))
}

// Spec selects a sampler and its settings: what a CLI flag set, a table cell
// or a sidecar records. Zero values take the sampler's defaults.
type Spec struct {
	// Name is a registered sampler name (see Names).
	Name string `json:"sampler"`
	// Alpha is the noise parameter of "em" (0 = PF-ODE by Euler, 1 = reverse
	// SDE); "sde" fixes it at 1 and the PF-ODE samplers at 0.
	Alpha float64 `json:"alpha,omitempty"`
	// Steps is the number of uniform steps of a fixed-step sampler (default
	// DefaultSteps).
	Steps int `json:"steps,omitempty"`
	// Rtol and Atol are the tolerances of an adaptive sampler (default DefaultTol).
	Rtol float64 `json:"rtol,omitempty"`
	Atol float64 `json:"atol,omitempty"`
	// Times is an optional time grid of a fixed-step sampler (see Options.Times).
	Times []float64 `json:"times,omitempty"`
	// Eps is the final forward time of the reverse integration (0 = the
	// caller's Options.Eps, else DefaultEps). score_sde stops VE at 1e-5 and
	// VP at 1e-3; the paper's code at 1e-3 (theory §4.3).
	Eps float64 `json:"eps,omitempty"`
}

// Validate checks the spec against its sampler before any work starts: a
// known name, finite non-negative alpha (only for "em"), steps ≥ 0,
// tolerances finite and ≥ 0, and a grid only for fixed-step samplers.
func (s Spec) Validate() error {
	info, err := ByName(s.Name)
	if err != nil {
		return err
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case !finite(s.Alpha) || s.Alpha < 0:
		return fmt.Errorf("sample: alpha = %v must be finite and ≥ 0", s.Alpha)
	case s.Alpha != 0 && !info.TakesAlpha:
		return fmt.Errorf("sample: sampler %q fixes alpha (use em to set alpha)", s.Name)
	case s.Steps < 0:
		return fmt.Errorf("sample: steps = %d must be ≥ 1 (or 0 for the default)", s.Steps)
	case !finite(s.Rtol) || s.Rtol < 0 || !finite(s.Atol) || s.Atol < 0:
		return fmt.Errorf("sample: rtol = %v and atol = %v must be finite and > 0 (or 0 for the default)", s.Rtol, s.Atol)
	case !finite(s.Eps) || s.Eps < 0:
		return fmt.Errorf("sample: eps = %v must be finite and > 0 (or 0 for the default)", s.Eps)
	case s.Eps > 0 && s.Times != nil:
		return fmt.Errorf("sample: give either a time grid or eps, not both (the grid's last time is the end time)")
	case s.Times != nil && info.Adaptive:
		return fmt.Errorf("sample: sampler %q chooses its own steps; it takes no time grid", s.Name)
	case s.Times != nil:
		if err := checkGrid(s.Times, math.Inf(1)); err != nil {
			return err
		}
	}
	return nil
}

// Options returns base with the spec's settings applied (alpha, steps,
// tolerances, grid, and Eps when set); N, D, XT, Seed, Observe and Progress
// come from base.
func (s Spec) Options(base Options) Options {
	o := base
	o.Alpha = 0
	if s.Name == "sde" {
		o.Alpha = 1
	} else if s.Name == "em" {
		o.Alpha = s.Alpha
	}
	o.Steps, o.Rtol, o.Atol = s.Steps, s.Rtol, s.Atol
	if s.Times != nil {
		o.Times = slices.Clone(s.Times)
	}
	if s.Eps > 0 {
		o.Eps = s.Eps
	}
	return o
}

// Run validates the spec and runs its sampler with base's other options.
func (s Spec) Run(proc sde.Process, score ScoreFunc, base Options) (Result, error) {
	if err := s.Validate(); err != nil {
		return Result{}, err
	}
	info, _ := ByName(s.Name)
	return info.Run(proc, score, s.Options(base))
}

// String is a short label such as "ode (rtol 1e-05, atol 1e-05)" or "heun
// (20 steps)", with ", eps 1e-05" inside the brackets when Eps is set.
func (s Spec) String() string {
	l := s.label()
	if s.Eps > 0 && strings.HasSuffix(l, ")") {
		l = l[:len(l)-1] + fmt.Sprintf(", eps %g)", s.Eps)
	}
	return l
}

func (s Spec) label() string {
	info, err := ByName(s.Name)
	switch {
	case err != nil:
		return s.Name
	case info.Adaptive:
		r, a := s.Rtol, s.Atol
		if r == 0 {
			r = DefaultTol
		}
		if a == 0 {
			a = DefaultTol
		}
		return fmt.Sprintf("%s (rtol %g, atol %g)", s.Name, r, a)
	case s.Times != nil:
		return fmt.Sprintf("%s (%d-point grid)", s.Name, len(s.Times))
	}
	st := s.Steps
	if st == 0 {
		st = DefaultSteps
	}
	if info.TakesAlpha {
		return fmt.Sprintf("%s (alpha %g, %d steps)", s.Name, s.Alpha, st)
	}
	return fmt.Sprintf("%s (%d steps)", s.Name, st)
}
