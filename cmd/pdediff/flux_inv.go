package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/pdediff/pdediff/datasets/flux"
	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/backend"
	"github.com/pdediff/pdediff/lib/experiment"
	"github.com/pdediff/pdediff/lib/experiment/fluxinv"
	"github.com/pdediff/pdediff/lib/model"
	"github.com/pdediff/pdediff/lib/physics"
)

func init() {
	fluxCommands["train"] = command{name: "train", summary: "train the conditional score model q | readings of a flux data folder (paper Section 6.2)", runCtx: runFluxTrain}
	fluxCommands["sample"] = command{name: "sample", summary: "posterior flux samples for sensor readings from a trained model", runCtx: runFluxSample}
	fluxCommands["exact"] = command{name: "exact", summary: "exact posterior samples (Gaussian or ESS for the clipped prior; nonlinear: ESS with the nonlinear likelihood)", runCtx: runFluxExact}
	fluxCommands["eval"] = command{name: "eval", summary: "posterior metrics (error, std, coverage, SBC) against true fluxes and a reference", run: runFluxEval}
	fluxCommands["export"] = command{name: "export", summary: "copy a trained model's sampling weights (no optimiser state) into a new folder to commit or ship", run: runFluxExport}
	fluxCommands["epochs"] = command{name: "epochs", summary: "error and spread against the exact posterior as a function of training length (one cell, several epochs)", runCtx: runFluxEpochs}
	fluxCommands["fixed-mask"] = command{name: "fixed-mask", summary: "masked problem: the one model for every mask against a model trained on one fixed mask, both against that mask's exact posterior", runCtx: runFluxFixedMask}
	fluxCommands["experiment"] = command{name: "experiment", summary: "the flux-inversion grid (linear or masked): data, models, posteriors, exact posteriors, tables, Figs 7-11 (masked: 13-14)", runCtx: runFluxExperiment}
}

// fluxPresetFlag resolves --preset and the --epochs override of the flux
// commands.
func fluxPresetFlag(name string, epochs int) (fluxinv.Preset, error) {
	p, err := fluxinv.PresetFor(name)
	if err != nil {
		return p, usageErrorf("--preset: %v", err)
	}
	if epochs < 0 {
		return p, usageErrorf("--epochs must be > 0, got %d", epochs)
	} else if epochs > 0 {
		p.Epochs = epochs
	}
	return p, nil
}

func runFluxTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("flux train", "train a conditional score network S(x_t, readings[, mask], t) on a flux data folder (theory §7.6)", stderr)
	data := fs.String("data", "", "data folder made by pdediff flux data (required)")
	process := fs.String("process", "ve", "forward process: ve, vp or vpfamily (Section 6.2 settings: VE sigma_max 5, VP beta 0.001-15)")
	kappa := fs.Float64("kappa", 1, "kappa > 0 of the VP family (--process vpfamily)")
	presetName := fs.String("preset", "quick", "network and training sizes: quick, standard or paper (paper: 4 x 256, 10,000 epochs, batch 1000)")
	epochs := fs.Int("epochs", 0, "override the preset's number of epochs")
	seed := fs.Uint64("seed", 1, "random seed of the weights and of training")
	out := fs.String("out", "", "model folder (required); an unfinished one is resumed")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p, err := fluxPresetFlag(*presetName, *epochs)
	if err != nil {
		return err
	}
	if *data == "" || *out == "" {
		return usageErrorf("--data and --out are required")
	}
	if *process != "vpfamily" && *kappa != 1 {
		return usageErrorf("--kappa applies to --process vpfamily only")
	}
	pc, err := fluxinv.ProcessConfig(*process, *kappa)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if err := checkOutDir("--out", *out); err != nil {
		return err
	}
	if err := model.CheckDir(*out); err != nil {
		return usageErrorf("--out: %v", err)
	}
	if st, err := os.Stat(*data); err != nil || !st.IsDir() {
		return usageErrorf("--data %s is not a folder (make one with `pdediff flux data`)", *data)
	}
	var meta flux.Meta
	if err := arrayio.ReadJSON(filepath.Join(*data, flux.MetaFile), &meta); err != nil {
		return usageErrorf("--data: %v", err)
	}
	if err := checkMemory(fmt.Sprintf("flux train on %d pairs", meta.NTrain), flux.EstimateBytes(meta.NTrain, meta.NTest)*2+
		float64(p.BatchSize)*float64(p.Width)*8*float64(4*p.HiddenLayers+8), "use a smaller data set"); err != nil {
		return err
	}
	ds, err := flux.Load(*data)
	if err != nil {
		return err
	}
	b, err := backend.New()
	if err != nil {
		return err
	}
	var progress io.Writer = stderr
	if *quiet {
		progress = nil
	}
	m, res, err := fluxinv.Train(ctx, b, ds, pc, p.Training(), *seed, *out, nil, progress)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "model %s: %s on %s (noise level %g, %d pairs), %d steps, final loss %.5g, %.1fs\n",
		*out, fluxinv.ProcessLabel(pc), m.Data.Name, m.Info.NoiseLevel, m.Data.Rows, res.Steps, res.FinalLoss, res.Seconds)
	return nil
}

