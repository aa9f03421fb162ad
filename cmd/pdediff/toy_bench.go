package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/pdediff/pdediff/datasets/toy"
	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/backend"
	"github.com/pdediff/pdediff/lib/experiment/density"
	"github.com/pdediff/pdediff/lib/model"
	"github.com/pdediff/pdediff/lib/sample"
	"github.com/pdediff/pdediff/lib/sde"
)

func init() {
	toyCommands["train"] = command{name: "train", summary: "train the conditional score network of one case and process", runCtx: runToyTrain}
	toyCommands["sample"] = command{name: "sample", summary: "draw x | y from a trained model with a chosen sampler", runCtx: runToySample}
	toyCommands["eval"] = command{name: "eval", summary: "Sinkhorn distance of samples to the reference conditional", run: runToyEval}
	toyCommands["table2"] = command{name: "table2", summary: "regenerate Table 2 (train 6 models, sample ODE + SDE, Sinkhorn)", runCtx: runToyTable2}
}

// presetFlag returns the named preset with its epochs replaced by epochs
// when that is > 0 (the --epochs override; 0 keeps the preset's).
func presetFlag(name string, epochs int) (density.Preset, error) {
	p, err := density.PresetFor(name)
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

// samplerFlags registers the sampler flags shared by the sampling commands
// and returns a function that builds and validates the Spec after parsing.
func samplerFlags(fs interface {
	String(name, value, usage string) *string
	Int(name string, value int, usage string) *int
	Float64(name string, value float64, usage string) *float64
}) func() (sample.Spec, error) {
	var b strings.Builder
	for _, s := range sample.Samplers() {
		fmt.Fprintf(&b, "\n    %-6s %s", s.Name, s.Title)
	}
	name := fs.String("sampler", "ode", "sampler:"+b.String())
	steps := fs.Int("steps", sample.DefaultSteps, "steps of the fixed-step samplers")
	alpha := fs.Float64("alpha", 1, "noise parameter of the em sampler (0 = PF-ODE, 1 = reverse SDE; theory eq. 47)")
	rtol := fs.Float64("rtol", sample.DefaultTol, "relative tolerance of the ode sampler")
	atol := fs.Float64("atol", sample.DefaultTol, "absolute tolerance of the ode sampler")
	return func() (sample.Spec, error) {
		info, err := sample.ByName(*name)
		if err != nil {
			return sample.Spec{}, usageErrorf("--sampler: %v", err)
		}
		if *steps < 1 {
			return sample.Spec{}, usageErrorf("--steps must be ≥ 1, got %d", *steps)
		}
		for _, f := range []struct {
			flag string
			v    float64
		}{{"--rtol", *rtol}, {"--atol", *atol}} {
			if math.IsNaN(f.v) || math.IsInf(f.v, 0) || !(f.v > 0) {
				return sample.Spec{}, usageErrorf("%s must be a finite number > 0, got %v", f.flag, f.v)
			}
		}
		spec := sample.Spec{Name: info.Name}
		switch {
		case info.Adaptive:
			spec.Rtol, spec.Atol = *rtol, *atol
		default:
			spec.Steps = *steps
		}
		if info.TakesAlpha {
			spec.Alpha = *alpha
		}
		if err := spec.Validate(); err != nil {
			return sample.Spec{}, usageErrorf("%v", err)
		}
		return spec, nil
	}
}

func runToyTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("toy train", "train a conditional score network S(x_t, y, t) by denoising score matching (theory eq. 61) for one case and process", stderr)
	cas := fs.String("case", "", "joint density: tanh, bimodal or spiral (required unless --data)")
	data := fs.String("data", "", "optional training data .npz with arrays x, y (from `pdediff toy data`); default: the preset's n_train pairs drawn with --seed")
	process := fs.String("process", "vp", "forward process: ve, vp or vpfamily (Section 6.1 settings, theory §5)")
	kappa := fs.Float64("kappa", 1, "kappa > 0 of the VP family (--process vpfamily; theory eq. 16)")
	variant := fs.String("variant", string(sde.VariantPower), "closed form of the VP family: power or alt")
	presetName := fs.String("preset", "quick", "hyper-parameters: quick or paper")
	epochs := fs.Int("epochs", 0, "override the preset's number of epochs")
	out := fs.String("out", "", "model folder (required); an existing one is resumed")
	seed := fs.Uint64("seed", 1, "random seed")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p, err := presetFlag(*presetName, *epochs)
	if err != nil {
		return err
	}
	if *out == "" {
		return usageErrorf("--out is required")
	}
	if *process != "vpfamily" && (*kappa != 1 || *variant != string(sde.VariantPower)) {
		return usageErrorf("--kappa and --variant apply to --process vpfamily only")
	}
	pc, err := density.ProcessConfig(*process, *kappa, sde.Variant(*variant))
	if err != nil {
		return usageErrorf("%v", err)
	}
	if err := checkOutDir("--out", *out); err != nil {
		return err
	}
	if err := model.CheckDir(*out); err != nil {
		return usageErrorf("--out: %v", err)
	}
	var x, y []float64
	label := *cas
	switch {
	case *data != "":
		// LoadData checks the .npz against its sidecar (same run) when there is one.
		var meta *toy.DataMeta
		x, y, meta, err = toy.LoadData(*data)
		if err != nil {
			return err
		}
		if label == "" {
			label = filepath.Base(*data)
			if meta != nil && meta.Case != "" {
				label = meta.Case
			}
		}
	case *cas != "":
		if _, err := toy.ParseCase(*cas); err != nil {
			return usageErrorf("%v", err)
		}
	default:
		return usageErrorf("--case or --data is required")
	}
	b, err := backend.New()
	if err != nil {
		return err
	}
	var progress io.Writer = stderr
	if *quiet {
		progress = nil
	}
	var info density.TrainInfo
	if x != nil {
		_, info, err = density.TrainOn(ctx, b, x, y, label, pc, p, *seed, *out, progress)
	} else {
		c, _ := toy.ParseCase(*cas)
		_, info, err = density.TrainModel(ctx, b, c, pc, p, *seed, *out, progress)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "model %s: %d steps, final loss %.5g, %.1fs\n", *out, info.Steps, info.FinalLoss, info.Seconds)
	return nil
}

