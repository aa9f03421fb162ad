package fluxinv

import (
	"context"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/pdediff/pdediff/datasets/flux"
	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/buildinfo"
	"github.com/pdediff/pdediff/lib/experiment"
	"github.com/pdediff/pdediff/lib/physics"
	"github.com/pdediff/pdediff/lib/plots"
)

// FixedMaskName starts the names of the fixed-mask study's files.
const FixedMaskName = "masked-fixed-mask"

// DefaultFixedMask is the study's default measurement operator: every third
// sensor of each row off (bottom and top sensors 3, 6, 9, 12, 15), 20 of 30
// on, about the Bernoulli(0.7) training law's mean of 21.
func DefaultFixedMask() []float64 {
	m := make([]float64, D)
	for s := range m {
		m[s] = 1
		if (s%physics.SegmentsPerWall+1)%3 == 0 {
			m[s] = 0
		}
	}
	return m
}

// ParseSensorList parses a comma-separated list of sensors, each "b3"/"t15"
// (bottom or top row, 1-based along it) or a 0-based index 0–29, and returns
// the mask with those sensors off and every other on.
func ParseSensorList(list string) ([]float64, error) {
	m := make([]float64, D)
	for i := range m {
		m[i] = 1
	}
	for _, f := range strings.Split(list, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		s := -1
		switch {
		case strings.HasPrefix(f, "b") || strings.HasPrefix(f, "t"):
			k, err := strconv.Atoi(f[1:])
			if err != nil || k < 1 || k > physics.SegmentsPerWall {
				return nil, fmt.Errorf("fluxinv: sensor %q: want b1–b15 or t1–t15 (bottom or top row) or an index 0–29", f)
			}
			s = k - 1
			if f[0] == 't' {
				s += physics.SegmentsPerWall
			}
		default:
			k, err := strconv.Atoi(f)
			if err != nil || k < 0 || k >= D {
				return nil, fmt.Errorf("fluxinv: sensor %q: want b1–b15 or t1–t15 (bottom or top row) or an index 0–29", f)
			}
			s = k
		}
		m[s] = 0
	}
	if err := flux.CheckMask(m); err != nil {
		return nil, fmt.Errorf("fluxinv: %w", err)
	}
	return m, nil
}

// SensorList is the inverse of ParseSensorList: the off sensors of a mask
// as "b3,b6,t15".
func SensorList(mask []float64) string {
	var off []string
	for s, v := range mask {
		if v == 0 {
			row := "b"
			if s >= physics.SegmentsPerWall {
				row = "t"
			}
			off = append(off, row+strconv.Itoa(s%physics.SegmentsPerWall+1))
		}
	}
	return strings.Join(off, ",")
}

// FixedMaskOptions configure FixedMaskStudy.
type FixedMaskOptions struct {
	// Level is the noise level and Process the diffusion process ("ve" or
	// "vp") of both models; the sampler is the ODE.
	Level   float64
	Process string
	// Mask is the measurement operator (30 values, 1 on, 0 off; nil =
	// DefaultFixedMask).
	Mask []float64
	// OneModel is the folder of the model trained on every mask (the masked
	// experiment's model of this level and process, e.g.
	// figures/flux-masked-standard/models/ve-0.05). It must come from the
	// same preset and seed, so that its data are this study's data with
	// Bernoulli masks (checked: noise std and scalings must agree).
	OneModel string
	// Log receives progress lines and Progress progress bars (nil: none).
	Log, Progress io.Writer
}

// FixedMaskResult is the outcome of the fixed-mask study
// (FixedMaskFile + ".json"): the same test cases, all read through one mask, by
// the model trained on that mask alone (Fixed), by the model trained on
// every mask (One) and by the exact posterior of that mask (Exact), with
// the metrics of both models against the exact one.
type FixedMaskResult struct {
	Preset  Preset    `json:"preset"`
	Seed    uint64    `json:"seed"`
	Level   float64   `json:"level"`
	Process string    `json:"process"`
	Mask    []float64 `json:"mask"`
	// On is the number of sensors on and Off names the off sensors.
	On  int      `json:"on"`
	Off []string `json:"off"`
	// OneModel is the folder of the one-model, as given.
	OneModel string `json:"one_model"`
	// Fixed, One and Exact are the cells' results.
	Fixed *CellResult `json:"fixed"`
	One   *CellResult `json:"one"`
	Exact *CellResult `json:"exact"`
	// Backend and Version made the results.
	Backend string `json:"backend"`
	Version string `json:"version"`
}