func runFluxEpochs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("flux epochs", "train one cell of a preset (process x sampler at one noise level) for several training lengths and compare each learnt posterior with the exact one (nonlinear: the reference); writes epochs.json and the epochs-curve figure", stderr)
	presetName := fs.String("preset", "quick", "base preset: quick, standard or paper (its data sizes, network, sampler settings)")
	problem := fs.String("problem", "linear", "linear, masked (one model for every mask; each test case against the exact posterior of its own mask) or nonlinear (against the reference posterior, at the preset's reference level only)")
	level := fs.Float64("level", 0.05, "noise level (one of the preset's)")
	process := fs.String("process", "ve", "forward process: ve or vp")
	sampler := fs.String("sampler", "ode", "sampler column: ode or sde")
	epochList := fs.String("epochs", "100,300,900", "comma-separated increasing training lengths in epochs")
	cases := fs.Int("cases", 0, "override the preset's number of test cases")
	draws := fs.Int("draws", 0, "override the preset's draws per case")
	seed := fs.Uint64("seed", 1, "random seed of the whole study")
	out := fs.String("out", "", "study folder (required); one run folder e<epochs> per point, reused when complete")
	reference := fs.String("reference", "", "nonlinear problem: a run folder (e.g. figures/flux-nonlinear-standard) whose reference posterior is taken when made for the same data and settings; default: computed at the first point and reused by the others")
	resample := fs.Bool("mask-resample", false, "masked problem: draw a fresh sensor mask for a pair every time it enters a batch (ours; default: the preset's)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !slices.Contains(fluxinv.Problems(), *problem) {
		return usageErrorf("--problem must be one of %v, got %q", fluxinv.Problems(), *problem)
	}
	if *reference != "" {
		if *problem != physics.ProblemNonlinear {
			return usageErrorf("--reference is for --problem nonlinear")
		}
		if st, err := os.Stat(*reference); err != nil || !st.IsDir() {
			return usageErrorf("--reference %s is not a folder", *reference)
		}
	}
	p, err := fluxPresetFlag(*presetName, 0)
	if err != nil {
		return err
	}
	if p, err = fluxinv.PresetForProblem(*problem, string(p.Name)); err != nil {
		return usageErrorf("--problem: %v", err)
	}
	var epochs []int
	for _, f := range strings.Split(*epochList, ",") {
		e, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || e < 1 {
			return usageErrorf("--epochs: %q is not a positive integer", f)
		}
		epochs = append(epochs, e)
	}
	if *cases < 0 || *draws < 0 {
		return usageErrorf("--cases and --draws must be ≥ 1 (or 0 for the preset's)")
	}
	if *cases > 0 {
		p.Cases = *cases
		p.Fig7Cases = nil
	}
	if *draws > 0 {
		p.Draws = *draws
	}
	if *resample {
		p.MaskResample = true
	}
	if *out == "" {
		return usageErrorf("--out is required")
	}
	if err := checkOutDir("--out", *out); err != nil {
		return err
	}
	if err := fluxinv.CheckEpochStudy(p, *level, *process, *sampler, epochs); err != nil {
		return usageErrorf("%v", err)
	}
	b, err := backend.New()
	if err != nil {
		return err
	}
	st, err := fluxinv.RunEpochStudy(ctx, b, p, *level, *process, *sampler, epochs, *seed, *out, fluxinv.EpochOptions{Log: stderr, Reference: *reference})
	if err != nil {
		return err
	}
	against := "exact"
	if *problem == physics.ProblemNonlinear {
		against = "reference"
	}
	nl := *problem == physics.ProblemNonlinear
	fmt.Fprintf(stdout, "| epochs | steps | NFE | error / %s | std / %s | cov 95 |", against, against)
	if nl {
		fmt.Fprintf(stdout, " converged cases (R̂ < %g) | error / ref there | std / ref there |", fluxinv.RHatConverged)
	}
	fmt.Fprintf(stdout, "\n|---|---|---|---|---|---|%s\n", map[bool]string{true: "---|---|---|"}[nl])
	for _, pt := range st.Points {
		fmt.Fprintf(stdout, "| %d | %d | %.0f | %.3f | %.3f | %.3f |", pt.Epochs, pt.Steps, pt.NFE, pt.ErrorRatio, pt.StdRatio, pt.Coverage95)
		if nl {
			fmt.Fprintf(stdout, " %d | %.3f | %.3f |", pt.ConvergedCases, pt.ErrorRatioConverged, pt.StdRatioConverged)
		}
		fmt.Fprintln(stdout)
	}
	return nil
}

func runFluxExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("flux export", "write the sampling weights of a trained model folder (EMA weights if it samples with them) into a new folder, without optimiser state or loss history; flux sample and flux exact read it like the original", stderr)
	src := fs.String("model", "", "trained model folder (required)")
	out := fs.String("out", "", "new model folder (required; absent or empty)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *src == "" || *out == "" {
		return usageErrorf("--model and --out are required")
	}
	if _, _, err := fluxinv.ReadModelInfo(*src); err != nil {
		return usageErrorf("--model: %v", err)
	}
	if err := checkOutDir("--out", *out); err != nil {
		return err
	}
	if err := model.CheckNewDir(*out); err != nil {
		return usageErrorf("--out: %v", err)
	}
	b, err := backend.New()
	if err != nil {
		return err
	}
	if err := model.ExportWeights(b, *src, *out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported the sampling weights of %s to %s\n", *src, *out)
	return nil
}

// fluxObservations reads --readings and --mask and validates them against
// the model folder's recorded data description (its sidecar only: the
// network is not loaded).
func fluxObservations(modelDir, readings, mask string) (model.Data, fluxinv.Info, fluxinv.Observations, error) {
	var none fluxinv.Observations
	y, k, err := fluxinv.ReadRows(readings, "readings")
	if err != nil {
		return model.Data{}, fluxinv.Info{}, none, usageErrorf("--readings: %v", err)
	}
	var m []float64
	if mask != "" {
		mv, mk, err := fluxinv.ReadRows(mask, "mask")
		if err != nil {
			return model.Data{}, fluxinv.Info{}, none, usageErrorf("--mask: %v", err)
		}
		if mk != k {
			return model.Data{}, fluxinv.Info{}, none, usageErrorf("--mask has %d rows but --readings has %d", mk, k)
		}
		m = mv
	}
	d, info, err := fluxinv.ReadModelInfo(modelDir)
	if err != nil {
		return d, info, none, usageErrorf("--model: %v", err)
	}
	obs, err := fluxinv.NewObservations(info, y, m)
	if err != nil {
		return d, info, none, usageErrorf("--readings %s: %v", readings, err)
	}
	return d, info, obs, nil
}

// checkPosteriorOut validates an output posterior file name.
func checkPosteriorOut(out string) error {
	if out == "" {
		return usageErrorf("--out is required (a .npz file)")
	}
	if !strings.HasSuffix(out, ".npz") {
		return usageErrorf("--out must name a .npz file, got %s", out)
	}
	if err := checkOutFile("--out", out); err != nil {
		return err
	}
	return checkOutFile("--out (its sidecar)", fluxinv.SidecarPath(out))
}

