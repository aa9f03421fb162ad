package physics

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/pdediff/pdediff/lib/arrayio"
)

// cacheVersion changes whenever the discretisation changes the numbers of the response matrix.
const cacheVersion = "p1-v1"

func newModel(cfg Config) (SensorModel, error) {
	if cfg.Problem == ProblemLinear {
		return NewLinearModel(cfg)
	}
	return NewNonlinearModel(cfg)
}

// checkFlux validates a flux vector and output buffer. Negative fluxes are allowed (the models are defined for
// any real q; a negative value is an outflux); NaN and ±Inf are rejected.
func checkFlux(q, out []float64) error {
	if len(q) != NumSegments {
		return fmt.Errorf("physics: flux has %d values, want %d", len(q), NumSegments)
	}
	if len(out) != NumSensors {
		return fmt.Errorf("physics: output has %d values, want %d", len(out), NumSensors)
	}
	for k, v := range q {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("physics: flux[%d] = %v is not finite", k, v)
		}
	}
	return nil
}

// LinearModel maps fluxes to sensors through the exact 30×30 response matrix of the linear problem.
type LinearModel struct {
	cfg Config
	// G is row-major NumSensors × NumSegments: reading s = Σ_k G[s*30+k]·q_k.
	g []float64
}

// NewLinearModel builds (or loads from cfg.CacheDir) the response matrix for a linear Config.
func NewLinearModel(cfg Config) (*LinearModel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Problem != ProblemLinear {
		return nil, fmt.Errorf("physics: NewLinearModel needs problem %q, got %q", ProblemLinear, cfg.Problem)
	}
	g, err := CachedResponseMatrix(cfg)
	if err != nil {
		return nil, err
	}
	return &LinearModel{cfg: cfg, g: g}, nil
}

// Matrix returns a copy of the response matrix (row-major NumSensors × NumSegments).
func (m *LinearModel) Matrix() []float64 { return append([]float64(nil), m.g...) }

// Readings writes G·q into out.
func (m *LinearModel) Readings(q, out []float64) error {
	if err := checkFlux(q, out); err != nil {
		return err
	}
	for s := range NumSensors {
		row := m.g[s*NumSegments : (s+1)*NumSegments]
		v := 0.0
		for k, gk := range row {
			v += gk * q[k]
		}
		out[s] = v
	}
	return nil
}

// Describe returns the model parameters.
func (m *LinearModel) Describe() map[string]any { return describe(m.cfg) }

func describe(cfg Config) map[string]any {
	mesh, _ := NewMesh(cfg.NX, cfg.NY)
	d := map[string]any{
		"problem": cfg.Problem, "nx": cfg.NX, "ny": cfg.NY, "kappa": cfg.Kappa, "umax": cfg.UMax,
		"length": Length, "height": Height, "flux_end": FluxEnd, "segments": NumSegments, "sensors": NumSensors,
		"element": "P1", "triangles": mesh.NumTriangles(), "cell_peclet": mesh.CellPeclet(cfg.UMax, cfg.Kappa),
		"discretization": cacheVersion,
	}
	if cfg.Problem == ProblemNonlinear {
		d["rate"] = cfg.Rate
		d["K"] = cfg.K
		d["newton_tol"] = cfg.newtonTol()
		d["initial_guess"] = "K(1-exp(-3x))"
	}
	return d
}

func (c Config) newtonTol() float64 {
	if c.NewtonTol > 0 {
		return c.NewtonTol
	}
	// With quadratic convergence the error left after a step of size 1e-8 is ~1e-15.
	return 1e-8
}

func (c Config) newtonMaxIter() int {
	if c.NewtonMaxIter > 0 {
		return c.NewtonMaxIter
	}
	return 30
}

// ResponseMatrix computes the 30×30 response matrix of the linear problem (row-major, sensors × segments):
// one streamed banded LU factorisation with the 30 unit-flux responses and the 30 sensor functionals carried
// along (see streamResponse; single-threaded, O(NY²) memory).
func ResponseMatrix(cfg Config) ([]float64, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	mesh, _ := NewMesh(cfg.NX, cfg.NY)
	return newDiscretization(mesh, cfg.Kappa, cfg.UMax, 0, cfg.K).streamResponse()
}

