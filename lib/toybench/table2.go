package toybench

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/gomlx/compute"
	"github.com/pdediff/pdediff/datasets/toy"
	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/buildinfo"
)

// YResult is the outcome at one y value of one cell.
type YResult struct {
	Y        float64  `json:"y"`
	RefSize  int      `json:"ref_size"`
	Distance Distance `json:"distance"`
	NFE      int      `json:"nfe"`
	Seconds  float64  `json:"sample_seconds"`
	Seed     uint64   `json:"seed"`
}

// Cell is one cell of Table 2: a case × process × sampler.
type Cell struct {
	Case    string    `json:"case"`
	Process string    `json:"process"`
	Sampler string    `json:"sampler"`
	PerY    []YResult `json:"per_y"`
	// Mean is the POT-method distance averaged over y (the paper's number),
	// MeanLog the converged log-domain one, MeanNFE the mean NFE.
	Mean    float64 `json:"mean"`
	MeanLog float64 `json:"mean_log"`
	MeanNFE float64 `json:"mean_nfe"`
	Paper   float64 `json:"paper"`
}

// Table2 is the whole benchmark's output (written as table2.json).
type Table2 struct {
	Preset   Preset               `json:"preset"`
	Seed     uint64               `json:"seed"`
	YValues  map[string][]float64 `json:"y_values"`
	Training []TrainInfo          `json:"training"`
	Cells    map[string]*Cell     `json:"cells"`
	Seconds  float64              `json:"seconds"`
	Backend  string               `json:"backend"`
	Cores    int                  `json:"cores"`
	Version  string               `json:"version"`
	Files    []string             `json:"files"`
}

// RunTable2 runs the whole benchmark into out: six models (3 cases × VE, VP),
// then for each the ODE and SDE samplers at the case's y values (toy.DefaultYValues),
// each scored against the band reference. Models already trained in out are
// reused (and interrupted ones resumed). It writes table2.md, table2.csv,
// table2.json and the samples (samples/*.npz) for the figures.
func RunTable2(ctx context.Context, backend compute.Backend, p Preset, seed uint64, out string, log io.Writer) (*Table2, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	tab := &Table2{Preset: p, Seed: seed, YValues: map[string][]float64{}, Cells: map[string]*Cell{},
		Backend: backend.Name(), Cores: runtime.GOMAXPROCS(0), Version: buildinfo.Version}
	for _, c := range toy.Cases() {
		ys, err := toy.DefaultYValues(c)
		if err != nil {
			return nil, err
		}
		tab.YValues[string(c)] = ys
		refs, err := toy.Reference(c, ys, toy.ReferenceOptions{Size: p.RefSize, HalfWidth: p.HalfWidth}, SubSeed(seed, "reference", string(c)))
		if err != nil {
			return nil, err
		}
		for _, process := range Processes {
			proc, err := NewProcess(process)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(log, "toy table2: training %s / %s (%d epochs)\n", c, process, p.Epochs)
			net, info, err := TrainModel(ctx, backend, c, process, p, seed, ModelDir(out, c, process), log)
			if err != nil {
				return nil, err
			}
			tab.Training = append(tab.Training, info)
			for _, sampler := range []string{"ode", "sde"} {
				cell := &Cell{Case: string(c), Process: process, Sampler: sampler, Paper: PaperTable2[process][sampler][string(c)]}
				arrays := map[string]arrayio.Array{"y": arrayio.Vector(ys)}
				gen := make([]float64, 0, len(ys)*p.NSamples)
				results := make([]SampleResult, len(ys))
				specs := make([]SampleSpec, len(ys))
				for i, y := range ys {
					specs[i] = SampleSpec{Sampler: sampler, Steps: p.SDESteps, Rtol: p.Rtol, Atol: p.Atol,
						Seed: SubSeed(seed, "sample", string(c), process, sampler, fmt.Sprint(i))}
					if results[i], err = Sample(proc, net, y, p.NSamples, specs[i], nil); err != nil {
						return nil, err
					}
					gen = append(gen, results[i].X...)
					arrays[fmt.Sprintf("ref_%d", i)] = arrayio.Vector(refs[i])
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
				for i, y := range ys {
					if errs[i] != nil {
						return nil, fmt.Errorf("toybench: %s/%s/%s at y = %g: %w", c, process, sampler, y, errs[i])
					}
					d, r := dists[i], results[i]
					fmt.Fprintf(log, "  %s %s %-3s y=%5.2f  sinkhorn %.4f (log %.4f)  NFE %4d  %.1fs\n", c, process, sampler, y, d.POT, d.Log, r.NFE, r.Seconds)
					cell.PerY = append(cell.PerY, YResult{Y: y, RefSize: len(refs[i]), Distance: d, NFE: r.NFE, Seconds: r.Seconds, Seed: specs[i].Seed})
				}
				arrays["x"] = arrayio.Matrix(len(ys), p.NSamples, gen)
				for _, yr := range cell.PerY {
					cell.Mean += yr.Distance.POT / float64(len(ys))
					cell.MeanLog += yr.Distance.Log / float64(len(ys))
					cell.MeanNFE += float64(yr.NFE) / float64(len(ys))
				}
				tab.Cells[CellKey(process, sampler, string(c))] = cell
				sp := SamplesPath(out, c, process, sampler)
				if err := arrayio.WriteNPZ(sp, arrays); err != nil {
					return nil, err
				}
				tab.Files = append(tab.Files, sp)
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
		}
	}
	files, err := writeTable2(out, tab.Cells)
	if err != nil {
		return nil, err
	}
	tab.Files = append(tab.Files, files...)
	tab.Seconds = time.Since(start).Seconds()
	jp := filepath.Join(out, "table2.json")
	tab.Files = append(tab.Files, jp)
	if err := arrayio.WriteJSON(jp, tab); err != nil {
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
		return cs, fmt.Errorf("toybench: %s: arrays y and x do not match", SamplesPath(out, c, process, sampler))
	}
	cs.Y = y.Data
	for i := range cs.Y {
		n := x.Cols()
		cs.X = append(cs.X, x.Data[i*n:(i+1)*n])
		r, ok := a[fmt.Sprintf("ref_%d", i)]
		if !ok {
			return cs, fmt.Errorf("toybench: %s lacks ref_%d", SamplesPath(out, c, process, sampler), i)
		}
		cs.Ref = append(cs.Ref, r.Data)
	}
	return cs, nil
}