// posteriorBytes estimates the memory of k × n draws: the draws, the
// sampler's state and scratch (about 12 values per draw and dimension for the
// adaptive sampler, per observation) and the output file's buffers.
func posteriorBytes(k, n int) float64 {
	return 8*float64(fluxinv.D)*float64(k)*float64(n)*3 + 8*16*float64(fluxinv.D)*float64(n)
}

func runFluxSample(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("flux sample", "draw posterior flux samples q | readings with the reverse process of a trained model", stderr)
	modelDir := fs.String("model", "", "model folder made by pdediff flux train (required)")
	readings := fs.String("readings", "", "physical sensor readings Y.npy, float64 of shape (k, 30): bottom row left to right, then top; NaN = sensor off (masked models only) (required)")
	mask := fs.String("mask", "", "optional sensor mask M.npy of shape (k, 30), 1 = on, 0 = off (masked models only; default: NaN readings are off)")
	n := fs.Int("n", 1000, "posterior samples per observation")
	spec := samplerFlags(fs)
	eps := fs.Float64("eps", 0, "final forward time of the reverse integration, in (0, 0.1) (0: the flux experiments' end time for the model's process, 1e-5 for ve and 1e-3 for vp, as in pdediff flux experiment)")
	seed := fs.Uint64("seed", 1, "random seed (observation j draws from its own stream sample.GroupSeed(seed, j))")
	out := fs.String("out", "", "output P.npz: q (k, n, 30) physical flux samples, mean, std (k, 30), nfe (k); sidecar P.json (required)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	sp, err := spec()
	if err != nil {
		return err
	}
	switch {
	case *modelDir == "" || *readings == "":
		return usageErrorf("--model and --readings are required")
	case *n < 2:
		return usageErrorf("--n must be ≥ 2, got %d", *n)
	case !(*eps >= 0 && *eps < 0.1):
		return usageErrorf("--eps must lie in [0, 0.1), got %v", *eps)
	}
	if err := checkPosteriorOut(*out); err != nil {
		return err
	}
	d, info, obs, err := fluxObservations(*modelDir, *readings, *mask)
	if err != nil {
		return err
	}
	if err := checkMemory(fmt.Sprintf("flux sample of k = %d observations × --n %d", obs.K, *n), posteriorBytes(obs.K, *n), "lower --n or split --readings"); err != nil {
		return err
	}
	b, err := backend.New()
	if err != nil {
		return err
	}
	m, err := fluxinv.LoadModel(b, *modelDir)
	if err != nil {
		return err
	}
	if m.Data.Fingerprint != d.Fingerprint {
		return fmt.Errorf("%s changed while it was read; run again", *modelDir)
	}
	sp.Eps = *eps
	if sp.Eps == 0 {
		sp.Eps = fluxinv.EndTime(m.ProcessConfig.Process)
	}
	cond, err := info.Conditioning(obs)
	if err != nil {
		return err
	}
	var progress io.Writer = stderr
	if *quiet {
		progress = nil
	}
	post, err := fluxinv.SamplePosterior(ctx, m, cond, *n, sp, *seed, progress)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("stopped while sampling; nothing was written to %s", *out)
		}
		return err
	}
	f := &fluxinv.PosteriorFile{Meta: fluxinv.PosteriorMeta{Kind: fluxinv.KindModel, Model: *modelDir, Data: m.Data.Name, Fingerprint: m.Data.Fingerprint,
		Process: fluxinv.ProcessLabel(m.ProcessConfig), Sampler: &sp, Seed: *seed, ObservationSeeds: fluxinv.ObservationSeedRule,
		NoiseLevel: info.NoiseLevel, NoiseStd: info.NoiseStd, Masks: info.Masks}, Post: post, Obs: obs}
	if err := fluxinv.WritePosteriorFile(*out, f); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d × %d posterior samples, sampler %s, mean NFE %.0f, %.2fs\n", *out, obs.K, *n, sp, f.Meta.NFEMean, post.Seconds)
	return nil
}