// FixedMaskStudy runs the fixed-mask comparison (beyond paper 6.2.1) into the
// folder out: the data of preset p's level with every pair read through
// one mask (flux.Options.FixedMask: the fluxes, noise and scaling of the
// masked experiment of the same seed), a model of the process trained on
// them with the preset's training settings, the ODE posteriors of the first
// p.Cases test cases from that model and from the one-model opt.OneModel
// (each case read through the mask), and the exact posterior of the mask
// (ESS for the clipped prior; Gaussian at zero noise). Every product is
// cached and an interrupted training resumes, as in Run; studies of other
// processes or levels share the folder, and a study of another mask in the
// same folder makes its data and models again (the records name the mask). It writes FixedMaskFile(process,
// level) as .md (the table), .json (the result) and a figure (png, svg).
func FixedMaskStudy(ctx context.Context, backend compute.Backend, p Preset, seed uint64, out string, opt FixedMaskOptions) (*FixedMaskResult, error) {
	if p.Problem != ProblemMasked {
		return nil, fmt.Errorf("fluxinv: the fixed-mask study is for the masked problem's preset (got the %s problem)", p.Problem)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	mask := opt.Mask
	if mask == nil {
		mask = DefaultFixedMask()
	}
	if err := flux.CheckMask(mask); err != nil {
		return nil, fmt.Errorf("fluxinv: fixed mask: %w", err)
	}
	if _, err := ProcessConfig(opt.Process, 1); err != nil {
		return nil, err
	}
	if !(opt.Level >= 0) || math.IsInf(opt.Level, 0) {
		return nil, fmt.Errorf("fluxinv: noise level %v, want a finite value ≥ 0", opt.Level)
	}
	one, err := LoadModel(backend, opt.OneModel)
	if err != nil {
		return nil, fmt.Errorf("fluxinv: the one-model: %w", err)
	}
	switch {
	case !one.Info.Masks || one.Info.FixedMask != nil:
		return nil, fmt.Errorf("fluxinv: %s is not a model trained on every mask (Bernoulli masks); give the masked experiment's model", opt.OneModel)
	case one.Info.Problem != physics.ProblemLinear:
		return nil, fmt.Errorf("fluxinv: %s is a model of the %s problem; the study is of the linear masked problem", opt.OneModel, one.Info.Problem)
	case one.Info.NoiseLevel != opt.Level:
		return nil, fmt.Errorf("fluxinv: %s was trained at noise level %s, the study is at %s", opt.OneModel, LevelLabel(one.Info.NoiseLevel), LevelLabel(opt.Level))
	}
	r := newRunner(ctx, backend, p, seed, out, opt.Log, opt.Progress)
	r.fixedMask = mask
	start := time.Now()
	ds, err := r.data(opt.Level)
	if err != nil {
		return nil, err
	}
	info, err := InfoFromMeta(ds.Meta)
	if err != nil {
		return nil, err
	}
	// The one-model's data must be these data with Bernoulli masks.
	if rel := math.Abs(one.Info.NoiseStd-info.NoiseStd) / math.Max(info.NoiseStd, 1e-300); info.NoiseStd > 0 && rel > 1e-9 ||
		!reflect.DeepEqual(one.Info.Scaling, info.Scaling) || one.Info.DataSeed != info.DataSeed {
		return nil, fmt.Errorf("fluxinv: %s was trained on other data than the masked %s run of seed %d (noise std %.6g against %.6g, data seed %d against %d); train it with `flux experiment --problem masked --preset %s --seed %d`",
			opt.OneModel, p.Name, seed, one.Info.NoiseStd, info.NoiseStd, one.Info.DataSeed, info.DataSeed, p.Name, seed)
	}
	k := p.Cases
	truths := ds.Test.Q[:k*D]
	obs, err := NewObservations(info, ds.Test.ReadingsNoisy[:k*D], ds.Test.Mask[:k*D])
	if err != nil {
		return nil, err
	}
	priorStd := PriorStd(ds.Test.Q)
	method := ExactMethodFor(info.NoiseStd)
	exCR, exPost, err := r.exact(ds, info, obs, method)
	if err != nil {
		return nil, err
	}
	if err := r.evaluate(exCR, exPost, truths, nil, priorStd); err != nil {
		return nil, err
	}
	cell := Cell{Level: opt.Level, Process: opt.Process, Sampler: "ode"}
	fixed, err := r.model(ds, opt.Process, opt.Level)
	if err != nil {
		return nil, err
	}
	res := &FixedMaskResult{Preset: p, Seed: seed, Level: opt.Level, Process: opt.Process, Mask: mask, OneModel: opt.OneModel,
		Exact: exCR, Backend: backend.Name(), Version: buildinfo.Version}
	for s, v := range mask {
		if v == 1 {
			res.On++
		} else {
			res.Off = append(res.Off, SensorName(s))
		}
	}
	for _, c := range []struct {
		m    *Model
		name string
		dst  **CellResult
	}{{fixed, "fixed-" + cell.Name(), &res.Fixed}, {one, "one-model-" + cell.Name(), &res.One}} {
		cr, post, err := r.posteriorNamed(c.m, ds, obs, cell, c.name)
		if err != nil {
			return nil, err
		}
		cr.Reference = exCR.Name
		if err := r.evaluate(cr, post, truths, exPost, priorStd); err != nil {
			return nil, err
		}
		fmt.Fprintf(r.log, "fluxinv: %-24s error %.4f (exact %.4f, ratio %.3f)  std %.4f (ratio %.3f)  cov95 %.3f\n", c.name,
			cr.Metrics.ErrorMean, exCR.Metrics.ErrorMean, cr.Metrics.Reference.ErrorRatioOverall, cr.Metrics.StdMean,
			cr.Metrics.Reference.StdRatioOverall, cr.Metrics.Coverage95Mean)
		*c.dst = cr
	}
	r.timing.Seconds["run/last"] = time.Since(start).Seconds()
	if err := res.write(out); err != nil {
		return nil, err
	}
	if err := r.writeTiming(); err != nil {
		return nil, err
	}
	return res, nil
}

// FixedMaskFile is the name (without extension) of the study's table
// (.md), result (.json) and figure files of a process and level, e.g.
// "masked-fixed-mask-ve-0.05".
func FixedMaskFile(process string, level float64) string {
	return FixedMaskName + "-" + process + "-" + LevelLabel(level)
}

// write writes the table, the figure and the result JSON (last).
func (res *FixedMaskResult) write(out string) error {
	name := FixedMaskFile(res.Process, res.Level)
	if err := arrayio.WriteAtomic(filepath.Join(out, name+".md"), func(w io.Writer) error {
		_, err := io.WriteString(w, res.Markdown())
		return err
	}); err != nil {
		return err
	}
	f, err := res.Figure()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(FiguresDir(out), 0o755); err != nil {
		return err
	}
	if _, err := f.Save(experiment.Env{Out: FiguresDir(out)}, name); err != nil {
		return err
	}
	return arrayio.WriteJSON(filepath.Join(out, name+".json"), res)
}

// Markdown renders the study as a table: one row per posterior.
func (res *FixedMaskResult) Markdown() string {
	var b strings.Builder
	p := res.Preset
	fmt.Fprintf(&b, "# One model for every mask against a model of one mask (masked problem), preset %s, seed %d\n\n", p.Name, res.Seed)
	fmt.Fprintf(&b, "Noise level %s, %s ODE, %d test cases × %d draws, every case read through one mask: %d of 30 sensors on, off: %s. "+
		"Both models %d × %d, %d epochs on %d pairs (batch %d), the same fluxes and readings; the one-model's pairs have Bernoulli(%.1f) masks, "+
		"the fixed-mask model's all have this mask. Error: normalised error of the posterior mean (theory eq. 116), mean over segments; "+
		"std: mean posterior std (eq. 117); ratios against the exact posterior of the mask (%s). Backend %s, pdediff %s.\n\n",
		LevelLabel(res.Level), strings.ToUpper(res.Process), p.Cases, p.Draws, res.On, strings.Join(res.Off, ", "),
		p.HiddenLayers, p.Width, p.Epochs, p.NTrain, p.BatchSize, flux.DefaultMaskProb, res.Exact.Method, res.Backend, res.Version)
	b.WriteString("| posterior | NFE | error | error ratio | std | std ratio | cov 68 | cov 95 |\n|---|---|---|---|---|---|---|---|\n")
	for _, row := range []struct {
		label string
		c     *CellResult
	}{{"model of this mask alone", res.Fixed}, {"one model for every mask", res.One}, {"exact (" + res.Exact.Method + ")", res.Exact}} {
		m := row.c.Metrics
		er, sr, nfe := "—", "—", fmtf(row.c.NFEMean, 0)
		if m.Reference != nil {
			er, sr = fmtf(m.Reference.ErrorRatioOverall, 3), fmtf(m.Reference.StdRatioOverall, 3)
		}
		if row.c.Kind == KindExact && row.c.Method == ExactGauss {
			nfe = "—"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", row.label, nfe, fmtf(m.ErrorMean, 4), er,
			fmtf(m.StdMean, 4), sr, fmtf(m.Coverage68Mean, 3), fmtf(m.Coverage95Mean, 3))
	}
	return b.String()
}

// Figure draws the study: per-segment error (top) and posterior std
// (bottom, with the prior std) of both models and of the exact posterior,
// bottom and top walls, off sensors marked.
func (res *FixedMaskResult) Figure() (experiment.Plot, error) {
	fixedColor := color.NRGBA{R: 0, G: 150, B: 80, A: 255}
	type curve struct {
		label  string
		col    color.Color
		dashes []vg.Length
		err    []float64
		std    []float64
	}
	curves := []curve{
		{"model of this mask alone", fixedColor, nil, res.Fixed.Metrics.Error, res.Fixed.Metrics.Std},
		{"one model for every mask", modelColor, nil, res.One.Metrics.Error, res.One.Metrics.Std},
		{"exact posterior of the mask", exactColor, dashed, res.Exact.Metrics.Error, res.Exact.Metrics.Std},
	}
	prior := res.Exact.Metrics.PriorStd
	var rows [][]*plot.Plot
	for row, what := range []string{"normalised error of the mean", "posterior std"} {
		var cs []segmentCurve
		if row == 1 && prior != nil {
			cs = append(cs, segmentCurve{prior, truthColor, 1.5, dashed})
		}
		for _, c := range curves {
			cs = append(cs, segmentCurve{[][]float64{c.err, c.std}[row], c.col, 1.8, c.dashes})
		}
		panels, _, _, err := logWallPanels(cs, what, res.Mask)
		if err != nil {
			return experiment.Plot{}, fmt.Errorf("fluxinv: fixed-mask figure: %w", err)
		}
		rows = append(rows, panels)
	}
	var legend []plots.LegendEntry
	for _, c := range curves {
		legend = append(legend, plots.LegendEntry{Label: c.label, Thumbs: []plot.Thumbnailer{thumb{c: c.col, dashes: c.dashes}}})
	}
	legend = append(legend,
		plots.LegendEntry{Label: "prior std", Thumbs: []plot.Thumbnailer{thumb{c: truthColor, dashes: dashed}}},
		plots.LegendEntry{Label: "grey: sensor off", Thumbs: []plot.Thumbnailer{thumb{c: bandColor}}})
	title := fmt.Sprintf("One model for every mask against a model of one mask: %s ODE, noise level %s, %d cases, %d of 30 sensors on",
		strings.ToUpper(res.Process), LevelLabel(res.Level), res.Fixed.Metrics.Cases, res.On)
	return experiment.Plot{Fig: plots.Grid{Plots: rows, Title: title, Legend: legend}, Width: 13 * vg.Inch, Height: 8.5 * vg.Inch}, nil
}
