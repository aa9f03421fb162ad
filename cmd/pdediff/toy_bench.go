package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/pdediff/pdediff/datasets/toy"
	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/backend"
	"github.com/pdediff/pdediff/lib/toybench"
)

func init() {
	toyCommands["train"] = command{name: "train", summary: "train the conditional score network of one case and process", run: runToyTrain}
	toyCommands["sample"] = command{name: "sample", summary: "draw x | y from a trained model with a chosen sampler", run: runToySample}
	toyCommands["eval"] = command{name: "eval", summary: "Sinkhorn distance of samples to the reference conditional", run: runToyEval}
	toyCommands["table2"] = command{name: "table2", summary: "regenerate Table 2 (train 6 models, sample ODE + SDE, Sinkhorn)", run: runToyTable2}
}

// interruptible returns a context cancelled by Ctrl-C, so that training saves
// a checkpoint before exiting.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

// presetFlag returns the named preset with its epochs replaced by epochs
// when that is > 0 (the --epochs override; 0 keeps the preset's).
func presetFlag(name string, epochs int) (toybench.Preset, error) {
	p, err := toybench.PresetByName(name)
	if err != nil {
		return p, usageErrorf("%v", err)
	}
	if epochs < 0 {
		return p, usageErrorf("--epochs must be > 0, got %d", epochs)
	} else if epochs > 0 {
		p.Epochs = epochs
	}
	return p, nil
}

func runToyTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("toy train", "train a conditional score network S(x_t, y, t) (SPEC Eq 45) for one case and process", stderr)
	cas := fs.String("case", "", "joint density: tanh, bimodal or spiral (required unless --data)")
	data := fs.String("data", "", "optional training data .npz with arrays x, y (from `pdediff toy data`); default: the preset's n_train pairs drawn with --seed")
	process := fs.String("process", "vp", "forward process: ve or vp (SPEC §8 settings of Section 6.1)")
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
	if _, err := toybench.NewProcess(*process); err != nil {
		return usageErrorf("%v", err)
	}
	b, err := backend.New()
	if err != nil {
		return err
	}
	var progress io.Writer = stderr
	if *quiet {
		progress = nil
	}
	ctx, cancel := interruptible()
	defer cancel()
	var info toybench.TrainInfo
	switch {
	case *data != "":
		a, err := arrayio.ReadNPZ(*data)
		if err != nil {
			return err
		}
		x, okx := a["x"]
		y, oky := a["y"]
		if !okx || !oky || len(x.Data) != len(y.Data) || x.Cols() != 1 || y.Cols() != 1 {
			return fmt.Errorf("%s: need arrays x and y of shape (n, 1) with the same n", *data)
		}
		label := *data
		if *cas != "" {
			label = *cas
		}
		_, info, err = toybench.TrainOn(ctx, b, x.Data, y.Data, label, *process, p, *seed, *out, progress)
		if err != nil {
			return err
		}
	case *cas != "":
		c, err := toy.ParseCase(*cas)
		if err != nil {
			return usageErrorf("%v", err)
		}
		if _, info, err = toybench.TrainModel(ctx, b, c, *process, p, *seed, *out, progress); err != nil {
			return err
		}
	default:
		return usageErrorf("--case or --data is required")
	}
	fmt.Fprintf(stdout, "model %s: %d steps, final loss %.5g, %.1fs\n", *out, info.Steps, info.FinalLoss, info.Seconds)
	return nil
}

func runToySample(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("toy sample", "draw x | y with the reverse process of a trained model", stderr)
	model := fs.String("model", "", "model folder from `pdediff toy train` (required)")
	y := fs.Float64("y", 0, "conditioning value y")
	n := fs.Int("n", 10000, "number of samples")
	sampler := fs.String("sampler", "ode", "ode (Dormand-Prince PF-ODE), sde (Euler-Maruyama alpha=1), em (any --alpha), euler, heun, rk4")
	steps := fs.Int("steps", 1000, "steps of the fixed-step samplers")
	alpha := fs.Float64("alpha", 1, "noise parameter of the em sampler (0 = PF-ODE, 1 = reverse SDE)")
	rtol := fs.Float64("rtol", 1e-5, "relative tolerance of the ode sampler")
	atol := fs.Float64("atol", 1e-5, "absolute tolerance of the ode sampler")
	seed := fs.Uint64("seed", 1, "random seed")
	out := fs.String("out", "", "output .npz (array x of shape (n, 1), y, nfe) (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *model == "" || *out == "":
		return usageErrorf("--model and --out are required")
	case *n < 1 || *steps < 1 || *alpha < 0 || !(*rtol > 0) || !(*atol > 0):
		return usageErrorf("need --n ≥ 1, --steps ≥ 1, --alpha ≥ 0, --rtol > 0, --atol > 0")
	case !strings.HasSuffix(*out, ".npz"):
		return usageErrorf("--out must name a .npz file")
	}
	b, err := backend.New()
	if err != nil {
		return err
	}
	net, proc, err := toybench.LoadModel(b, *model)
	if err != nil {
		return err
	}
	r, err := toybench.Sample(proc, net, *y, *n, toybench.SampleSpec{Sampler: *sampler, Steps: *steps, Alpha: *alpha, Rtol: *rtol, Atol: *atol, Seed: *seed}, stderr)
	if err != nil {
		return err
	}
	if err := arrayio.WriteNPZ(*out, map[string]arrayio.Array{
		"x": arrayio.Matrix(*n, 1, r.X), "y": arrayio.Vector([]float64{*y}), "nfe": arrayio.Vector([]float64{float64(r.NFE)}),
	}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d samples of x | y = %g, sampler %s, NFE %d, %.2fs\n", *out, *n, *y, *sampler, r.NFE, r.Seconds)
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
	if *refSize < 2 || !(*half > 0) || !(*reg > 0) {
		return usageErrorf("need --ref-size ≥ 2, --half-width > 0, --reg > 0")
	}
	switch {
	case *reference != "band" && *reference != "exact":
		return usageErrorf("unknown --reference %q (want band or exact)", *reference)
	case *reference == "exact" && !toy.HasExactSampler(c):
		return usageErrorf("case %s has no exact conditional sampler; use --reference band", c)
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
	d, err := toybench.Evaluate(x.Data, ref, *reg)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"case": c, "y": *y, "reference": *reference, "ref_size": len(ref), "n": len(x.Data), "distance": d})
	}
	fmt.Fprintf(stdout, "sinkhorn (reg %g, euclidean): pot %.5f (%d it, converged %v)  log %.5f (%d it, converged %v)  [%d samples vs %d reference]\n",
		*reg, d.POT, d.POTIterations, d.POTConverged, d.Log, d.LogIterations, d.LogConverged, len(x.Data), len(ref))
	return nil
}

func runToyTable2(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("toy table2", "regenerate the paper's Table 2 (Section 6.1)", stderr)
	presetName := fs.String("preset", "quick", "quick (minutes) or paper (the paper's sizes: 10,000 epochs, 10,000 samples)")
	out := fs.String("out", "", "output folder: models/, samples/, table2.md, table2.csv, table2.json (required); models found there are reused")
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
	b, err := backend.New()
	if err != nil {
		return err
	}
	ctx, cancel := interruptible()
	defer cancel()
	tab, err := toybench.RunTable2(ctx, b, p, *seed, *out, stderr)
	if err != nil {
		return err
	}
	md, err := os.ReadFile(*out + "/table2.md")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\nTotal %.1fs on %d cores (%s backend).\n", md, tab.Seconds, tab.Cores, tab.Backend)
	return nil
}
