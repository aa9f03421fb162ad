package density

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gomlx/compute"

	"github.com/pdediff/pdediff/datasets/toy"
	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/buildinfo"
	"github.com/pdediff/pdediff/lib/experiment"
	"github.com/pdediff/pdediff/lib/model"
	"github.com/pdediff/pdediff/lib/sample"
)

// YResult is the outcome at one y value of one cell.
type YResult struct {
	Y        float64  `json:"y"`
	RefSize  int      `json:"ref_size"`
	Distance Distance `json:"distance"`
	NFE      int      `json:"nfe"`
	Seed     uint64   `json:"seed"`
	// Seconds is the sampling wall time (in timing.json, not table2.json).
	Seconds float64 `json:"-"`
}

// Cell is one cell of Table 2: a case × process × sampler.
type Cell struct {
	Case    string      `json:"case"`
	Process string      `json:"process"`
	Sampler sample.Spec `json:"sampler"`
	PerY    []YResult   `json:"per_y"`
	// Mean is the POT-method distance averaged over y (the paper's number),
	// MeanLog the converged log-domain one, MeanNFE the mean NFE. When the
	// POT method underflowed at POTFailed of the y values, Mean is 0 and not
	// a result (the tables print "underflow").
	POTFailed int     `json:"pot_failed,omitempty"`
	Mean      float64 `json:"mean"`
	MeanLog   float64 `json:"mean_log"`
	MeanNFE   float64 `json:"mean_nfe"`
	Paper     float64 `json:"paper"`
}

// Table2 is the whole benchmark's output (written as table2.json). It holds
// no timings, so the same preset and seed give the same bytes; wall times go
// to timing.json beside it (not committed).
type Table2 struct {
	Preset   Preset               `json:"preset"`
	Seed     uint64               `json:"seed"`
	YValues  map[string][]float64 `json:"y_values"`
	Training []TrainInfo          `json:"training"`
	Cells    map[string]*Cell     `json:"cells"`
	Backend  string               `json:"backend"`
	Version  string               `json:"version"`
	// Files are the products, relative to the run folder.
	Files []string `json:"files"`
}

// Timing holds the wall times of a RunTable2 call (timing.json).
type Timing struct {
	Seconds  float64            `json:"seconds"`
	Cores    int                `json:"cores"`
	Training map[string]float64 `json:"training_seconds"`
	Sampling map[string]float64 `json:"sampling_seconds"`
}

// Table2Sampler returns the sampler spec of one Table 2 column ("ode" or
// "sde") at the preset's settings.
func Table2Sampler(name string, p Preset) sample.Spec {
	if name == "ode" {
		return sample.Spec{Name: "ode", Rtol: p.Rtol, Atol: p.Atol}
	}
	return sample.Spec{Name: name, Steps: p.SDESteps}
}

// CachedTable2 returns the table2.json in out if it was made with exactly
// this preset, seed and format version and every product it lists (samples,
// models) is still there; otherwise nil and the reason.
func CachedTable2(out string, p Preset, seed uint64) (*Table2, string) {
	var tab Table2
	if err := arrayio.ReadJSON(filepath.Join(out, "table2.json"), &tab); err != nil {
		return nil, "no table2.json"
	}
	switch {
	case !reflect.DeepEqual(tab.Preset, p):
		return nil, "table2.json was made with another preset"
	case tab.Seed != seed:
		return nil, fmt.Sprintf("table2.json was made with seed %d", tab.Seed)
	case tab.Version != buildinfo.Version:
		return nil, fmt.Sprintf("table2.json was made by pdediff %s", tab.Version)
	case len(tab.Files) == 0:
		return nil, "table2.json lists no products"
	}
	for _, f := range tab.Files {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			return nil, fmt.Sprintf("product %s is missing", f)
		}
	}
	return &tab, ""
}

