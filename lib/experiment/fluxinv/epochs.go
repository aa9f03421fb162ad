package fluxinv

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gomlx/compute"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/experiment"
	"github.com/pdediff/pdediff/lib/physics"
	"github.com/pdediff/pdediff/lib/plots"
)

// EpochPoint is one training length of an epoch study: the learnt
// posterior's metrics against the exact one.
type EpochPoint struct {
	// Epochs and Steps are the training length.
	Epochs int   `json:"epochs"`
	Steps  int64 `json:"steps"`
	// ErrorRatio and StdRatio are the learnt posterior's mean error and mean
	// std over the exact posterior's (nonlinear problem: the reference's, on
	// the reference's RefCases cases); Coverage95 its 95 % coverage.
	ErrorRatio float64 `json:"error_ratio"`
	StdRatio   float64 `json:"std_ratio"`
	Coverage95 float64 `json:"coverage95"`
	// Error and Std are the learnt values over all the cell's cases,
	// ExactError and ExactStd the exact (or reference) posterior's over its own.
	Error      float64 `json:"error"`
	Std        float64 `json:"std"`
	ExactError float64 `json:"exact_error"`
	ExactStd   float64 `json:"exact_std"`
	// NFE is the mean number of score evaluations per observation.
	NFE float64 `json:"nfe"`
	// ConvergedCases, ErrorRatioConverged and StdRatioConverged (nonlinear
	// problem) are the ratios on the reference's cases whose split-R̂ is
	// below RHatConverged only: how much of the comparison rests on cases
	// whose reference is not settled.
	ConvergedCases      int     `json:"converged_cases,omitempty"`
	ErrorRatioConverged float64 `json:"error_ratio_converged,omitempty"`
	StdRatioConverged   float64 `json:"std_ratio_converged,omitempty"`
}

// RHatConverged is the split-R̂ below which a reference case counts as
// converged (the criterion of theory §7.7).
const RHatConverged = 1.05

// EpochStudy is the curve of error and spread against training length
// (epochs.json): how the preset's training length was chosen.
type EpochStudy struct {
	// Preset is the base preset (its Epochs is replaced by each point's),
	// Level, Process and Sampler the one cell studied, Seed the run seed.
	Preset  Preset       `json:"preset"`
	Level   float64      `json:"level"`
	Process string       `json:"process"`
	Sampler string       `json:"sampler"`
	Seed    uint64       `json:"seed"`
	Points  []EpochPoint `json:"points"`
}

// EpochStudyFile and EpochFigureName are the study's record and figure in its folder.
const (
	EpochStudyFile  = "epochs.json"
	EpochFigureName = "epochs-curve"
)

// CheckEpochStudy reports, before any work, whether RunEpochStudy accepts
// its arguments: increasing training lengths ≥ 1 and a cell of the preset.
func CheckEpochStudy(p Preset, level float64, process, sampler string, epochs []int) error {
	_, err := epochStudyPreset(p, level, process, sampler, epochs)
	return err
}

// epochStudyPreset is the preset of the study's one cell (its Epochs is
// replaced per point), after checking the arguments.
func epochStudyPreset(p Preset, level float64, process, sampler string, epochs []int) (Preset, error) {
	if len(epochs) == 0 {
		return p, fmt.Errorf("fluxinv: epoch study: no training lengths")
	}
	if !slices.IsSorted(epochs) || epochs[0] < 1 {
		return p, fmt.Errorf("fluxinv: epoch study: training lengths must be increasing and ≥ 1, got %v", epochs)
	}
	if !slices.Contains(p.Levels, level) || !slices.Contains(p.Processes, process) || !slices.Contains(p.Samplers, sampler) {
		return p, fmt.Errorf("fluxinv: epoch study: level %g, process %q or sampler %q is not a cell of preset %s (levels %v, processes %v, samplers %v)",
			level, process, sampler, p.Name, p.Levels, p.Processes, p.Samplers)
	}
	base := p
	base.Levels, base.Processes, base.Samplers, base.SDELevels = []float64{level}, []string{process}, []string{sampler}, nil
	base.Fig7Level = level
	base.LevelEpochs = nil // every point sets its own Epochs
	if p.Problem == physics.ProblemNonlinear {
		// The reference posterior exists at RefLevel only, and its record
		// holds the preset's levels (Preset.referenceKey): keep them, so a
		// committed reference of the full preset serves the study, and run
		// the one cell with Options.Only.
		if level != p.RefLevel {
			return p, fmt.Errorf("fluxinv: epoch study: the nonlinear problem is compared with its reference posterior, which preset %s has at noise level %g only, not %g", p.Name, p.RefLevel, level)
		}
		base.Levels = p.Levels
	}
	return base, base.Validate()
}

