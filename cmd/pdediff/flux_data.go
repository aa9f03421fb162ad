package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"runtime"
	"time"

	"github.com/pdediff/pdediff/datasets/flux"
	"github.com/pdediff/pdediff/lib/physics"
)

func init() {
	fluxCommands["data"] = command{name: "data", summary: "generate train/test flux-inversion data (prior, sensors, noise, masks) into a folder", runCtx: runFluxData}
}

// fluxPaperSizes returns the paper's split sizes: linear 9,000/1,000 per noise
// level; masked (multiple operators) and nonlinear 36,000/4,000.
func fluxPaperSizes(problem string, masks bool) (int, int) {
	if problem == physics.ProblemNonlinear || masks {
		return 36000, 4000
	}
	return 9000, 1000
}

// fluxModelConfig builds a physics config from the problem name and optional mesh overrides.
func fluxModelConfig(problem string, nx, ny int) (physics.Config, error) {
	cfg, err := physics.DefaultConfig(problem)
	if err != nil {
		return cfg, err
	}
	if nx > 0 {
		cfg.NX = nx
	}
	if ny > 0 {
		cfg.NY = ny
	}
	return cfg, cfg.Validate()
}

func runFluxData(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("flux data", "generate flux-inversion data (paper Sections 6.2-6.3, theory §6)", stderr)
	problem := fs.String("problem", "linear", "forward model: linear (advection-diffusion) or nonlinear (with logistic reaction)")
	noise := fs.Float64("noise", 0, "noise level: noise std = LEVEL x RMS per-sensor std of the clean training readings (paper levels 0, 0.01, 0.02, 0.05, 0.1, 0.2)")
	masks := fs.Bool("masks", false, "multiple measurement operators: per-sample sensor mask eta ~ Bernoulli(mask-prob); off sensors read off-value after scaling")
	maskProb := fs.Float64("mask-prob", flux.DefaultMaskProb, "probability that a sensor is on (with --masks)")
	offValue := fs.Float64("off-value", flux.DefaultOffValue, "scaled reading of an off sensor (with --masks; our choice, theory §6.6: -1 after scaling)")
	nTrain := fs.Int("n-train", 0, "training samples (0 = paper size: 9,000 linear; 36,000 masked or nonlinear; 9e3 notation accepted)")
	nTest := fs.Int("n-test", 0, "test samples (0 = paper size: 1,000 linear; 4,000 masked or nonlinear)")
	seed := fs.Uint64("seed", 1, "random seed (same seed, same data, for any number of workers)")
	out := fs.String("out", "", "output folder for train.npz, test.npz, data.json (required); replaced whole, so it must hold nothing else")
	prior := fs.String("prior", string(flux.PriorJoint), "flux prior: joint (one 30-dim GP over 2-D segment centres) or independent (two 15-dim GPs)")
	nx := fs.Int("nx", 0, "mesh cells along x (0 = physics default)")
	ny := fs.Int("ny", 0, "mesh cells along y (0 = physics default)")
	workers := fs.Int("workers", 0, "parallel forward solves (0 = number of CPUs for nonlinear, 1 for linear)")
	solver := fs.String("solver", "chord", "nonlinear forward solves: chord (iterations with the Jacobian frozen at the prior mean, equal to Newton to its tolerance, ~7x faster; as flux experiment) or newton")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutDir("--out", *out); err != nil {
		return err
	}
	if err := flux.CheckOutDir(*out); err != nil {
		return usageErrorf("--out: %v", err)
	}
	if *problem != physics.ProblemLinear && *problem != physics.ProblemNonlinear {
		return usageErrorf("unknown --problem %q (want linear or nonlinear)", *problem)
	}
	if math.IsNaN(*noise) || math.IsInf(*noise, 0) || *noise < 0 {
		return usageErrorf("--noise must be a finite value >= 0, got %v", *noise)
	}
	if !(*maskProb > 0 && *maskProb <= 1) {
		return usageErrorf("--mask-prob must be in (0, 1], got %v", *maskProb)
	}
	if math.IsNaN(*offValue) || math.IsInf(*offValue, 0) {
		return usageErrorf("--off-value must be finite, got %v", *offValue)
	}
	if *solver != "chord" && *solver != "newton" {
		return usageErrorf("unknown --solver %q (want chord or newton)", *solver)
	}
	if *prior != string(flux.PriorJoint) && *prior != string(flux.PriorIndependent) {
		return usageErrorf("unknown --prior %q (want joint or independent)", *prior)
	}
	if *nTrain < 0 || *nTest < 0 || *nx < 0 || *ny < 0 || *workers < 0 {
		return usageErrorf("--n-train, --n-test, --nx, --ny and --workers must be >= 0")
	}
	defTrain, defTest := fluxPaperSizes(*problem, *masks)
	if *nTrain == 0 {
		*nTrain = defTrain
	}
	if *nTest == 0 {
		*nTest = defTest
	}
	if *nTrain < 2 {
		return usageErrorf("--n-train must be >= 2, got %d", *nTrain)
	}
	cfg, err := fluxModelConfig(*problem, *nx, *ny)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if *workers == 0 {
		*workers = 1
		if *problem == physics.ProblemNonlinear {
			*workers = runtime.NumCPU()
		}
	}
	need := flux.EstimateBytes(*nTrain, *nTest) + physicsModelBytes(cfg, *workers)
	if err := checkMemory(fmt.Sprintf("flux data with --n-train %d --n-test %d on %s", *nTrain, *nTest, meshWhat(cfg)), need,
		"lower --n-train/--n-test (or --nx/--ny)"); err != nil {
		return err
	}

	start := time.Now()
	fmt.Fprintf(stderr, "building %s model (%d x %d mesh) ...\n", cfg.Problem, cfg.NX, cfg.NY)
	model, err := dataModel(cfg, *solver)
	if err != nil {
		return err
	}
	built := time.Since(start)
	var progress io.Writer
	if !*quiet {
		progress = stderr
	}
	genStart := time.Now()
	ds, err := flux.Generate(ctx, model, flux.Options{
		NTrain: *nTrain, NTest: *nTest, NoiseLevel: *noise, Masks: *masks, MaskProb: *maskProb, OffValue: offValue,
		Prior: flux.PriorOptions{Kind: flux.PriorKind(*prior)}, Seed: *seed, Workers: *workers, Progress: progress,
	})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("stopped during the forward solves; nothing was written to %s", *out)
		}
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("stopped before saving; nothing was written to %s", *out)
	}
	gen := time.Since(genStart)
	if err := flux.Save(*out, ds); err != nil {
		return err
	}
	total := *nTrain + *nTest
	for _, f := range []string{flux.TrainFile, flux.TestFile, flux.MetaFile} {
		fmt.Fprintln(stdout, filepath.Join(*out, f))
	}
	fmt.Fprintf(stderr, "model built in %s; %d samples in %s (%.1f samples/s, %d workers); noise std %.4g\n",
		built.Round(time.Millisecond), total, gen.Round(time.Millisecond), float64(total)/gen.Seconds(), *workers, ds.Meta.NoiseStd)
	return nil
}

// dataModel returns the forward model of flux data: the linear response
// matrix, or for the nonlinear problem Newton solves or (solver "chord") the
// chord solver linearised at the prior mean, as flux experiment generates its
// data (physics.Linearization: equal to Newton to its tolerance).
func dataModel(cfg physics.Config, solver string) (flux.SensorModel, error) {
	if cfg.Problem != physics.ProblemNonlinear || solver == "newton" {
		return physics.New(cfg)
	}
	return flux.ChordModel(cfg)
}