// responseMatrixStored is ResponseMatrix with the whole band LU stored and 30 solves afterwards (the
// straightforward method; kept as a test oracle for the streamed one).
func responseMatrixStored(cfg Config) ([]float64, error) {
	mesh, _ := NewMesh(cfg.NX, cfg.NY)
	d := newDiscretization(mesh, cfg.Kappa, cfg.UMax, 0, cfg.K)
	n := mesh.NumNodes()
	bw := mesh.bandwidth()
	bm := newBandMatrix(n, bw, bw)
	d.fillBand(bm, d.lin)
	if err := bm.factor(); err != nil {
		return nil, err
	}
	// Right-hand sides: n rows × 32 columns (30 used); Dirichlet rows stay 0.
	rhs := make([]float64, n*rhsPad)
	col := make([]float64, n)
	for s := range NumSegments {
		clear(col)
		mesh.addSegmentLoad(col, s, 1)
		for r := mesh.NY + 1; r < n; r++ {
			rhs[r*rhsPad+s] = col[r]
		}
	}
	bm.solve32(rhs)
	g := make([]float64, NumSensors*NumSegments)
	xs, ys := SensorPositions()
	for s := range NumSensors {
		nodes, w := mesh.interpWeights(xs[s], ys[s])
		for k := range NumSegments {
			g[s*NumSegments+k] = w[0]*rhs[nodes[0]*rhsPad+k] + w[1]*rhs[nodes[1]*rhsPad+k] +
				w[2]*rhs[nodes[2]*rhsPad+k]
		}
	}
	return g, nil
}

// cacheKey names the cache file of a linear Config.
func cacheKey(cfg Config) string {
	s := fmt.Sprintf("%s|%d|%d|%.17g|%.17g|%.17g|%.17g", cacheVersion, cfg.NX, cfg.NY, cfg.Kappa, cfg.UMax, Length, Height)
	h := sha256.Sum256([]byte(s))
	return fmt.Sprintf("response-linear-nx%d-ny%d-%s.npz", cfg.NX, cfg.NY, hex.EncodeToString(h[:8]))
}

// checksum is a position-weighted sum that a corrupted matrix fails to reproduce.
func checksum(g []float64) float64 {
	s := 0.0
	for i, v := range g {
		s += v * (1 + float64(i)/7)
	}
	return s
}

// CacheDir returns the response-matrix cache directory of cfg ("" → os.UserCacheDir()/pdediff, "-" → none).
func CacheDir(cfg Config) (string, error) {
	switch cfg.CacheDir {
	case "-":
		return "", nil
	case "":
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("physics: no user cache directory (set Config.CacheDir): %w", err)
		}
		return filepath.Join(base, "pdediff"), nil
	}
	return cfg.CacheDir, nil
}

var cacheMu sync.Mutex

// CachedResponseMatrix returns the response matrix from the on-disk cache, computing and storing it (atomic
// write) when it is missing. A cache file that does not read back as a finite 30×30 matrix with matching
// parameters and checksum is recomputed and overwritten, never trusted.
func CachedResponseMatrix(cfg Config) ([]float64, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dir, err := CacheDir(cfg)
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return ResponseMatrix(cfg)
	}
	cacheMu.Lock()
	defer cacheMu.Unlock()
	path := filepath.Join(dir, cacheKey(cfg))
	params := []float64{float64(cfg.NX), float64(cfg.NY), cfg.Kappa, cfg.UMax}
	if g, ok := readCache(path, params); ok {
		return g, nil
	}
	g, err := ResponseMatrix(cfg)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("physics: cache directory: %w", err)
	}
	err = arrayio.WriteNPZ(path, map[string]arrayio.Array{
		"G":        arrayio.Matrix(NumSensors, NumSegments, g),
		"params":   arrayio.Vector(params),
		"checksum": arrayio.Vector([]float64{checksum(g)}),
	})
	if err != nil {
		return nil, fmt.Errorf("physics: writing response-matrix cache: %w", err)
	}
	return g, nil
}

