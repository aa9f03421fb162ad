package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/physics"
)

func init() {
	fluxCommands["forward"] = command{name: "forward",
		summary: "map fluxes Q.npy (n,30) to sensor readings C.npy (n,30) with the FE forward model", runCtx: runFluxForward}
	fluxCommands["convergence"] = command{name: "convergence",
		summary: "mesh-convergence table of the sensor readings (linear or nonlinear problem)", runCtx: runFluxConvergence}
}

// physicsFlags are the model flags shared by forward and convergence.
type physicsFlags struct {
	problem                *string
	nx, ny                 *int
	kappa, umax, rate, cap *float64
	cache                  *string
}

func addPhysicsFlags(fs *flag.FlagSet) physicsFlags {
	return physicsFlags{
		problem: fs.String("problem", "linear", "forward model: linear (advection-diffusion) or nonlinear (with logistic reaction, theory eq. 101)"),
		nx:      fs.Int("nx", 0, "mesh cells along x (0 = problem default)"),
		ny:      fs.Int("ny", 0, "mesh cells along y (0 = problem default)"),
		kappa:   fs.Float64("kappa", math.NaN(), "diffusivity (default: 0.02 linear, 2 nonlinear)"),
		umax:    fs.Float64("umax", math.NaN(), "peak velocity of the parabolic profile (default: 0.1 linear, 12 nonlinear)"),
		rate:    fs.Float64("rate", math.NaN(), "logistic reaction rate r (nonlinear only; default 10)"),
		cap:     fs.Float64("K", math.NaN(), "logistic carrying capacity (nonlinear only; default 2)"),
		cache:   fs.String("cache", "", "response-matrix cache folder (linear; default: user cache dir/pdediff; \"-\" = no cache)"),
	}
}

// config builds the physics configuration; set tells which flags were given on the command line.
func (p physicsFlags) config(set map[string]bool) (physics.Config, error) {
	cfg, err := physics.DefaultConfig(*p.problem)
	if err != nil {
		return cfg, usageErrorf("--problem: %v", err)
	}
	if set["nx"] {
		if *p.nx <= 0 {
			return cfg, usageErrorf("--nx must be positive, got %d", *p.nx)
		}
		cfg.NX = *p.nx
	}
	if set["ny"] {
		if *p.ny <= 0 {
			return cfg, usageErrorf("--ny must be positive, got %d", *p.ny)
		}
		cfg.NY = *p.ny
	}
	for _, f := range []struct {
		name string
		v    float64
		dst  *float64
	}{{"kappa", *p.kappa, &cfg.Kappa}, {"umax", *p.umax, &cfg.UMax}, {"rate", *p.rate, &cfg.Rate}, {"K", *p.cap, &cfg.K}} {
		if set[f.name] {
			if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
				return cfg, usageErrorf("--%s must be finite, got %v", f.name, f.v)
			}
			*f.dst = f.v
		}
	}
	if set["rate"] && cfg.Problem == physics.ProblemLinear && cfg.Rate != 0 {
		return cfg, usageErrorf("--rate applies to the nonlinear problem only")
	}
	cfg.CacheDir = *p.cache
	if err := cfg.Validate(); err != nil {
		return cfg, usageErrorf("%v", err)
	}
	return cfg, nil
}

func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

func runFluxForward(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("flux forward", "sensor readings of flux vectors (paper Sections 6.2-6.3, theory §6). Q is float64 (n,30) "+
		"or (30,): bottom segments 1-15 left to right, then top 1-15; C is float64 (n,30): bottom sensors left to right, then top. "+
		"Negative fluxes are allowed (outflux); NaN/Inf are rejected", stderr)
	pf := addPhysicsFlags(fs)
	fluxPath := fs.String("flux", "", "input fluxes, .npy float64 of shape (n,30) or (30,) (required)")
	outPath := fs.String("out", "", "output sensor readings, .npy float64 (n,30) (required)")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "parallel rows (nonlinear problem)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := pf.config(setFlags(fs))
	if err != nil {
		return err
	}
	if *fluxPath == "" || *outPath == "" {
		return usageErrorf("--flux and --out are required")
	}
	if *workers < 1 {
		return usageErrorf("--workers must be >= 1, got %d", *workers)
	}
	if err := checkOutFile("--out", *outPath); err != nil {
		return err
	}
	q, err := arrayio.ReadNPY(*fluxPath)
	if err != nil {
		return err
	}
	rows := 1
	switch {
	case len(q.Shape) == 1 && q.Shape[0] == physics.NumSegments:
	case len(q.Shape) == 2 && q.Shape[1] == physics.NumSegments && q.Shape[0] > 0:
		rows = q.Shape[0]
	default:
		return fmt.Errorf("%s has shape %v, want (n,%d) or (%d,)", *fluxPath, q.Shape, physics.NumSegments, physics.NumSegments)
	}
	solvers := 1
	if cfg.Problem == physics.ProblemNonlinear {
		solvers = min(*workers, rows)
	}
	if err := checkMemory(fmt.Sprintf("flux forward of %d rows with %s", rows, meshWhat(cfg)),
		1.1*8*physics.NumSensors*float64(rows)+physicsModelBytes(cfg, solvers), "lower --nx/--ny (or --workers, or split --flux)"); err != nil {
		return err
	}
	start := time.Now()
	model, err := physics.New(cfg)
	if err != nil {
		return err
	}
	out, reports, err := forwardRows(ctx, model, q.Data, rows, *workers, stderr)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("stopped during the forward solves; %s was not written", *outPath)
		}
		return err
	}
	if len(reports) > 0 {
		fmt.Fprintln(stderr, newtonSummary(reports))
	}
	if err := arrayio.WriteNPY(*outPath, arrayio.Matrix(rows, physics.NumSensors, out)); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "flux forward: %s, mesh %dx%d, %d rows -> %s in %.2fs\n", cfg.Problem, cfg.NX, cfg.NY, rows, *outPath,
		time.Since(start).Seconds())
	return nil
}

