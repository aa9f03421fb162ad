package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/pdediff/pdediff/datasets/toy"
	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/backend"
	"github.com/pdediff/pdediff/lib/plots"
	"github.com/pdediff/pdediff/lib/toybench"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

func init() {
	registerFigure(figureMaker{name: "fig3-ve-sde-histograms", summary: "Fig 3: x | y histograms, VE + SDE sampler vs reference (runs/reuses toy table2)",
		make: func(preset, out string, seed uint64, log io.Writer) ([]string, error) {
			return makeHistogramFigure("ve", "fig3-ve-sde-histograms", preset, out, seed, log)
		}})
	registerFigure(figureMaker{name: "fig4-vp-sde-histograms", summary: "Fig 4: x | y histograms, VP + SDE sampler vs reference (runs/reuses toy table2)",
		make: func(preset, out string, seed uint64, log io.Writer) ([]string, error) {
			return makeHistogramFigure("vp", "fig4-vp-sde-histograms", preset, out, seed, log)
		}})
	registerFigure(figureMaker{name: "nfe-accuracy", summary: "beyond the paper: OT distance and solver error vs NFE for Euler, Heun, RK4, Dormand-Prince (VP, tanh)",
		make: makeNFEFigure})
}

// table2Dir is where the figures keep the toy benchmark run of a preset; its
// models are reused by later figure runs.
func table2Dir(out, preset string) string { return filepath.Join(out, "table2-"+preset) }

// ensureTable2 runs `toy table2` into table2Dir unless its table2.json exists.
func ensureTable2(preset, out string, seed uint64, log io.Writer) (string, error) {
	dir := table2Dir(out, preset)
	var tab toybench.Table2
	if err := arrayio.ReadJSON(filepath.Join(dir, "table2.json"), &tab); err == nil && tab.Seed == seed && tab.Preset.Name == preset {
		return dir, nil
	}
	p, err := toybench.PresetByName(preset)
	if err != nil {
		return "", err
	}
	b, err := backend.Shared()
	if err != nil {
		return "", err
	}
	if _, err := toybench.RunTable2(context.Background(), b, p, seed, dir, log); err != nil {
		return "", err
	}
	return dir, nil
}

func makeHistogramFigure(process, name, preset, out string, seed uint64, log io.Writer) ([]string, error) {
	dir, err := ensureTable2(preset, out, seed, log)
	if err != nil {
		return nil, err
	}
	var cases []string
	var ys [][]float64
	var gen, ref [][][]float64
	for _, c := range toy.Cases() {
		cs, err := toybench.ReadSamples(dir, c, process, "sde")
		if err != nil {
			return nil, err
		}
		cases = append(cases, string(c))
		ys = append(ys, cs.Y)
		gen = append(gen, cs.X)
		ref = append(ref, cs.Ref)
	}
	g, err := plots.ConditionalHistogramGrid(fmt.Sprintf("%s SDE: ", strings.ToUpper(process)), cases, ys, gen, ref)
	if err != nil {
		return nil, err
	}
	return plots.Save(g, 16*vg.Inch, 10*vg.Inch, filepath.Join(out, name))
}

func makeNFEFigure(preset, out string, seed uint64, log io.Writer) ([]string, error) {
	dir, err := ensureTable2(preset, out, seed, log)
	if err != nil {
		return nil, err
	}
	p, err := toybench.PresetByName(preset)
	if err != nil {
		return nil, err
	}
	b, err := backend.Shared()
	if err != nil {
		return nil, err
	}
	net, proc, err := toybench.LoadModel(b, toybench.ModelDir(dir, toy.Tanh, "vp"))
	if err != nil {
		return nil, err
	}
	const y = 1.0
	ref, err := toy.ExactConditional(toy.Tanh, y, p.NSamples, toybench.SubSeed(seed, "nfe-ref"))
	if err != nil {
		return nil, err
	}
	pts, err := toybench.NFEStudy(proc, net, y, ref, p, toybench.SubSeed(seed, "nfe"))
	if err != nil {
		return nil, err
	}
	bySolver := map[string]*[2]plots.NFESeries{}
	var order []string
	paperLevel := [2]float64{}
	for _, pt := range pts {
		s, ok := bySolver[pt.Solver]
		if !ok {
			s = &[2]plots.NFESeries{{Name: pt.Solver}, {Name: pt.Solver}}
			bySolver[pt.Solver] = s
			order = append(order, pt.Solver)
		}
		s[0].NFE, s[0].Err = append(s[0].NFE, float64(pt.NFE)), append(s[0].Err, pt.Sinkhorn)
		s[1].NFE, s[1].Err = append(s[1].NFE, float64(pt.NFE)), append(s[1].Err, pt.RMSToRef)
		if pt.Solver == "dopri5" && pt.Tol == 1e-5 {
			paperLevel = [2]float64{pt.Sinkhorn, pt.RMSToRef}
		}
	}
	var panels [2]*plot.Plot
	for k, lab := range []string{"Sinkhorn distance to exact x | y", "RMS error vs tight-tolerance solution"} {
		var series []plots.NFESeries
		for _, s := range order {
			series = append(series, bySolver[s][k])
		}
		panels[k], err = plots.NFEPlot(fmt.Sprintf("PF-ODE solvers, VP, tanh, y = %g", y), lab, series, paperLevel[k], "RK45 at rtol=atol=1e-5 (paper)")
		if err != nil {
			return nil, err
		}
	}
	paths, err := plots.Save(plots.Grid{Plots: [][]*plot.Plot{{panels[0], panels[1]}}}, 13*vg.Inch, 5*vg.Inch, filepath.Join(out, "nfe-accuracy"))
	if err != nil {
		return nil, err
	}
	jp := filepath.Join(out, "nfe-accuracy.json")
	if err := arrayio.WriteJSON(jp, map[string]any{"preset": preset, "seed": seed, "case": "tanh", "process": "vp", "y": y, "points": pts}); err != nil {
		return nil, err
	}
	return append(paths, jp), nil
}
