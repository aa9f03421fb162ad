package fluxinv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gomlx/compute"

	"github.com/pdediff/pdediff/datasets/flux"
	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/buildinfo"
	"github.com/pdediff/pdediff/lib/experiment"
	"github.com/pdediff/pdediff/lib/physics"
	"github.com/pdediff/pdediff/lib/posterior"
	"github.com/pdediff/pdediff/lib/sample"
)

// Cell is one posterior cell of the grid: a noise level × process × sampler.
type Cell struct {
	// Level is the noise level λ_n.
	Level float64 `json:"level"`
	// Process is "ve" or "vp" and Sampler "ode" or "sde".
	Process string `json:"process"`
	Sampler string `json:"sampler"`
}

// Name is the cell's name, e.g. "ve-ode-0.05" (the --only syntax).
func (c Cell) Name() string { return c.Process + "-" + c.Sampler + "-" + LevelLabel(c.Level) }

// Cells returns every cell of the preset, by level, then process, then sampler.
func (p Preset) Cells() []Cell {
	var out []Cell
	for _, l := range p.Levels {
		for _, pr := range p.Processes {
			for _, s := range p.Samplers {
				if s == "sde" && p.SDELevels != nil && !slices.Contains(p.SDELevels, l) {
					continue
				}
				out = append(out, Cell{Level: l, Process: pr, Sampler: s})
			}
		}
	}
	return out
}

// SelectCells returns the cells of the preset whose names match one of the
// patterns (path.Match syntax, e.g. "ve-ode-0.05", "*-ode-*", "vp-*"); no
// patterns select every cell. A pattern that matches no cell is an error
// naming the cells.
func SelectCells(p Preset, patterns []string) ([]Cell, error) {
	all := p.Cells()
	if len(patterns) == 0 {
		return all, nil
	}
	var names []string
	for _, c := range all {
		names = append(names, c.Name())
	}
	keep := map[string]bool{}
	for _, pat := range patterns {
		pat = strings.TrimSpace(pat)
		if _, err := path.Match(pat, ""); err != nil {
			return nil, fmt.Errorf("fluxinv: bad cell pattern %q: %v", pat, err)
		}
		hit := false
		for _, n := range names {
			if ok, _ := path.Match(pat, n); ok {
				keep[n], hit = true, true
			}
		}
		if !hit {
			return nil, fmt.Errorf("fluxinv: cell pattern %q matches none of the %s preset's cells (%s)", pat, p.Name, strings.Join(names, ", "))
		}
	}
	var out []Cell
	for _, c := range all {
		if keep[c.Name()] {
			out = append(out, c)
		}
	}
	return out, nil
}

// Paths inside a run folder.

// DataDir is the data folder of a noise level.
func DataDir(out string, level float64) string {
	return filepath.Join(out, "data", LevelLabel(level))
}

// ModelDir is the model folder of a level × process.
func ModelDir(out, process string, level float64) string {
	return filepath.Join(out, "models", process+"-"+LevelLabel(level))
}

// PosteriorPath is the posterior file of a cell.
func PosteriorPath(out string, c Cell) string {
	return filepath.Join(out, "posteriors", c.Name()+".npz")
}

// ExactPath is the exact-posterior file of a level and method.
func ExactPath(out, method string, level float64) string {
	return filepath.Join(out, "exact", method+"-"+LevelLabel(level)+".npz")
}

// ExactName is the result name of an exact posterior, e.g. "exact-ess-0.05".
func ExactName(method string, level float64) string {
	return "exact-" + method + "-" + LevelLabel(level)
}

func cellPath(out, name string) string { return filepath.Join(out, "cells", name+".json") }

// FiguresDir is where Run writes the figures of a run folder.
func FiguresDir(out string) string { return filepath.Join(out, "figures") }

// StageVersion names the version of the stages' algorithms (sampling
// layout, seeds, exact methods); it is recorded with every cached product.
const StageVersion = "fluxinv/2"

// record identifies what made a cached product: it is reused only when the
// whole record except Output matches and the product still has that Output
// (a run id or fingerprint).
type record struct {
	Stage string `json:"stage"`
	// Code is StageVersion: products of another version of this package's
	// stages are made again.
	Code    string            `json:"code"`
	Preset  Preset            `json:"preset"`
	Seed    uint64            `json:"seed"`
	Version string            `json:"version"`
	Inputs  map[string]string `json:"inputs,omitempty"`
	Output  string            `json:"output"`
}

func (r record) matches(o record) bool {
	r.Output, o.Output = "", ""
	return reflect.DeepEqual(r, o)
}