// EpochOptions are the optional settings of RunEpochStudy.
type EpochOptions struct {
	// Log receives one line per stage (nil: none).
	Log io.Writer
	// Reference (nonlinear problem) is a run folder whose reference
	// posterior is taken when it was made for the same data and settings
	// (Options.Reference), e.g. figures/flux-nonlinear-standard. Without it
	// the first point computes the reference and the later points take it
	// from the first point's folder.
	Reference string
}

// RunEpochStudy runs one cell (process × sampler at one noise level) of the
// preset p for each training length in epochs, each in its own run folder
// out/e<epochs> (resumable, reused like any run), and writes the curve to
// out/epochs.json and out/epochs-curve.{png,svg}. Every point shares the
// data, the test cases and the exact posterior (same seed, same level); for
// the nonlinear problem that is the reference posterior of the first
// RefCases cases at RefLevel (the only level the study accepts there),
// computed once (see EpochOptions.Reference).
func RunEpochStudy(ctx context.Context, backend compute.Backend, p Preset, level float64, process, sampler string,
	epochs []int, seed uint64, out string, opt EpochOptions) (*EpochStudy, error) {
	base, err := epochStudyPreset(p, level, process, sampler, epochs)
	if err != nil {
		return nil, err
	}
	log := opt.Log
	if log == nil {
		log = io.Discard
	}
	st := &EpochStudy{Preset: base, Level: level, Process: process, Sampler: sampler, Seed: seed}
	cell := Cell{Level: level, Process: process, Sampler: sampler}.Name()
	ropt := Options{Log: log, NoFigures: true}
	if base.Problem == physics.ProblemNonlinear {
		ropt.Only, ropt.Reference = []string{cell}, opt.Reference
	}
	for i, e := range epochs {
		q := base
		q.Epochs = e
		fmt.Fprintf(log, "fluxinv: epoch study: %s at %d epochs\n", cell, e)
		dir := filepath.Join(out, "e"+strconv.Itoa(e))
		res, err := Run(ctx, backend, q, seed, dir, ropt)
		if err != nil {
			return nil, err
		}
		if i == 0 && base.Problem == physics.ProblemNonlinear && ropt.Reference == "" {
			ropt.Reference = dir // the later points take the first point's reference
		}
		c := res.Cell(cell)
		if c == nil || c.Metrics == nil || c.Metrics.Reference == nil {
			return nil, fmt.Errorf("fluxinv: epoch study: run at %d epochs has no compared cell %s", e, cell)
		}
		ex := res.Cell(c.Reference)
		if ex == nil {
			return nil, fmt.Errorf("fluxinv: epoch study: run at %d epochs has no reference %s", e, c.Reference)
		}
		pt := EpochPoint{Epochs: e, ErrorRatio: c.Metrics.Reference.ErrorRatioOverall, StdRatio: c.Metrics.Reference.StdRatioOverall,
			Coverage95: c.Metrics.Coverage95Mean, Error: c.Metrics.ErrorMean, Std: c.Metrics.StdMean,
			ExactError: ex.Metrics.ErrorMean, ExactStd: ex.Metrics.StdMean, NFE: c.NFEMean}
		if c.Training != nil {
			pt.Steps = c.Training.Steps
		}
		switch {
		case base.Problem != physics.ProblemNonlinear:
		case c.Converged != nil:
			pt.ConvergedCases, pt.ErrorRatioConverged, pt.StdRatioConverged = len(c.Converged.Cases), c.Converged.ErrorRatio, c.Converged.StdRatio
		case ex.RHatMax < RHatConverged: // every reference case converged
			pt.ConvergedCases, pt.ErrorRatioConverged, pt.StdRatioConverged = ex.Metrics.Cases, pt.ErrorRatio, pt.StdRatio
		}
		st.Points = append(st.Points, pt)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	if err := arrayio.WriteJSON(filepath.Join(out, EpochStudyFile), st); err != nil {
		return nil, err
	}
	f, err := EpochFigure(st)
	if err != nil {
		return nil, err
	}
	if _, err := f.Save(experiment.Env{Out: out}, EpochFigureName); err != nil {
		return nil, err
	}
	return st, nil
}

// EpochFigure draws an epoch study: the learnt posterior's error and std
// over the exact posterior's (nonlinear problem: the reference posterior's)
// against training steps (log axes); the target band of docs/flux-inversion.md
// grey (linear: 0.8–1.2; nonlinear: 0.75–1.3, the error ≤ 1.3 × and std
// within ±25 % targets).
func EpochFigure(st *EpochStudy) (experiment.Plot, error) {
	if st == nil || len(st.Points) == 0 {
		return experiment.Plot{}, fmt.Errorf("fluxinv: epoch figure: no points")
	}
	against, blo, bhi := "exact", 0.8, 1.2
	if st.Preset.Problem == physics.ProblemNonlinear {
		against, blo, bhi = "reference", 0.75, 1.3
	}
	p := panel(fmt.Sprintf("%s %s posterior at noise level %s against the %s posterior", strings.ToUpper(st.Process), strings.ToUpper(st.Sampler), LevelLabel(st.Level), against),
		"optimiser steps (log scale)", "learnt / "+against+" (log scale)")
	p.X.Tick.Marker = log10Ticks{}
	p.Y.Tick.Marker = log10Ticks{}
	var errXY, stdXY plotter.XYs
	lo, hi := 1.0, 1.0
	xlo, xhi := math.Inf(1), math.Inf(-1)
	for _, pt := range st.Points {
		if !(pt.Steps > 0) || !(pt.ErrorRatio > 0) || !(pt.StdRatio > 0) {
			return experiment.Plot{}, fmt.Errorf("fluxinv: epoch figure: point %+v cannot be drawn on log axes", pt)
		}
		x := math.Log10(float64(pt.Steps))
		xlo, xhi = math.Min(xlo, x), math.Max(xhi, x)
		errXY = append(errXY, plotter.XY{X: x, Y: math.Log10(pt.ErrorRatio)})
		stdXY = append(stdXY, plotter.XY{X: x, Y: math.Log10(pt.StdRatio)})
		lo, hi = math.Min(lo, math.Min(pt.ErrorRatio, pt.StdRatio)), math.Max(hi, math.Max(pt.ErrorRatio, pt.StdRatio))
	}
	a, b := logRange(math.Min(lo, blo), hi, 3)
	p.Y.Min, p.Y.Max = float64(a), float64(b)
	p.X.Min, p.X.Max = math.Floor(xlo*2)/2-0.25, math.Ceil(xhi*2)/2+0.25
	band := func(y0, y1 float64) error {
		poly, err := plotter.NewPolygon(plotter.XYs{{X: p.X.Min, Y: math.Log10(y0)}, {X: p.X.Max, Y: math.Log10(y0)},
			{X: p.X.Max, Y: math.Log10(y1)}, {X: p.X.Min, Y: math.Log10(y1)}})
		if err != nil {
			return err
		}
		poly.Color = bandColor
		poly.LineStyle.Width = 0
		p.Add(poly)
		return nil
	}
	if err := band(blo, bhi); err != nil {
		return experiment.Plot{}, err
	}
	if _, err := line(p, plotter.XYs{{X: p.X.Min, Y: 0}, {X: p.X.Max, Y: 0}}, greyColor, 1, dashed...); err != nil {
		return experiment.Plot{}, err
	}
	for i, s := range []plotter.XYs{errXY, stdXY} {
		if _, err := line(p, s, levelColor(i), 2); err != nil {
			return experiment.Plot{}, err
		}
		sc, err := plotter.NewScatter(s)
		if err != nil {
			return experiment.Plot{}, err
		}
		sc.GlyphStyle.Color, sc.GlyphStyle.Radius = levelColor(i), vg.Points(3.5)
		p.Add(sc)
	}
	legend := []plots.LegendEntry{
		{Label: "error of the posterior mean / " + against, Thumbs: []plot.Thumbnailer{thumb{c: levelColor(0)}}},
		{Label: "mean posterior std / " + against, Thumbs: []plot.Thumbnailer{thumb{c: levelColor(1)}}},
		{Label: fmt.Sprintf("grey band: %g–%g (the targets' range)", blo, bhi), Thumbs: []plot.Thumbnailer{thumb{c: bandColor}}},
	}
	title := fmt.Sprintf("Training length: %d test cases × %d draws, %d × %d network, %d training pairs",
		st.Preset.Cases, st.Preset.Draws, st.Preset.HiddenLayers, st.Preset.Width, st.Preset.NTrain)
	if st.Preset.Problem == physics.ProblemNonlinear { // the ratios are on the reference's cases
		title = fmt.Sprintf("Training length: %d reference cases (of %d) × %d draws, %d × %d network, %d pairs",
			st.Preset.RefCases, st.Preset.Cases, st.Preset.Draws, st.Preset.HiddenLayers, st.Preset.Width, st.Preset.NTrain)
	}
	return experiment.Plot{Fig: plots.Grid{Plots: [][]*plot.Plot{{p}}, Title: title, Legend: legend},
		Width: 8 * vg.Inch, Height: 5.5 * vg.Inch}, nil
}