func runFluxExact(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("flux exact", "exact posterior samples for sensor readings, from the prior, forward model and noise a model records (linear problem: Gaussian or ESS, theory §7.2-7.3; nonlinear: ESS with the nonlinear likelihood, theory §7.7)", stderr)
	modelDir := fs.String("model", "", "model folder made by pdediff flux train: its recorded data (prior, noise, masks, mesh) define the problem (required)")
	readings := fs.String("readings", "", "physical sensor readings Y.npy of shape (k, 30); NaN = sensor off (masked models only) (required)")
	mask := fs.String("mask", "", "optional sensor mask M.npy of shape (k, 30), 1 = on (masked models only)")
	n := fs.Int("n", 1000, "posterior samples per observation")
	method := fs.String("method", "ess", "gauss (Gaussian posterior of the unclipped prior) or ess (elliptical slice sampling of the clipped prior the data come from; noise > 0)")
	seed := fs.Uint64("seed", 1, "random seed (observation j draws from its own stream sample.GroupSeed(seed, j))")
	out := fs.String("out", "", "output E.npz with the layout of flux sample (nfe: log-likelihood evaluations for ess, 0 for gauss; rhat for ess) (required)")
	chains := fs.Int("chains", 0, "ess: chains per observation (0: the problem's default, 4)")
	burnIn := fs.Int("burn-in", -1, "ess: discarded iterations of every chain in every round (-1: the problem's default, 500 linear, 100 nonlinear)")
	iters := fs.Int("iterations", 0, "ess: kept-from iterations of every chain in every round (0: the problem's default, 2000 linear, 400 nonlinear)")
	adapt := fs.Int("adapt", -1, "ess: adaptation rounds (-1: the problem's default, 3 linear, 1 nonlinear)")
	inflate := fs.Float64("inflate", 0, "ess: inflation >= 1 of the adapted ellipse (0: the problem's default, 1.5 linear, 1.2 nonlinear)")
	independence := fs.Bool("independence", false, "ess: add an independence Metropolis-Hastings jump (multivariate t of the adapted ellipse) to every iteration (theory eq. 126)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *chains < 0 || *burnIn < -1 || *iters < 0 || *adapt < -1 || (*inflate != 0 && !(*inflate >= 1)) || math.IsInf(*inflate, 0):
		return usageErrorf("ess settings: --chains ≥ 1, --burn-in ≥ 0, --iterations ≥ 1, --adapt ≥ 0 and a finite --inflate ≥ 1 (or their defaults), got %d, %d, %d, %d, %v", *chains, *burnIn, *iters, *adapt, *inflate)
	case *method != fluxinv.ExactGauss && *method != fluxinv.ExactESS:
		return usageErrorf("unknown --method %q (want gauss or ess)", *method)
	case *method == fluxinv.ExactGauss && (*chains != 0 || *burnIn != -1 || *iters != 0 || *adapt != -1 || *inflate != 0 || *independence):
		return usageErrorf("--chains, --burn-in, --iterations, --adapt, --inflate and --independence are settings of --method ess")
	case *modelDir == "" || *readings == "":
		return usageErrorf("--model and --readings are required")
	case *n < 2:
		return usageErrorf("--n must be ≥ 2, got %d", *n)
	}
	if err := checkPosteriorOut(*out); err != nil {
		return err
	}
	d, info, obs, err := fluxObservations(*modelDir, *readings, *mask)
	if err != nil {
		return err
	}
	nonlinear := info.Problem == physics.ProblemNonlinear
	if nonlinear && *method != fluxinv.ExactESS {
		return usageErrorf("--model %s is a model of the nonlinear problem: only --method ess (with the nonlinear likelihood) applies", *modelDir)
	}
	if *method == fluxinv.ExactESS && !(info.NoiseStd > 0) {
		return usageErrorf("--method ess needs noise > 0, but %s was trained at noise level 0; use --method gauss", *modelDir)
	}
	if err := checkMemory(fmt.Sprintf("flux exact of k = %d observations × --n %d", obs.K, *n), posteriorBytes(obs.K, *n), "lower --n or split --readings"); err != nil {
		return err
	}
	ess := fluxinv.DefaultESS()
	if nonlinear {
		ess = fluxinv.NonlinearESS()
	}
	if *chains > 0 {
		ess.Chains = *chains
	}
	if *burnIn >= 0 {
		ess.BurnIn = *burnIn
	}
	if *iters > 0 {
		ess.Iterations = *iters
	}
	if *adapt >= 0 {
		ess.Adapt = *adapt
	}
	if *inflate > 0 {
		ess.Inflate = *inflate
	}
	ess.Independence = *independence
	var post *fluxinv.Posterior
	if nonlinear {
		var rep fluxinv.ReferenceReport
		post, rep, err = fluxinv.NonlinearReference(ctx, info, obs, *n, ess, *seed)
		if err == nil {
			fmt.Fprintf(stderr, "flux exact: %d forward solves (%.1f chord iterations each), %.2f evaluations per ESS iteration\n", rep.Solves, rep.ChordIterations, rep.EvalsPerIteration)
		}
	} else {
		g, gerr := fluxinv.ResponseMatrix(info)
		if gerr != nil {
			return gerr
		}
		post, err = fluxinv.Exact(ctx, info, g, obs, *n, *method, ess, *seed)
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("stopped while sampling; nothing was written to %s", *out)
		}
		return err
	}
	meta := fluxinv.PosteriorMeta{Kind: fluxinv.KindExact, Model: *modelDir, Data: d.Name, Fingerprint: d.Fingerprint, Method: *method,
		Seed: *seed, ObservationSeeds: fluxinv.ObservationSeedRule, NoiseLevel: info.NoiseLevel, NoiseStd: info.NoiseStd, Masks: info.Masks}
	if *method == fluxinv.ExactESS {
		meta.ESS = &ess
	}
	f := &fluxinv.PosteriorFile{Meta: meta, Post: post, Obs: obs}
	if err := fluxinv.WritePosteriorFile(*out, f); err != nil {
		return err
	}
	extra := ""
	if *method == fluxinv.ExactESS {
		extra = fmt.Sprintf(", split-R̂ max %.4f", f.Meta.RHatMax)
		var slow []string
		for j, r := range post.RHat {
			if !(r < fluxinv.RHatConverged) {
				slow = append(slow, fmt.Sprintf("%d (%.3f)", j, r))
			}
		}
		if len(slow) > 0 {
			fmt.Fprintf(stderr, "flux exact: warning: split-R̂ ≥ %g for %d of %d observations: %s; their chains have not converged: rerun with more --iterations or --adapt, or with --independence\n",
				fluxinv.RHatConverged, len(slow), post.K, strings.Join(slow, ", "))
		}
	}
	fmt.Fprintf(stdout, "%s: %d × %d exact posterior samples (%s%s), %.2fs\n", *out, obs.K, *n, *method, extra, post.Seconds)
	return nil
}

func runFluxEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("flux eval", "posterior metrics (theory eqs. 116-119) of posterior samples against the true fluxes", stderr)
	postPath := fs.String("posterior", "", "posterior file P.npz made by flux sample or flux exact (required)")
	truthPath := fs.String("truth", "", "true fluxes Q.npy of shape (k, 30), physical units (required)")
	refPath := fs.String("reference", "", "optional reference posterior E.npz (e.g. made by flux exact) of the same observations: error and std ratios")
	bins := fs.Int("bins", 10, "SBC rank-histogram bins (at most n + 1)")
	seed := fs.Uint64("seed", 1, "seed of the SBC tie-breaking")
	asJSON := fs.Bool("json", false, "print the metrics as JSON (lib/posterior Metrics)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *postPath == "" || *truthPath == "" {
		return usageErrorf("--posterior and --truth are required")
	}
	truth, k, err := fluxinv.ReadRows(*truthPath, "truth")
	if err != nil {
		return usageErrorf("--truth: %v", err)
	}
	for i, v := range truth {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return usageErrorf("--truth: value %v at row %d, segment %d is not finite", v, i/fluxinv.D, i%fluxinv.D+1)
		}
	}
	for _, p := range []string{*postPath, *refPath} {
		if p == "" {
			continue
		}
		if st, err := os.Stat(p); err == nil {
			if err := checkMemory("reading "+p, 2*float64(st.Size()), ""); err != nil {
				return err
			}
		}
	}
	pf, err := fluxinv.ReadPosteriorFile(*postPath)
	if err != nil {
		return err
	}
	if pf.Post.K != k {
		return usageErrorf("--posterior has %d observations but --truth has %d rows", pf.Post.K, k)
	}
	var ref *fluxinv.Posterior
	if *refPath != "" {
		rf, err := fluxinv.ReadPosteriorFile(*refPath)
		if err != nil {
			return err
		}
		if rf.Post.K != k {
			return usageErrorf("--reference has %d observations but --truth has %d rows", rf.Post.K, k)
		}
		if pf.Obs.Readings != nil && rf.Obs.Readings != nil && !sameReadings(pf.Obs.Readings, rf.Obs.Readings) {
			return usageErrorf("--reference %s was drawn for other readings than --posterior %s", *refPath, *postPath)
		}
		ref = rf.Post
	}
	if *bins < 2 || *bins > pf.Post.N+1 {
		return usageErrorf("--bins must lie in 2..%d (samples + 1), got %d", pf.Post.N+1, *bins)
	}
	var prior []float64
	if k >= 2 {
		prior = fluxinv.PriorStd(truth)
	}
	met, _, err := fluxinv.Evaluate(pf.Post, truth, ref, prior, *bins, *seed)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(met)
	}
	fmt.Fprintf(stdout, "%d cases × %d samples: normalised error %.4f, mean std %.4f", met.Cases, met.Samples, met.ErrorMean, met.StdMean)
	if met.PriorStd != nil {
		fmt.Fprintf(stdout, " (prior std %.4f)", met.PriorStdMean)
	}
	fmt.Fprintf(stdout, ", coverage 68/95 %.3f/%.3f, SBC pooled p %.3g\n", met.Coverage68Mean, met.Coverage95Mean, met.SBC.PooledPValue)
	if c := met.Reference; c != nil {
		fmt.Fprintf(stdout, "reference (%d samples): error %.4f (ratio %.3f), std %.4f (ratio %.3f)\n", c.Samples, c.ErrorMean, c.ErrorRatioOverall, c.StdMean, c.StdRatioOverall)
	}
	return nil
}