// EnsureTable2 returns the Table 2 run of env's preset in out, running (or
// completing) it unless CachedTable2 accepts what is there.
func EnsureTable2(env experiment.Env, out string) (*Table2, error) {
	p, err := PresetFor(string(env.Preset))
	if err != nil {
		return nil, err
	}
	if tab, _ := CachedTable2(out, p, env.Seed); tab != nil {
		return tab, nil
	}
	b, err := env.Backend()
	if err != nil {
		return nil, err
	}
	return RunTable2(env.Context(), b, p, env.Seed, out, env.Logger())
}

// RunTable2 runs the whole benchmark into out: six models (3 cases × VE, VP),
// then for each the ODE and SDE samplers at the case's y values
// (toy.DefaultYValues), each scored against the band reference. Models
// already trained in out are reused (and interrupted ones resumed). It writes
// table2.md, table2.csv, table2.json, timing.json and the samples
// (samples/*.npz) for the figures.
func RunTable2(ctx context.Context, backend compute.Backend, p Preset, seed uint64, out string, log io.Writer) (*Table2, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = io.Discard
	}
	start := time.Now()
	tab := &Table2{Preset: p, Seed: seed, YValues: map[string][]float64{}, Cells: map[string]*Cell{},
		Backend: backend.Name(), Version: buildinfo.Version}
	timing := Timing{Cores: runtime.GOMAXPROCS(0), Training: map[string]float64{}, Sampling: map[string]float64{}}
	rel := func(path string) string {
		r, err := filepath.Rel(out, path)
		if err != nil {
			return path
		}
		return r
	}
	for _, c := range toy.Cases() {
		ys, err := toy.DefaultYValues(c)
		if err != nil {
			return nil, err
		}
		tab.YValues[string(c)] = ys
		refs, err := toy.Reference(c, ys, toy.ReferenceOptions{Size: p.RefSize, HalfWidth: p.HalfWidth}, experiment.SubSeed(seed, "reference", string(c)))
		if err != nil {
			return nil, err
		}
		// The case's models train at the same time (each model's result does
		// not depend on it; two trainings keep both cores busier than one:
		// docs/performance.md). The progress bar follows the first.
		procs := Processes()
		models := make([]*model.Model, len(procs))
		infos := make([]TrainInfo, len(procs))
		errs := make([]error, len(procs))
		fmt.Fprintf(log, "toy table2: training %s / %s at the same time (%d epochs each)\n", c, strings.Join(procs, ", "), p.Epochs)
		var tw sync.WaitGroup
		for i, process := range procs {
			pc, err := ProcessConfig(process, 0, "")
			if err != nil {
				return nil, err
			}
			progress := log
			if i > 0 {
				progress = io.Discard
			}
			tw.Go(func() {
				models[i], infos[i], errs[i] = TrainModel(ctx, backend, c, pc, p, seed, ModelDir(out, c, process), progress)
			})
		}
		tw.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		for i, process := range procs {
			m, info, dir := models[i], infos[i], ModelDir(out, c, process)
			fmt.Fprintf(log, "toy table2: %s / %s trained (%d steps, loss %.4g, %.0f s)\n", c, process, info.Steps, info.FinalLoss, info.Seconds)
			tab.Training = append(tab.Training, info)
			tab.Files = append(tab.Files, rel(dir))
			timing.Training[string(c)+"/"+process] = info.Seconds
			for _, sampler := range []string{"ode", "sde"} {
				spec := Table2Sampler(sampler, p)
				cell := &Cell{Case: string(c), Process: process, Sampler: spec, Paper: paperTable2(process, sampler, string(c))}
				arrays := map[string]arrayio.Array{"y": arrayio.Vector(ys)}
				gen := make([]float64, 0, len(ys)*p.NSamples)
				results := make([]SampleResult, len(ys))
				seeds := make([]uint64, len(ys))
				for i, y := range ys {
					seeds[i] = experiment.SubSeed(seed, "sample", string(c), process, sampler, fmt.Sprint(i))
					if results[i], err = Sample(m, []float64{y}, p.NSamples, spec, seeds[i], nil); err != nil {
						return nil, err
					}
					gen = append(gen, results[i].X...)
					arrays[fmt.Sprintf("ref_%d", i)] = arrayio.Vector(refs[i])
					if err := ctx.Err(); err != nil {
						return nil, err
					}
				}
				// The Sinkhorn evaluations are independent and single-threaded:
				// run them concurrently (the converged log-domain one can take
				// tens of seconds at the paper's sizes).
				dists := make([]Distance, len(ys))
				errs := make([]error, len(ys))
				var wg sync.WaitGroup
				for i := range ys {
					wg.Add(1)
					go func() {
						defer wg.Done()
						dists[i], errs[i] = Evaluate(results[i].X, refs[i], p.Reg)
					}()
				}
				wg.Wait()
				if err := errors.Join(errs...); err != nil {
					return nil, fmt.Errorf("density: %s/%s/%s: %w", c, process, sampler, err)
				}
				for i, y := range ys {
					d, r := dists[i], results[i]
					fmt.Fprintf(log, "  %s %s %-3s y=%5.2f  sinkhorn %.4f (log %.4f)  NFE %4d  %.1fs\n", c, process, sampler, y, d.POT, d.Log, r.NFE, r.Seconds)
					cell.PerY = append(cell.PerY, YResult{Y: y, RefSize: len(refs[i]), Distance: d, NFE: r.NFE, Seconds: r.Seconds, Seed: seeds[i]})
					timing.Sampling[fmt.Sprintf("%s/%s/%s/%g", c, process, sampler, y)] = r.Seconds
				}
				arrays["x"] = arrayio.Matrix(len(ys), p.NSamples, gen)
				for _, yr := range cell.PerY {
					if !yr.Distance.POTValid() {
						cell.POTFailed++
					}
					cell.Mean += yr.Distance.POT / float64(len(ys))
					cell.MeanLog += yr.Distance.Log / float64(len(ys))
					cell.MeanNFE += float64(yr.NFE) / float64(len(ys))
				}
				if cell.POTFailed > 0 {
					cell.Mean = 0
				}
				tab.Cells[CellKey(process, sampler, string(c))] = cell
				sp := SamplesPath(out, c, process, sampler)
				if err := arrayio.WriteNPZ(sp, arrays); err != nil {
					return nil, err
				}
				tab.Files = append(tab.Files, rel(sp))
			}
		}
	}
	files, err := writeTable2(out, tab.Cells)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		tab.Files = append(tab.Files, rel(f))
	}
	timing.Seconds = time.Since(start).Seconds()
	if err := arrayio.WriteJSON(filepath.Join(out, "timing.json"), timing); err != nil {
		return nil, err
	}
	// table2.json last: its presence with every listed product marks a finished run.
	if err := arrayio.WriteJSON(filepath.Join(out, "table2.json"), tab); err != nil {
		return nil, err
	}
	return tab, nil
}

// CellSamples are the samples of one cell read back from RunTable2's output.
type CellSamples struct {
	Y   []float64
	X   [][]float64 // generated, one slice per y
	Ref [][]float64 // reference band, one slice per y
}

// ReadSamples reads the samples file of one cell written by RunTable2.
func ReadSamples(out string, c toy.Case, process, sampler string) (CellSamples, error) {
	var cs CellSamples
	a, err := arrayio.ReadNPZ(SamplesPath(out, c, process, sampler))
	if err != nil {
		return cs, err
	}
	y, x := a["y"], a["x"]
	if len(y.Data) == 0 || x.Rows() != len(y.Data) {
		return cs, fmt.Errorf("density: %s: arrays y and x do not match", SamplesPath(out, c, process, sampler))
	}
	cs.Y = y.Data
	for i := range cs.Y {
		n := x.Cols()
		cs.X = append(cs.X, x.Data[i*n:(i+1)*n])
		r, ok := a[fmt.Sprintf("ref_%d", i)]
		if !ok {
			return cs, fmt.Errorf("density: %s lacks ref_%d", SamplesPath(out, c, process, sampler), i)
		}
		cs.Ref = append(cs.Ref, r.Data)
	}
	return cs, nil
}