// CellResult is the outcome of one posterior (learnt or exact) of a run,
// written as cells/<name>.json and gathered into results.json.
type CellResult struct {
	// Name is the cell name ("ve-ode-0.05") or ExactName.
	Name string `json:"name"`
	// Kind is KindModel or KindExact.
	Kind string `json:"kind"`
	// Level is the noise level and NoiseStd the noise std of the readings.
	Level    float64 `json:"level"`
	NoiseStd float64 `json:"noise_std"`
	// Process and Sampler describe a learnt posterior; Method an exact one.
	Process string       `json:"process,omitempty"`
	Sampler *sample.Spec `json:"sampler,omitempty"`
	Method  string       `json:"method,omitempty"`
	// Reference names the exact posterior the metrics compare with.
	Reference string `json:"reference,omitempty"`
	// Seed is the posterior's seed (observation j: ObservationSeed(Seed, j)).
	Seed uint64 `json:"seed"`
	// Posterior and Model are paths relative to the run folder.
	Posterior string `json:"posterior"`
	Model     string `json:"model,omitempty"`
	// Training summarises the model's training (learnt posteriors).
	Training *TrainResult `json:"training,omitempty"`
	// NFEMean is the mean NFE per observation (log-likelihood evaluations for ESS).
	NFEMean float64 `json:"nfe_mean"`
	// RHatMax is the largest split-R̂ over cases and segments (ESS).
	RHatMax float64 `json:"rhat_max,omitempty"`
	// ReferenceCost is the cost of the nonlinear reference posterior (its
	// forward solves; wall time in timing.json).
	ReferenceCost *ReferenceReport `json:"reference_cost,omitempty"`
	// Metrics are the lib/posterior metrics against the true fluxes (with the
	// comparison to Reference) and Coverage the calibration curve.
	Metrics  *posterior.Metrics `json:"metrics"`
	Coverage Coverage           `json:"coverage"`
	// Converged (learnt posteriors compared with an ESS reference) repeats the
	// comparison on the reference's cases whose split-R̂ is below
	// RHatConverged only, when some are not.
	Converged *ConvergedComparison `json:"converged,omitempty"`
	// Targets applies CheckTargets (learnt posteriors).
	Targets *Targets `json:"targets,omitempty"`
	// Record is what made the posterior (its reuse key).
	Record record `json:"record"`
	// Seconds is the wall time of the sampling (in timing.json only).
	Seconds float64 `json:"-"`
}

// Results is a run's output (results.json): the cells of the run folder made
// with this preset and seed, sorted. It holds no timings, so the same preset
// and seed give the same bytes; wall times go to timing.json beside it.
type Results struct {
	// Preset and Seed made the cells.
	Preset Preset `json:"preset"`
	Seed   uint64 `json:"seed"`
	// Backend names the GoMLX backend and Version the pdediff version.
	Backend string `json:"backend"`
	Version string `json:"version"`
	// Cells are the results, by level, learnt before exact, by process and sampler.
	Cells []*CellResult `json:"cells"`
	// Stale lists cell files of the folder ignored because another preset,
	// seed or version made them.
	Stale []string `json:"stale,omitempty"`
	// Files are the products, relative to the run folder.
	Files []string `json:"files"`
}