func runToySample(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("toy sample", "draw x | y with the reverse process of a trained model", stderr)
	modelDir := fs.String("model", "", "model folder from `pdediff toy train` (required)")
	y := fs.Float64("y", 0, "conditioning value y")
	n := fs.Int("n", 10000, "number of samples")
	spec := samplerFlags(fs)
	seed := fs.Uint64("seed", 1, "random seed")
	out := fs.String("out", "", "output .npz (array x of shape (n, 1), y, nfe) (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	sp, err := spec()
	if err != nil {
		return err
	}
	switch {
	case *modelDir == "" || *out == "":
		return usageErrorf("--model and --out are required")
	case *n < 1:
		return usageErrorf("--n must be ≥ 1, got %d", *n)
	case math.IsNaN(*y) || math.IsInf(*y, 0):
		return usageErrorf("--y must be a finite number, got %v", *y)
	case !strings.HasSuffix(*out, ".npz"):
		return usageErrorf("--out must name a .npz file")
	}
	if err := checkOutFile("--out", *out); err != nil {
		return err
	}
	// State, scratch buffers and the score's input and output: about 12
	// float64 per sample and dimension for the adaptive sampler.
	if err := checkMemory(fmt.Sprintf("toy sample with --n %d", *n), float64(*n)*8*16, "lower --n"); err != nil {
		return err
	}
	b, err := backend.New()
	if err != nil {
		return err
	}
	m, err := density.LoadModelOf(b, *modelDir)
	if err != nil {
		return err
	}
	r, err := density.Sample(m, []float64{*y}, *n, sp, *seed, stderr)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := arrayio.WriteNPZ(*out, map[string]arrayio.Array{
		"x": arrayio.Matrix(*n, m.Data.XDim, r.X), "y": arrayio.Vector([]float64{*y}), "nfe": arrayio.Vector([]float64{float64(r.NFE)}),
	}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d samples of x | y = %g, sampler %s, NFE %d, %.2fs\n", *out, *n, *y, sp, r.NFE, r.Seconds)
	return nil
}

func runToyEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("toy eval", "entropic OT distance between samples of x | y and the reference conditional", stderr)
	samples := fs.String("samples", "", "samples .npz with array x (from `pdediff toy sample`) (required)")
	cas := fs.String("case", "", "joint density the model was trained on (required)")
	y := fs.Float64("y", 0, "conditioning value y of the samples")
	reference := fs.String("reference", "band", "band (the paper's: |y'-y| <= half-width among --ref-size joint samples) or exact (exact conditional sampler; tanh and bimodal only)")
	refSize := fs.Int("ref-size", toy.DefaultReferenceSize, "joint samples the band is cut from / exact samples drawn")
	half := fs.Float64("half-width", toy.DefaultBandHalfWidth, "band half-width")
	reg := fs.Float64("reg", 0.01, "Sinkhorn regularisation")
	seed := fs.Uint64("seed", 1, "seed of the reference samples")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *samples == "" || *cas == "" {
		return usageErrorf("--samples and --case are required")
	}
	c, err := toy.ParseCase(*cas)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if *refSize < 2 || !(*half > 0) || !(*reg > 0) || math.IsInf(*reg, 0) || math.IsNaN(*y) || math.IsInf(*y, 0) {
		return usageErrorf("need --ref-size ≥ 2, --half-width > 0, a finite --reg > 0 and a finite --y")
	}
	switch {
	case *reference != "band" && *reference != "exact":
		return usageErrorf("unknown --reference %q (want band or exact)", *reference)
	case *reference == "exact" && !toy.HasExactSampler(c):
		return usageErrorf("case %s has no exact conditional sampler; use --reference band", c)
	}
	if err := checkMemory(fmt.Sprintf("toy eval with --ref-size %d", *refSize), toy.ReferenceBytes(*refSize), "lower --ref-size"); err != nil {
		return err
	}
	a, err := arrayio.ReadNPZ(*samples)
	if err != nil {
		return err
	}
	x, ok := a["x"]
	if !ok || x.Cols() != 1 {
		return fmt.Errorf("%s: need an array x of shape (n, 1)", *samples)
	}
	var ref []float64
	switch *reference {
	case "band":
		refs, err := toy.Reference(c, []float64{*y}, toy.ReferenceOptions{Size: *refSize, HalfWidth: *half}, *seed)
		if err != nil {
			return err
		}
		ref = refs[0]
	default: // exact
		if ref, err = toy.ExactConditional(c, *y, *refSize, *seed); err != nil {
			return err
		}
	}
	if len(ref) < 2 {
		return fmt.Errorf("reference for y = %g has %d samples: widen --half-width or raise --ref-size", *y, len(ref))
	}
	d, err := density.Evaluate(x.Data, ref, *reg)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(map[string]any{"case": c, "y": *y, "reference": *reference, "ref_size": len(ref), "n": len(x.Data), "distance": d}); err != nil {
			return err
		}
	} else {
		pot := fmt.Sprintf("%.5f", d.POT)
		if !d.POTValid() {
			pot = string(d.POTStatus)
		}
		fmt.Fprintf(stdout, "sinkhorn (reg %g, euclidean): pot %s (%d it, %s)  log %.5f (%d it, converged %v)  [%d samples vs %d reference]\n",
			*reg, pot, d.POTIterations, d.POTStatus, d.Log, d.LogIterations, d.LogConverged, len(x.Data), len(ref))
	}
	switch {
	case !d.POTValid():
		return fmt.Errorf("the POT Sinkhorn kernel underflowed (reg %g): it has no value for these samples (the log-domain value is a result)", *reg)
	case !d.LogConverged:
		return fmt.Errorf("the log-domain Sinkhorn did not converge (reg %g): its value is not a result; raise --reg", *reg)
	}
	return nil
}

