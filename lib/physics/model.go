// Package physics implements the forward models of the flux-inversion problems (theory §6):
// steady advection–diffusion (linear) and advection–diffusion–reaction (nonlinear, theory eq. 101) on the
// channel (0, L) × (0, H), discretised with P1 finite elements on a structured triangulation, mapping
// 30 piecewise-constant wall fluxes to 30 sensor readings.
package physics

import (
	"fmt"
	"math"
)

// NumSegments is the number of piecewise-constant flux segments: bottom wall 1–15 left to right, then top 1–15.
const NumSegments = 30

// NumSensors is the number of sensors: bottom row (y = 0.5) left to right, then top row (y = H − 0.5).
const NumSensors = 30

// Channel geometry and segment layout (theory §6.1–§6.2).
const (
	// Length is the channel length L.
	Length = 8.5
	// Height is the channel height H.
	Height = 2.0
	// FluxEnd is the x-coordinate where the flux segments end (segments cover 0 < x < FluxEnd).
	FluxEnd = 7.0
	// SegmentsPerWall is the number of flux segments on each wall.
	SegmentsPerWall = 15
)

// SensorModel maps one flux vector (30 values: bottom segments 1–15 left to right, then top 1–15) to the 30 sensor
// readings (bottom row left to right, then top row). Implementations are safe for concurrent use.
type SensorModel interface {
	// Readings writes the NumSensors sensor values for the NumSegments fluxes q into out.
	Readings(q []float64, out []float64) error
	// Describe returns the model parameters for JSON sidecars (problem, mesh, kappa, umax, rate, ...).
	Describe() map[string]any
}

// Problem names accepted by Config.Problem.
const (
	ProblemLinear    = "linear"
	ProblemNonlinear = "nonlinear"
)

// Config holds the parameters of a forward model.
type Config struct {
	// Problem is "linear" (advection–diffusion) or "nonlinear" (with logistic reaction, theory eq. 101).
	Problem string `json:"problem"`
	// NX, NY are the numbers of grid cells along x and y (each cell is split into two triangles).
	NX int `json:"nx"`
	NY int `json:"ny"`
	// Kappa is the diffusivity.
	Kappa float64 `json:"kappa"`
	// UMax is the peak of the parabolic velocity profile u = UMax·4y(H−y)/H².
	UMax float64 `json:"umax"`
	// Rate is the logistic reaction rate r (nonlinear problem only; ignored for linear).
	Rate float64 `json:"rate"`
	// K is the logistic carrying capacity (nonlinear problem only).
	K float64 `json:"K"`
	// CacheDir is where the linear response matrix is cached ("" = os.UserCacheDir()/pdediff, "-" = no cache).
	CacheDir string `json:"-"`
	// NewtonTol is the Newton stopping tolerance on the relative update norm (nonlinear; 0 = default 1e-8: with quadratic convergence the remaining error is then ~1e-15).
	NewtonTol float64 `json:"newton_tol,omitempty"`
	// NewtonMaxIter caps Newton iterations (nonlinear; 0 = default 30).
	NewtonMaxIter int `json:"newton_max_iter,omitempty"`
}

// DefaultConfig returns the paper's parameters for problem "linear" or "nonlinear" with the default mesh.
func DefaultConfig(problem string) (Config, error) {
	switch problem {
	case ProblemLinear:
		return Config{Problem: problem, NX: defaultLinearNX, NY: defaultLinearNY, Kappa: 0.02, UMax: 0.1, Rate: 0, K: 2}, nil
	case ProblemNonlinear:
		return Config{Problem: problem, NX: defaultNonlinearNX, NY: defaultNonlinearNY, Kappa: 2, UMax: 12, Rate: 10, K: 2}, nil
	}
	return Config{}, fmt.Errorf("physics: unknown problem %q (want %q or %q)", problem, ProblemLinear, ProblemNonlinear)
}

// Default meshes, chosen by the convergence study in docs/physics.md: the coarsest mesh whose sensor readings
// are within 0.5% of the finest mesh run (850×200 linear, 680×160 nonlinear); 170×40 is within 0.14% / 0.15%.
const (
	defaultLinearNX    = 170
	defaultLinearNY    = 40
	defaultNonlinearNX = 170
	defaultNonlinearNY = 40
)

// Validate reports the first invalid parameter of c.
func (c Config) Validate() error {
	if c.Problem != ProblemLinear && c.Problem != ProblemNonlinear {
		return fmt.Errorf("physics: unknown problem %q (want %q or %q)", c.Problem, ProblemLinear, ProblemNonlinear)
	}
	if c.NX < 1 || c.NY < 1 {
		return fmt.Errorf("physics: mesh size must be positive, got nx=%d ny=%d", c.NX, c.NY)
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"kappa", c.Kappa}, {"umax", c.UMax}, {"rate", c.Rate}, {"K", c.K}, {"newton_tol", c.NewtonTol}} {
		if math.IsNaN(p.v) || math.IsInf(p.v, 0) {
			return fmt.Errorf("physics: %s must be finite, got %v", p.name, p.v)
		}
	}
	if c.Kappa <= 0 {
		return fmt.Errorf("physics: kappa must be > 0, got %v", c.Kappa)
	}
	if c.Problem == ProblemNonlinear {
		if c.K <= 0 {
			return fmt.Errorf("physics: K must be > 0, got %v", c.K)
		}
		if c.Rate < 0 {
			return fmt.Errorf("physics: rate must be >= 0, got %v", c.Rate)
		}
	}
	if c.NewtonTol < 0 || c.NewtonMaxIter < 0 {
		return fmt.Errorf("physics: newton_tol and newton_max_iter must be >= 0")
	}
	return nil
}

// New builds the forward model for cfg. For "linear" it computes (or loads from the cache) the 30×30 response
// matrix once; for "nonlinear" each Readings call runs a Newton solve.
func New(cfg Config) (SensorModel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newModel(cfg)
}