// newtonSummary condenses the Newton reports of a batch into one line.
func newtonSummary(reps []physics.NewtonReport) string {
	total, most, warm, cont := 0, 0, 0, 0
	for _, r := range reps {
		total += r.Iterations
		most = max(most, r.Iterations)
		if r.WarmStart {
			warm++
		}
		if r.Continuation > 0 {
			cont++
		}
	}
	return fmt.Sprintf("newton: %d solves, mean %.2f iterations, max %d; %d from the q=2 warm start, %d from K(1-exp(-3x)), %d needed rate continuation",
		len(reps), float64(total)/float64(len(reps)), most, warm, len(reps)-warm-cont, cont)
}

// forwardRows evaluates the model on every row of q (rows × 30), in parallel when asked; for the nonlinear
// model with a progress bar and the Newton report of every row. The first failing row stops the work and is
// reported.
func forwardRows(ctx context.Context, model physics.SensorModel, q []float64, rows, workers int, stderr io.Writer) ([]float64, []physics.NewtonReport, error) {
	out := make([]float64, rows*physics.NumSensors)
	nl, _ := model.(*physics.NonlinearModel)
	var reports []physics.NewtonReport
	var bar *progressbar.ProgressBar
	if nl != nil {
		reports = make([]physics.NewtonReport, rows)
		bar = progressbar.NewOptions(rows, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("newton solves"),
			progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	workers = max(1, min(workers, rows))
	var (
		mu       sync.Mutex
		firstErr error
		next     int
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if firstErr == nil && ctx.Err() != nil {
					firstErr = context.Cause(ctx)
				}
				if firstErr != nil || next >= rows {
					mu.Unlock()
					return
				}
				r := next
				next++
				mu.Unlock()
				qr, outRow := q[r*physics.NumSegments:(r+1)*physics.NumSegments], out[r*physics.NumSensors:(r+1)*physics.NumSensors]
				var err error
				if nl != nil {
					reports[r], err = nl.ReadingsReport(qr, outRow)
				} else {
					err = model.Readings(qr, outRow)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("row %d: %w", r, err)
				}
				mu.Unlock()
				if bar != nil {
					_ = bar.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if bar != nil {
		_ = bar.Finish()
	}
	return out, reports, firstErr
}

// convergenceFluxes are the fixed flux patterns of the convergence study: constant 2 (the prior mean) and
// 2 + 1.5·sin(0.9k + 0.4·wall), k = segment index, which varies from ≈0.5 to 3.5 along the walls.
func convergenceFluxes() [][]float64 {
	q0 := make([]float64, physics.NumSegments)
	q1 := make([]float64, physics.NumSegments)
	for k := range q0 {
		q0[k] = 2
		q1[k] = 2 + 1.5*math.Sin(0.9*float64(k%physics.SegmentsPerWall)+0.4*float64(k/physics.SegmentsPerWall))
	}
	return [][]float64{q0, q1}
}

func parseMeshes(s string) ([][2]int, error) {
	var ms [][2]int
	for _, f := range strings.Split(s, ",") {
		a, b, ok := strings.Cut(strings.TrimSpace(f), "x")
		nx, err1 := strconv.Atoi(a)
		ny, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || nx <= 0 || ny <= 0 {
			return nil, usageErrorf("--meshes: %q is not NXxNY with positive sizes", f)
		}
		ms = append(ms, [2]int{nx, ny})
	}
	return ms, nil
}

func runFluxConvergence(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("flux convergence", "sensor readings vs mesh; the last mesh is the reference. Prints a Markdown table "+
		"(max relative sensor difference to the reference over two fixed flux patterns: constant 2 and 2+1.5 sin)", stderr)
	pf := addPhysicsFlags(fs)
	meshes := fs.String("meshes", "", "comma-separated NXxNY list, finest last (default: 85x20 … 850x200 linear, 85x20 … 680x160 nonlinear)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	set := setFlags(fs)
	if set["nx"] || set["ny"] {
		return usageErrorf("use --meshes instead of --nx/--ny for the convergence study")
	}
	cfg, err := pf.config(set)
	if err != nil {
		return err
	}
	if *meshes == "" {
		*meshes = "85x20,170x40,255x60,340x80,425x100,510x120,680x160,850x200"
		if cfg.Problem == physics.ProblemNonlinear {
			*meshes = "85x20,170x40,255x60,340x80,425x100,510x120,680x160"
		}
	}
	ms, err := parseMeshes(*meshes)
	if err != nil {
		return err
	}
	for _, m := range ms {
		c := cfg
		c.NX, c.NY = m[0], m[1]
		if err := checkMemory("flux convergence on "+meshWhat(c), physicsModelBytes(c, 1), "use smaller --meshes"); err != nil {
			return err
		}
	}
	fluxes := convergenceFluxes()
	readings := make([][][]float64, len(ms))
	times := make([]float64, len(ms))
	iters := make([]int, len(ms))
	bar := progressbar.NewOptions(len(ms), progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("meshes"),
		progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	for i, m := range ms {
		if ctx.Err() != nil {
			return fmt.Errorf("stopped after %d of %d meshes; no table printed", i, len(ms))
		}
		c := cfg
		c.NX, c.NY, c.CacheDir = m[0], m[1], "-"
		t0 := time.Now()
		if c.Problem == physics.ProblemLinear {
			g, err := physics.ResponseMatrix(c)
			if err != nil {
				return fmt.Errorf("mesh %dx%d: %w", m[0], m[1], err)
			}
			for _, q := range fluxes {
				r := make([]float64, physics.NumSensors)
				for s := range r {
					for k, v := range q {
						r[s] += g[s*physics.NumSegments+k] * v
					}
				}
				readings[i] = append(readings[i], r)
			}
		} else {
			model, err := physics.NewNonlinearModel(c)
			if err != nil {
				return err
			}
			for _, q := range fluxes {
				sol, err := model.Solve(q)
				if err != nil {
					return fmt.Errorf("mesh %dx%d: %w", m[0], m[1], err)
				}
				iters[i] = max(iters[i], sol.Newton.Iterations)
				readings[i] = append(readings[i], sol.Sensors())
			}
		}
		times[i] = time.Since(t0).Seconds()
		_ = bar.Add(1)
	}
	_ = bar.Finish()
	ref := readings[len(ms)-1]
	fmt.Fprintf(stdout, "Mesh convergence, %s problem (kappa=%g, umax=%g", cfg.Problem, cfg.Kappa, cfg.UMax)
	if cfg.Problem == physics.ProblemNonlinear {
		fmt.Fprintf(stdout, ", rate=%g, K=%g", cfg.Rate, cfg.K)
	}
	fmt.Fprintf(stdout, "); reference mesh %dx%d.\n\n", ms[len(ms)-1][0], ms[len(ms)-1][1])
	fmt.Fprintln(stdout, "| mesh | triangles | h | cell Péclet | max rel. diff (const 2) | max rel. diff (2+1.5 sin) | sensor 1 / 15 / 16 (const 2) | Newton its | time (s) |")
	fmt.Fprintln(stdout, "|---|---|---|---|---|---|---|---|---|")
	for i, m := range ms {
		mesh, _ := physics.NewMesh(m[0], m[1])
		var diffs [2]float64
		for p := range fluxes {
			for s := range physics.NumSensors {
				diffs[p] = max(diffs[p], math.Abs(readings[i][p][s]-ref[p][s])/math.Abs(ref[p][s]))
			}
		}
		its := "-"
		if cfg.Problem == physics.ProblemNonlinear {
			its = strconv.Itoa(iters[i])
		}
		r := readings[i][0]
		fmt.Fprintf(stdout, "| %dx%d | %d | %.4g | %.3f | %.3e | %.3e | %.5g / %.5g / %.5g | %s | %.2f |\n", m[0], m[1], mesh.NumTriangles(),
			max(mesh.HX, mesh.HY), mesh.CellPeclet(cfg.UMax, cfg.Kappa), diffs[0], diffs[1], r[0], r[14], r[15], its, times[i])
	}
	return nil
}