func runToyTable2(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("toy table2", "regenerate the paper's Table 2 (Section 6.1)", stderr)
	presetName := fs.String("preset", "quick", "quick (minutes) or paper (the paper's sizes: 10,000 epochs, 10,000 samples)")
	out := fs.String("out", "", "output folder: models/, samples/, table2.md, table2.csv, table2.json, timing.json (required); models found there are reused")
	seed := fs.Uint64("seed", 1, "random seed")
	epochs := fs.Int("epochs", 0, "override the preset's epochs")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p, err := presetFlag(*presetName, *epochs)
	if err != nil {
		return err
	}
	if *out == "" {
		return usageErrorf("--out is required")
	}
	if err := checkOutDir("--out", *out); err != nil {
		return err
	}
	b, err := backend.New()
	if err != nil {
		return err
	}
	tab, err := density.RunTable2(ctx, b, p, *seed, *out, stderr)
	if err != nil {
		return err
	}
	md, err := os.ReadFile(filepath.Join(*out, "table2.md"))
	if err != nil {
		return err
	}
	var tm density.Timing
	_ = arrayio.ReadJSON(filepath.Join(*out, "timing.json"), &tm)
	fmt.Fprintf(stdout, "%s\nTotal %.1fs on %d cores (%s backend).\n", md, tm.Seconds, tm.Cores, tab.Backend)
	return nil
}