// Cell returns the result called name, or nil.
func (r *Results) Cell(name string) *CellResult {
	for _, c := range r.Cells {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Timing holds wall times of the stages (timing.json, merged over runs).
type Timing struct {
	// Cores is GOMAXPROCS and Backend the GoMLX backend of the last run.
	Cores   int    `json:"cores"`
	Backend string `json:"backend"`
	// Seconds maps a stage ("train/ve-0.05", "sample/ve-ode-0.05",
	// "exact/exact-ess-0.05", "data/0.05", "run/last") to its wall time.
	Seconds map[string]float64 `json:"seconds"`
}

// Options configure Run.
type Options struct {
	// Only selects cells by name patterns (see SelectCells); empty = all.
	Only []string
	// Log receives progress lines (nil discards them).
	Log io.Writer
	// Progress, if non-nil, receives progress bars of training and sampling.
	Progress io.Writer
	// NoFigures skips the figures.
	NoFigures bool
	// Reference, if set, is another run folder (e.g. a committed one) whose
	// reference posterior of the nonlinear problem is copied in instead of
	// computed, when it was made for the same data, cases and settings.
	Reference string
}

// runner holds the state of one Run call.
type runner struct {
	ctx     context.Context
	backend compute.Backend
	p       Preset
	seed    uint64
	out     string
	log     io.Writer
	bars    io.Writer
	timing  Timing
	g       []float64
	refDir  string
	// fixedMask, if set, is the one mask of the data (FixedMaskStudy).
	fixedMask []float64
}

// newRunner returns the runner of a run of p into out: a nil ctx is
// context.Background, a nil log discards, and the wall times already in
// out/timing.json are merged into.
func newRunner(ctx context.Context, backend compute.Backend, p Preset, seed uint64, out string, log, bars io.Writer) *runner {
	if ctx == nil {
		ctx = context.Background()
	}
	if log == nil {
		log = io.Discard
	}
	r := &runner{ctx: ctx, backend: backend, p: p, seed: seed, out: out, log: log, bars: bars}
	_ = arrayio.ReadJSON(filepath.Join(out, "timing.json"), &r.timing)
	r.timing.Cores, r.timing.Backend = runtime.GOMAXPROCS(0), backend.Name()
	if r.timing.Seconds == nil {
		r.timing.Seconds = map[string]float64{}
	}
	return r
}

// writeTiming writes the merged wall times to out/timing.json.
func (r *runner) writeTiming() error {
	return arrayio.WriteJSON(filepath.Join(r.out, "timing.json"), r.timing)
}

func (r *runner) rec(stage string, inputs map[string]string) record {
	return record{Stage: stage, Code: StageVersion, Preset: r.p, Seed: r.seed, Version: buildinfo.Version, Inputs: inputs}
}

func (r *runner) rel(p string) string {
	if s, err := filepath.Rel(r.out, p); err == nil {
		return filepath.ToSlash(s)
	}
	return p
}

// Run runs (or completes) the flux-inversion experiment of preset p into
// the run folder out: for every selected cell (level × process × sampler) the
// data set of its level, the model of its level and process, the posteriors
// of the first p.Cases test cases and the exact posteriors of the level (the
// Gaussian one, and ESS for the clipped prior when noise > 0), then the
// metrics. Every product is cached: a data set, model or posterior is reused
// only when the preset fields that make it (a data set: dataKey; a model:
// modelKey, so a change of sampling settings trains nothing again; a
// posterior: the whole preset), the seed, version and inputs match and the
// product is still there; an interrupted training resumes. It then
// gathers every cell of the folder made with this preset and seed (so
// separate --only runs merge) into results.md, results.csv,
// results-segments.csv and results.json, merges wall times into timing.json
// and draws the figures whose inputs exist.
func Run(ctx context.Context, backend compute.Backend, p Preset, seed uint64, out string, opt Options) (*Results, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	cells, err := SelectCells(p, opt.Only)
	if err != nil {
		return nil, err
	}
	// Peak memory: the draws of one learnt and two exact posteriors, a
	// figure's worth more, and the data set.
	post := float64(p.Cases) * float64(p.Draws) * D * 8
	if err := arrayio.CheckMemory(fmt.Sprintf("the %s flux-inversion run (%d cases × %d draws)", p.Name, p.Cases, p.Draws),
		5*post+flux.EstimateBytes(p.NTrain, p.NTest), "use a smaller preset"); err != nil {
		return nil, err
	}
	r := newRunner(ctx, backend, p, seed, out, opt.Log, opt.Progress)
	r.refDir = opt.Reference
	start := time.Now()
	for _, level := range p.Levels {
		var todo []Cell
		for _, c := range cells {
			if c.Level == level {
				todo = append(todo, c)
			}
		}
		if len(todo) == 0 {
			continue
		}
		if err := r.level(level, todo); err != nil {
			return nil, err
		}
	}
	r.timing.Seconds["run/last"] = time.Since(start).Seconds()
	res, err := Collect(out, p, seed, backend.Name())
	if err != nil {
		return nil, err
	}
	files, err := WriteTables(out, res)
	if err != nil {
		return nil, err
	}
	if !opt.NoFigures {
		figs, err := WriteFigures(out, res, r.log)
		if err != nil {
			return nil, err
		}
		files = append(files, figs...)
	}
	for _, f := range files {
		res.Files = append(res.Files, r.rel(f))
	}
	if err := r.writeTiming(); err != nil {
		return nil, err
	}
	// results.json last.
	if err := arrayio.WriteJSON(filepath.Join(out, "results.json"), res); err != nil {
		return nil, err
	}
	return res, nil
}

// level runs the selected cells of one noise level.
func (r *runner) level(level float64, cells []Cell) error {
	ds, err := r.data(level)
	if err != nil {
		return err
	}
	info, err := InfoFromMeta(ds.Meta)
	if err != nil {
		return err
	}
	k := r.p.Cases
	truths := ds.Test.Q[:k*D]
	var mask []float64 // the test cases' own masks (masked problem)
	if info.Masks {
		mask = ds.Test.Mask[:k*D]
	}
	obs, err := NewObservations(info, ds.Test.ReadingsNoisy[:k*D], mask)
	if err != nil {
		return err
	}
	priorStd := PriorStd(ds.Test.Q)
	// Exact posteriors (linear problems): Gaussian always, ESS for noise > 0;
	// the reference is ExactMethodFor. Nonlinear: the ESS reference of the
	// first RefCases cases at RefLevel only.
	refMethod := ExactMethodFor(info.NoiseStd)
	methods := []string{ExactGauss}
	if refMethod == ExactESS {
		methods = []string{ExactESS, ExactGauss}
	}
	if r.p.Problem == physics.ProblemNonlinear {
		methods = nil
		if r.p.HasReference(level) {
			methods = []string{ExactESS}
		}
	}
	exact := map[string]*Posterior{}
	for _, m := range methods {
		cr, post, err := r.exact(ds, info, obs, m)
		if err != nil {
			return err
		}
		exact[m] = post
		var ref *Posterior
		if m != refMethod {
			ref, cr.Reference = exact[refMethod], ExactName(refMethod, level)
		}
		if err := r.evaluate(cr, post, truths[:post.K*D], ref, priorStd); err != nil {
			return err
		}
	}
	models := map[string]*Model{}
	for _, c := range cells {
		m, ok := models[c.Process]
		if !ok {
			if m, err = r.model(ds, c.Process, level); err != nil {
				return err
			}
			models[c.Process] = m
		}
		cr, post, err := r.posterior(m, ds, obs, c)
		if err != nil {
			return err
		}
		ref := exact[refMethod]
		if ref != nil {
			cr.Reference = ExactName(refMethod, level)
		}
		if err := r.evaluate(cr, post, truths, ref, priorStd); err != nil {
			return err
		}
		cr.Converged = convergedComparison(post, truths, ref)
		cr.Targets = CheckTargets(r.p, level, cr.Metrics)
		if err := arrayio.WriteJSON(cellPath(r.out, cr.Name), cr); err != nil {
			return err
		}
		ex, rs := "-", "-"
		if c := cr.Metrics.Reference; c != nil {
			ex, rs = fmt.Sprintf("%.4f", c.ErrorMean), fmt.Sprintf("%.4f", c.StdMean)
		}
		met := "none at this level"
		if t := cr.Targets; t != nil {
			met = fmt.Sprint(t.Met)
		}
		fmt.Fprintf(r.log, "fluxinv: %-14s error %.4f (reference %s)  std %.4f (reference %s)  cov95 %.3f  NFE %.0f  targets met: %s\n",
			cr.Name, cr.Metrics.ErrorMean, ex, cr.Metrics.StdMean, rs, cr.Metrics.Coverage95Mean, cr.NFEMean, met)
	}
	return nil
}

// evaluate fills the metrics of a cell result and writes it.
func (r *runner) evaluate(cr *CellResult, post *Posterior, truths []float64, ref *Posterior, priorStd []float64) error {
	m, cov, err := Evaluate(post, truths, ref, priorStd, r.p.Bins, experiment.SubSeed(r.seed, "sbc", cr.Name))
	if err != nil {
		return fmt.Errorf("fluxinv: %s: %w", cr.Name, err)
	}
	cr.Metrics, cr.Coverage = m, cov
	return arrayio.WriteJSON(cellPath(r.out, cr.Name), cr)
}

// data returns the data set of a level, generating it unless the cached one
// was made by the same record.
func (r *runner) data(level float64) (*flux.Dataset, error) {
	dir := DataDir(r.out, level)
	recPath := dir + ".stage.json"
	want := r.rec("data", map[string]string{"level": LevelLabel(level)})
	want.Preset = r.p.dataKey()
	if r.fixedMask != nil {
		want.Inputs["fixed_mask"] = fmt.Sprint(r.fixedMask)
	}
	var have record
	if arrayio.ReadJSON(recPath, &have) == nil && have.matches(want) {
		if ds, err := flux.Load(dir); err == nil && ds.Meta.RunID == have.Output {
			return ds, nil
		}
	}
	fmt.Fprintf(r.log, "fluxinv: data for noise level %s (%d + %d pairs)\n", LevelLabel(level), r.p.NTrain, r.p.NTest)
	start := time.Now()
	sm, workers, seed, err := r.sensorModel(level)
	if err != nil {
		return nil, err
	}
	ds, err := flux.Generate(r.ctx, sm, flux.Options{NTrain: r.p.NTrain, NTest: r.p.NTest, NoiseLevel: level, Masks: r.p.Masks(),
		FixedMask: r.fixedMask, Seed: seed, Workers: workers, Progress: r.bars})
	if err == nil {
		err = r.ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("fluxinv: data for noise level %s (nothing of it written; the next run makes it again): %w", LevelLabel(level), err)
	}
	if err := flux.Save(dir, ds); err != nil {
		return nil, err
	}
	want.Output = ds.Meta.RunID
	if err := arrayio.WriteJSON(recPath, want); err != nil {
		return nil, err
	}
	r.timing.Seconds["data/"+LevelLabel(level)] = time.Since(start).Seconds()
	return ds, nil
}

// sensorModel returns the forward model of the data of a level, the
// workers to run it on and the data seed. The linear model is a matrix
// product (one worker). The nonlinear one is a chord solve from the
// linearisation at the prior mean (physics.Linearization, equal to Newton to
// its tolerance, ≈ 7 × faster); its data seed does not depend on the level,
// so every level has the same fluxes and clean readings (only the noise
// differs), and the solves of levels already on disk are reused.
func (r *runner) sensorModel(level float64) (flux.SensorModel, int, uint64, error) {
	cfg, err := r.p.Physics()
	if err != nil {
		return nil, 0, 0, err
	}
	if r.p.Problem != physics.ProblemNonlinear {
		sm, err := physics.New(cfg)
		return sm, 1, experiment.SubSeed(r.seed, "data", LevelLabel(level)), err
	}
	seed := experiment.SubSeed(r.seed, "data")
	lin, err := flux.ChordModel(cfg)
	if err != nil {
		return nil, 0, 0, err
	}
	memo := &memoModel{SensorModel: lin, known: map[[D]float64][D]float64{}}
	for _, l := range r.p.Levels {
		if l == level {
			continue
		}
		ds, err := flux.Load(DataDir(r.out, l))
		if err != nil || ds.Meta.Seed != seed || ds.Meta.NTrain != r.p.NTrain || ds.Meta.NTest != r.p.NTest {
			continue
		}
		for _, sp := range []flux.Split{ds.Train, ds.Test} {
			for i := 0; i < sp.N; i++ {
				memo.known[[D]float64(sp.Q[i*D:(i+1)*D])] = [D]float64(sp.ReadingsClean[i*D : (i+1)*D])
			}
		}
		fmt.Fprintf(r.log, "fluxinv: reusing the %d forward solves of level %s\n", len(memo.known), LevelLabel(l))
		break
	}
	return memo, runtime.GOMAXPROCS(0), seed, nil
}

// memoModel answers the fluxes it knows from a table and the others with
// the wrapped model.
type memoModel struct {
	flux.SensorModel
	known map[[D]float64][D]float64 // read-only while solving
}

// Readings implements flux.SensorModel.
func (m *memoModel) Readings(q, out []float64) error {
	if len(q) == D && len(out) == D {
		if v, ok := m.known[[D]float64(q)]; ok {
			copy(out, v[:])
			return nil
		}
	}
	return m.SensorModel.Readings(q, out)
}

// modelRecord is the stage file of a model folder.
type modelRecord struct {
	Record   record      `json:"record"`
	Training TrainResult `json:"training"`
}

// model returns the model of a level × process, training or resuming it
// unless the cached one was made by the same record.
func (r *runner) model(ds *flux.Dataset, process string, level float64) (*Model, error) {
	dir := ModelDir(r.out, process, level)
	recPath := dir + ".stage.json"
	want := r.rec("model", map[string]string{"data": ds.Meta.RunID, "process": process})
	want.Preset = r.p.modelKey(level)
	var have modelRecord
	if arrayio.ReadJSON(recPath, &have) == nil {
		if have.Record.matches(want) {
			if m, err := LoadModel(r.backend, dir); err == nil && m.Data.Fingerprint == have.Record.Output {
				m.trainResult = &have.Training
				return m, nil
			}
		}
		// Made by another record: this run's product, replaced whole.
		fmt.Fprintf(r.log, "fluxinv: %s was made by another preset, seed or data: training again\n", dir)
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
		_ = os.Remove(recPath)
	} else if _, in, err := ReadModelInfo(dir); err == nil && in.DataRunID != ds.Meta.RunID {
		// An interrupted training on other data: start over.
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
	}
	proc, err := ProcessConfig(process, 1)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(r.log, "fluxinv: training %s at noise level %s (%d epochs, %d × %d)\n", process, LevelLabel(level), r.p.EpochsAt(level), r.p.HiddenLayers, r.p.Width)
	run, _ := json.Marshal(map[string]any{"experiment": "fluxinv", "preset": want.Preset, "seed": r.seed, "level": level})
	m, tr, err := Train(r.ctx, r.backend, ds, proc, r.p.TrainingAt(level), experiment.SubSeed(r.seed, "model", LevelLabel(level)), dir, run, r.bars)
	if err != nil {
		return nil, err
	}
	tr.Dir = r.rel(dir)
	want.Output = m.Data.Fingerprint
	if err := arrayio.WriteJSON(recPath, modelRecord{Record: want, Training: tr}); err != nil {
		return nil, err
	}
	r.timing.Seconds["train/"+process+"-"+LevelLabel(level)] = tr.Seconds
	m.trainResult = &tr
	return m, nil
}

// readCell reads a cell result whose record matches want and whose product
// still has the recorded run id.
func (r *runner) readCell(name string, want record, product string) (*CellResult, *PosteriorFile) {
	var cr CellResult
	if arrayio.ReadJSON(cellPath(r.out, name), &cr) != nil || !cr.Record.matches(want) {
		return nil, nil
	}
	f, err := ReadPosteriorFile(product)
	if err != nil || f.Meta.RunID != cr.Record.Output {
		return nil, nil
	}
	return &cr, f
}

// dataKey is the part of the preset that makes a level's data set (with
// the level, the seed and a fixed mask, the record's inputs): so the data
// stay valid when the training or sampling settings change.
func (p Preset) dataKey() Preset {
	return Preset{Name: p.Name, Problem: p.Problem, MeshNX: p.MeshNX, MeshNY: p.MeshNY, NTrain: p.NTrain, NTest: p.NTest}
}

// modelKey is the part of the preset that makes the models of a level (with
// the data run id, the process and the seed): dataKey and the level's
// training settings, so a model is reused when only the sampling, the
// evaluation or another level's training changes.
func (p Preset) modelKey(level float64) Preset {
	k := p.dataKey()
	k.TrainSettings = p.TrainingAt(level)
	return k
}

// referenceKey is the part of the preset that makes the nonlinear
// reference posterior (with the data run id and the seed): so a reference
// stays valid when the training or sampling settings change, and a
// committed one can serve later runs (Options.Reference).
func (p Preset) referenceKey() Preset {
	return Preset{Name: p.Name, Problem: p.Problem, MeshNX: p.MeshNX, MeshNY: p.MeshNY, Levels: p.Levels,
		NTrain: p.NTrain, NTest: p.NTest, Draws: p.Draws, ESS: p.ESS, RefLevel: p.RefLevel, RefCases: p.RefCases}
}

// exactRecord is the reuse key of an exact (or reference) posterior.
func (r *runner) exactRecord(ds *flux.Dataset, method string) record {
	want := r.rec("exact", map[string]string{"data": ds.Meta.RunID, "method": method})
	if r.p.Problem == physics.ProblemNonlinear {
		want.Stage, want.Preset = "reference", r.p.referenceKey()
	}
	return want
}

// importReference copies the reference cell and posterior files of the
// folder r.refDir into the run folder when they were made by want.
func (r *runner) importReference(name, file string, want record) error {
	if r.refDir == "" {
		return nil
	}
	src := ExactPath(r.refDir, ExactESS, r.p.RefLevel)
	if cr, _ := func() (*CellResult, *PosteriorFile) {
		var cr CellResult
		if arrayio.ReadJSON(cellPath(r.refDir, name), &cr) != nil || !cr.Record.matches(want) {
			return nil, nil
		}
		f, err := ReadPosteriorFile(src)
		if err != nil || f.Meta.RunID != cr.Record.Output {
			return nil, nil
		}
		return &cr, f
	}(); cr == nil {
		fmt.Fprintf(r.log, "fluxinv: %s has no reference made for this run's data and settings: computing it\n", r.refDir)
		return nil
	}
	for _, pair := range [][2]string{{src, file}, {SidecarPath(src), SidecarPath(file)}, {cellPath(r.refDir, name), cellPath(r.out, name)}} {
		b, err := os.ReadFile(pair[0])
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(pair[1]), 0o755); err != nil {
			return err
		}
		if err := arrayio.WriteAtomic(pair[1], func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
			return err
		}
	}
	fmt.Fprintf(r.log, "fluxinv: reference posterior taken from %s\n", r.refDir)
	return nil
}

// exact returns the exact posterior of a level by method (for the nonlinear
// problem: the reference posterior of its first RefCases cases).
func (r *runner) exact(ds *flux.Dataset, info Info, obs Observations, method string) (*CellResult, *Posterior, error) {
	level := ds.Meta.NoiseLevel
	name := ExactName(method, level)
	file := ExactPath(r.out, method, level)
	want := r.exactRecord(ds, method)
	if cr, f := r.readCell(name, want, file); cr != nil {
		return cr, f.Post, nil
	}
	nonlinear := r.p.Problem == physics.ProblemNonlinear
	if nonlinear {
		if err := r.importReference(name, file, want); err != nil {
			return nil, nil, err
		}
		if cr, f := r.readCell(name, want, file); cr != nil {
			return cr, f.Post, nil
		}
	}
	seed := experiment.SubSeed(r.seed, "exact", method, LevelLabel(level))
	var (
		post *Posterior
		cost *ReferenceReport
	)
	if nonlinear {
		k := r.p.RefCases
		sub := Observations{K: k, Readings: obs.Readings[:k*D]}
		fmt.Fprintf(r.log, "fluxinv: reference posterior (ESS, nonlinear likelihood) at noise level %s, %d cases × %d draws\n", LevelLabel(level), k, r.p.Draws)
		p, rep, err := NonlinearReference(r.ctx, info, sub, r.p.Draws, r.p.ESS, seed)
		if err != nil {
			return nil, nil, err
		}
		post, cost, obs = p, &rep, sub
		fmt.Fprintf(r.log, "fluxinv: reference: %d forward solves (%.1f chord iterations each, %d Newton fallbacks), %.1f evaluations per ESS iteration, R̂ max %.4f, %.0f s\n",
			rep.Solves, rep.ChordIterations, rep.Fallbacks, rep.EvalsPerIteration, maxOf(p.RHat), p.Seconds)
	} else {
		if r.g == nil {
			g, err := ResponseMatrix(info)
			if err != nil {
				return nil, nil, err
			}
			r.g = g
		}
		fmt.Fprintf(r.log, "fluxinv: exact posterior (%s) at noise level %s, %d cases × %d draws\n", method, LevelLabel(level), obs.K, r.p.Draws)
		p, err := Exact(r.ctx, info, r.g, obs, r.p.Draws, method, r.p.ESS, seed)
		if err != nil {
			return nil, nil, err
		}
		post = p
	}
	meta := PosteriorMeta{Kind: KindExact, Model: "", Data: info.DataName(), Method: method, Seed: seed,
		ObservationSeeds: ObservationSeedRule, NoiseLevel: info.NoiseLevel, NoiseStd: info.NoiseStd}
	if method == ExactESS {
		e := r.p.ESS
		meta.ESS = &e
	}
	f := &PosteriorFile{Meta: meta, Post: post, Obs: obs}
	if err := WritePosteriorFile(file, f); err != nil {
		return nil, nil, err
	}
	want.Output = f.Meta.RunID
	cr := &CellResult{Name: name, Kind: KindExact, Level: level, NoiseStd: info.NoiseStd, Method: method, Seed: seed,
		Posterior: r.rel(file), NFEMean: f.Meta.NFEMean, RHatMax: f.Meta.RHatMax, ReferenceCost: cost, Record: want, Seconds: post.Seconds}
	r.timing.Seconds["exact/"+name] = post.Seconds
	return cr, post, nil
}

func maxOf(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// posterior returns the learnt posterior of a cell.
func (r *runner) posterior(m *Model, ds *flux.Dataset, obs Observations, c Cell) (*CellResult, *Posterior, error) {
	return r.posteriorNamed(m, ds, obs, c, c.Name())
}

// posteriorNamed is posterior under another name than the cell's (a second
// model of the same cell).
func (r *runner) posteriorNamed(m *Model, ds *flux.Dataset, obs Observations, c Cell, name string) (*CellResult, *Posterior, error) {
	file := filepath.Join(r.out, "posteriors", name+".npz")
	want := r.rec("posterior", map[string]string{"data": ds.Meta.RunID, "model": m.Data.Fingerprint, "cell": name})
	if cr, f := r.readCell(name, want, file); cr != nil {
		return cr, f.Post, nil
	}
	cond, err := m.Info.Conditioning(obs)
	if err != nil {
		return nil, nil, err
	}
	spec := r.p.SamplerSpec(c.Sampler, c.Process)
	seed := experiment.SubSeed(r.seed, "posterior", name)
	fmt.Fprintf(r.log, "fluxinv: sampling %s: %d cases × %d draws, %s\n", name, obs.K, r.p.Draws, spec)
	post, err := SamplePosterior(r.ctx, m, cond, r.p.Draws, spec, seed, r.bars)
	if err != nil {
		return nil, nil, err
	}
	sp := spec
	f := &PosteriorFile{Meta: PosteriorMeta{Kind: KindModel, Model: r.rel(m.Dir), Data: m.Data.Name, Fingerprint: m.Data.Fingerprint,
		Process: c.Process, Sampler: &sp, Seed: seed, ObservationSeeds: ObservationSeedRule,
		NoiseLevel: m.Info.NoiseLevel, NoiseStd: m.Info.NoiseStd, Masks: m.Info.Masks}, Post: post, Obs: obs}
	if err := WritePosteriorFile(file, f); err != nil {
		return nil, nil, err
	}
	want.Output = f.Meta.RunID
	cr := &CellResult{Name: name, Kind: KindModel, Level: c.Level, NoiseStd: m.Info.NoiseStd, Process: c.Process, Sampler: &sp,
		Seed: seed, Posterior: r.rel(file), Model: r.rel(m.Dir), Training: m.trainResult, NFEMean: f.Meta.NFEMean, Record: want, Seconds: post.Seconds}
	r.timing.Seconds["sample/"+name] = post.Seconds
	return cr, post, nil
}

// Collect gathers the cell results of a run folder made with preset p and
// seed (others are listed as Stale), sorted by level, then kind (learnt
// before exact), process and sampler.
func Collect(out string, p Preset, seed uint64, backendName string) (*Results, error) {
	res := &Results{Preset: p, Seed: seed, Backend: backendName, Version: buildinfo.Version}
	entries, err := os.ReadDir(filepath.Join(out, "cells"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") || arrayio.IsTemp(e.Name()) {
			continue
		}
		var cr CellResult
		if err := arrayio.ReadJSON(filepath.Join(out, "cells", e.Name()), &cr); err != nil {
			res.Stale = append(res.Stale, e.Name())
			continue
		}
		preset := p
		if cr.Kind == KindExact && p.Problem == physics.ProblemNonlinear {
			preset = p.referenceKey()
		}
		if !reflect.DeepEqual(cr.Record.Preset, preset) || cr.Record.Seed != seed || cr.Record.Version != buildinfo.Version || cr.Metrics == nil {
			res.Stale = append(res.Stale, e.Name())
			continue
		}
		c := cr
		res.Cells = append(res.Cells, &c)
	}
	order := func(c *CellResult) (float64, int, int, int) {
		kind := 0
		if c.Kind == KindExact {
			kind = 1
		}
		pi := slices.Index(p.Processes, c.Process)
		si := 0
		if c.Sampler != nil {
			si = slices.Index(p.Samplers, c.Sampler.Name)
		} else if c.Method == ExactGauss {
			si = 1
		}
		return c.Level, kind, pi, si
	}
	sort.SliceStable(res.Cells, func(i, j int) bool {
		a1, b1, c1, d1 := order(res.Cells[i])
		a2, b2, c2, d2 := order(res.Cells[j])
		switch {
		case a1 != a2:
			return a1 < a2
		case b1 != b2:
			return b1 < b2
		case c1 != c2:
			return c1 < c2
		}
		return d1 < d2
	})
	return res, nil
}

// RunDir is where the figure registry keeps the run of a preset inside the
// figure folder out.
func RunDir(out string, preset experiment.PresetName) string {
	return filepath.Join(out, "fluxinv-"+string(preset))
}

// Cached returns the results.json of a run folder if it was made with this
// preset and seed, holds every cell of the preset and every product it
// lists still exists; otherwise nil and the reason.
func Cached(out string, p Preset, seed uint64) (*Results, string) {
	var res Results
	if err := arrayio.ReadJSON(filepath.Join(out, "results.json"), &res); err != nil {
		return nil, "no results.json"
	}
	switch {
	case !reflect.DeepEqual(res.Preset, p):
		return nil, "results.json was made with another preset"
	case res.Seed != seed:
		return nil, fmt.Sprintf("results.json was made with seed %d", res.Seed)
	case res.Version != buildinfo.Version:
		return nil, fmt.Sprintf("results.json was made by pdediff %s", res.Version)
	}
	for _, c := range p.Cells() {
		if res.Cell(c.Name()) == nil {
			return nil, fmt.Sprintf("cell %s is missing", c.Name())
		}
	}
	for _, f := range res.Files {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			return nil, fmt.Sprintf("product %s is missing", f)
		}
	}
	return &res, ""
}

// Ensure returns the complete run of env's preset in out, running (or
// completing) it unless Cached accepts what is there.
func Ensure(env experiment.Env, out string) (*Results, error) {
	return EnsureProblem(env, physics.ProblemLinear, out)
}

// EnsureProblem is Ensure for the preset of a problem (Problems).
func EnsureProblem(env experiment.Env, problem, out string) (*Results, error) {
	p, err := PresetForProblem(problem, string(env.Preset))
	if err != nil {
		return nil, err
	}
	if res, _ := Cached(out, p, env.Seed); res != nil {
		return res, nil
	}
	b, err := env.Backend()
	if err != nil {
		return nil, err
	}
	return Run(env.Context(), b, p, env.Seed, out, Options{Log: env.Log})
}