// sameReadings compares readings that may hold NaN (off sensors).
func sameReadings(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func runFluxExperiment(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("flux experiment", "the flux-inversion experiment (paper Section 6.2): per noise level a data set, VE and VP models, ODE and SDE posteriors of the test cases, exact posteriors, metrics, tables and Figs 7-11", stderr)
	problem := fs.String("problem", "linear", "linear (paper 6.2), masked (one model for every sensor mask, paper 6.2.1) or nonlinear (advection-diffusion-reaction, paper 6.3, with an ESS reference posterior)")
	presetName := fs.String("preset", "quick", "quick (minutes), standard or paper (the paper's sizes)")
	out := fs.String("out", "", "run folder (required); everything found there that this preset and seed made is reused, and cells of separate --only runs are merged")
	only := fs.String("only", "", "comma-separated cells to run, each process-sampler-level with * wildcards (e.g. ve-ode-0.05,vp-*-0.2); default all")
	seed := fs.Uint64("seed", 1, "random seed of the whole run")
	noFigures := fs.Bool("no-figures", false, "skip the figures")
	quiet := fs.Bool("quiet", false, "no progress bars")
	reference := fs.String("reference", "", "nonlinear problem: a run folder (e.g. figures/flux-nonlinear-standard) whose reference posterior is taken instead of computed when it was made for the same data and settings")
	sdeSampler := fs.String("sde-sampler", "", "sampler of the sde column, overriding the preset's: sde (Euler-Maruyama on the uniform grid, the paper's) or sde-karras (on the noise-level grid, theory eq. 127); models and data of a run folder are reused, the sde cells sampled again")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *reference != "" {
		if *problem != "nonlinear" {
			return usageErrorf("--reference is for --problem nonlinear")
		}
		if st, err := os.Stat(*reference); err != nil || !st.IsDir() {
			return usageErrorf("--reference %s is not a folder", *reference)
		}
	}
	name, err := experiment.ParsePreset(*presetName)
	if err != nil {
		return usageErrorf("--preset: %v", err)
	}
	p, err := fluxinv.PresetForProblem(*problem, string(name))
	if err != nil {
		return usageErrorf("--problem/--preset: %v", err)
	}
	if *sdeSampler != "" {
		if p, err = p.WithSDESampler(*sdeSampler); err != nil {
			return usageErrorf("--sde-sampler: %v", err)
		}
	}
	var patterns []string
	if *only != "" {
		patterns = strings.Split(*only, ",")
	}
	if _, err := fluxinv.SelectCells(p, patterns); err != nil {
		return usageErrorf("--only: %v", err)
	}
	if err := checkOutDir("--out", *out); err != nil {
		return err
	}
	b, err := backend.New()
	if err != nil {
		return err
	}
	opts := fluxinv.Options{Only: patterns, Log: stderr, NoFigures: *noFigures, Reference: *reference}
	if !*quiet {
		opts.Progress = stderr
	}
	res, err := fluxinv.Run(ctx, b, p, *seed, *out, opts)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, res.Markdown())
	var tm fluxinv.Timing
	if arrayio.ReadJSON(filepath.Join(*out, "timing.json"), &tm) == nil {
		fmt.Fprintf(stdout, "\nThis run: %.1fs on %d cores, backend %s; stage times in %s.\n", tm.Seconds["run/last"], tm.Cores, tm.Backend, filepath.Join(*out, "timing.json"))
	}
	return nil
}