func readCache(path string, params []float64) ([]float64, bool) {
	arrs, err := arrayio.ReadNPZ(path)
	if err != nil {
		return nil, false
	}
	g, p, c := arrs["G"], arrs["params"], arrs["checksum"]
	if len(g.Data) != NumSensors*NumSegments || len(g.Shape) != 2 || len(p.Data) != len(params) || len(c.Data) != 1 {
		return nil, false
	}
	for i, v := range params {
		if p.Data[i] != v {
			return nil, false
		}
	}
	for _, v := range g.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, false
		}
	}
	if checksum(g.Data) != c.Data[0] {
		return nil, false
	}
	return g.Data, true
}

// NonlinearModel solves the advection–diffusion–reaction problem (theory eq. 101) by Newton's method per call.
type NonlinearModel struct {
	cfg  Config
	mesh Mesh
	base *discretization // shared, read-only after construction
	warm []float64       // solution for the prior-mean flux q ≡ 2: the Newton starting point of every solve
}

// warmFlux is the flux of the warm-start solution (the prior mean of theory §6.4).
const warmFlux = 2.0

// NewNonlinearModel prepares the discretisation of a nonlinear Config.
func NewNonlinearModel(cfg Config) (*NonlinearModel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Problem != ProblemNonlinear {
		return nil, fmt.Errorf("physics: NewNonlinearModel needs problem %q, got %q", ProblemNonlinear, cfg.Problem)
	}
	mesh, _ := NewMesh(cfg.NX, cfg.NY)
	m := &NonlinearModel{cfg: cfg, mesh: mesh, base: newDiscretization(mesh, cfg.Kappa, cfg.UMax, cfg.Rate, cfg.K)}
	q := make([]float64, NumSegments)
	for k := range q {
		q[k] = warmFlux
	}
	d := *m.base
	warm, _, err := d.solveNonlinear(loadSpec{Q: q}, cfg.newtonTol(), cfg.newtonMaxIter(), nil)
	if err != nil {
		return nil, fmt.Errorf("physics: nonlinear model: solve for the warm-start flux q = %g: %w", warmFlux, err)
	}
	m.warm = warm
	return m, nil
}

// Solve returns the full field for flux q and the Newton report; an error if Newton does not converge.
func (m *NonlinearModel) Solve(q []float64) (*Solution, error) {
	out := make([]float64, NumSensors)
	if err := checkFlux(q, out); err != nil {
		return nil, err
	}
	d := *m.base // shallow copy: lin is shared read-only, rate may be changed by continuation
	c, rep, err := d.solveNonlinear(loadSpec{Q: q}, m.cfg.newtonTol(), m.cfg.newtonMaxIter(), m.warm)
	if err != nil {
		return nil, err
	}
	return &Solution{Mesh: m.mesh, C: c, Newton: rep}, nil
}

// Readings solves for flux q and writes the 30 sensor values into out (single-threaded; call it from several
// goroutines to use several cores).
func (m *NonlinearModel) Readings(q, out []float64) error {
	_, err := m.ReadingsReport(q, out)
	return err
}

// ReadingsReport is Readings that also returns the Newton report of the solve.
func (m *NonlinearModel) ReadingsReport(q, out []float64) (NewtonReport, error) {
	if err := checkFlux(q, out); err != nil {
		return NewtonReport{}, err
	}
	sol, err := m.Solve(q)
	if err != nil {
		return NewtonReport{}, err
	}
	m.mesh.Sensors(sol.C, out)
	return sol.Newton, nil
}

// Describe returns the model parameters.
func (m *NonlinearModel) Describe() map[string]any { return describe(m.cfg) }

// Solve returns the full nodal field of problem cfg for the 30 fluxes q (linear: one direct solve; nonlinear:
// Newton).
func Solve(cfg Config, q []float64) (*Solution, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkFlux(q, make([]float64, NumSensors)); err != nil {
		return nil, err
	}
	if cfg.Problem == ProblemNonlinear {
		m, err := NewNonlinearModel(cfg)
		if err != nil {
			return nil, err
		}
		return m.Solve(q)
	}
	mesh, _ := NewMesh(cfg.NX, cfg.NY)
	d := newDiscretization(mesh, cfg.Kappa, cfg.UMax, 0, cfg.K)
	c, err := d.solveLinear(loadSpec{Q: q})
	if err != nil {
		return nil, err
	}
	return &Solution{Mesh: mesh, C: c}, nil
}