func runFluxFixedMask(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("flux fixed-mask", "beyond paper 6.2.1: train a model on data read through one fixed sensor mask and compare its posteriors, and those of the masked experiment's model for every mask, with the exact posterior of that mask on the same test cases", stderr)
	presetName := fs.String("preset", "quick", "preset of the masked experiment whose data and training settings are used: quick, standard or paper")
	seed := fs.Uint64("seed", 1, "random seed: the same as the masked experiment's that trained --one-model")
	level := fs.Float64("level", 0.05, "noise level (the --one-model's)")
	process := fs.String("process", "ve", "diffusion process of both models: ve or vp")
	off := fs.String("off", fluxinv.SensorList(fluxinv.DefaultFixedMask()), "the sensors off in the fixed mask, comma-separated: b1-b15 (bottom row), t1-t15 (top row) or 0-based indices 0-29")
	oneModel := fs.String("one-model", "", "model folder trained on every mask (required): the masked experiment's model of this level and process, e.g. figures/flux-masked-standard/models/ve-0.05")
	out := fs.String("out", "", "study folder (required); what this preset, seed and mask made there is reused")
	quiet := fs.Bool("quiet", false, "no progress bars")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	name, err := experiment.ParsePreset(*presetName)
	if err != nil {
		return usageErrorf("--preset: %v", err)
	}
	p, err := fluxinv.PresetForProblem(fluxinv.ProblemMasked, string(name))
	if err != nil {
		return usageErrorf("--preset: %v", err)
	}
	mask, err := fluxinv.ParseSensorList(*off)
	if err != nil {
		return usageErrorf("--off: %v", err)
	}
	if *process != "ve" && *process != "vp" {
		return usageErrorf("--process must be ve or vp, got %q", *process)
	}
	if !(*level >= 0) || math.IsInf(*level, 0) {
		return usageErrorf("--level must be a finite value >= 0, got %v", *level)
	}
	if *oneModel == "" {
		return usageErrorf("--one-model is required (the masked experiment's model folder of this level and process)")
	}
	if st, err := os.Stat(*oneModel); err != nil || !st.IsDir() {
		return usageErrorf("--one-model %s is not a folder", *oneModel)
	}
	if err := checkOutDir("--out", *out); err != nil {
		return err
	}
	b, err := backend.New()
	if err != nil {
		return err
	}
	opt := fluxinv.FixedMaskOptions{Level: *level, Process: *process, Mask: mask, OneModel: *oneModel, Log: stderr}
	if !*quiet {
		opt.Progress = stderr
	}
	res, err := fluxinv.FixedMaskStudy(ctx, b, p, *seed, *out, opt)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, res.Markdown())
	return nil
}
