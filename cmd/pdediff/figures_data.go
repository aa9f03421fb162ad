package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/pdediff/pdediff/datasets/flux"
	"github.com/pdediff/pdediff/datasets/toy"
	"github.com/pdediff/pdediff/lib/physics"
	"github.com/pdediff/pdediff/lib/plots"
	"gonum.org/v1/plot/vg"
)

// Data figures of the paper: Fig. 2 (toy joint densities), Fig. 5 (set-up),
// Fig. 6 (prior draws), Fig. 12 (masked instances), Fig. 15 (nonlinear instances).
func init() {
	registerFigure(figureMaker{name: "fig2-joint-densities", summary: "joint densities p(x, y) of Tanh, Bimodal, Spiral: exact density (top), 2-D histogram of samples (bottom)", make: makeFig2})
	registerFigure(figureMaker{name: "fig5-setup", summary: "channel, parabolic velocity profile, flux segments on both walls, 30 sensors", make: makeFig5})
	registerFigure(figureMaker{name: "fig6-prior-draws", summary: "three prior draws (linear problem): wall flux, concentration field, noisy readings", make: makeFig6})
	registerFigure(figureMaker{name: "fig12-masked", summary: "masked training instances (linear problem); off sensors as red crosses", make: makeFig12})
	registerFigure(figureMaker{name: "fig15-nonlinear", summary: "nonlinear (reaction) instances: wall flux, field (tends to 2 downstream), noisy readings", make: makeFig15})
}

// toyFigureBox is the plotting window (x range, y range) of each toy case.
var toyFigureBox = map[toy.Case][4]float64{
	toy.Tanh:    {-1.2, 2.6, -3, 3},
	toy.Bimodal: {-2.2, 2.2, -3, 3},
	toy.Spiral:  {-1.8, 1.8, -1.8, 1.8},
}

func makeFig2(preset, outDir string, seed uint64, log io.Writer) ([]string, error) {
	cells, n := 60, 10000
	if preset == "paper" {
		cells, n = 200, 100000
	}
	var titles []string
	var grids []plots.ToyGrid
	for _, kind := range []string{"exact density", "histogram"} {
		for _, c := range toy.Cases() {
			b := toyFigureBox[c]
			var g plots.ToyGrid
			var err error
			if kind == "exact density" {
				g, err = plots.ToyEvalGrid(func(x, y float64) (float64, error) { return toy.JointDensity(c, x, y) }, b[0], b[1], b[2], b[3], cells, cells)
			} else {
				var x, y []float64
				if x, y, err = toy.Sample(c, n, seed); err == nil {
					g, err = plots.ToyHist2D(x, y, b[0], b[1], b[2], b[3], cells/2, cells/2)
				}
			}
			if err != nil {
				return nil, err
			}
			title := fmt.Sprintf("%s: %s", c, kind)
			if kind == "histogram" {
				title = fmt.Sprintf("%s: histogram of %d samples", c, n)
			}
			titles = append(titles, title)
			grids = append(grids, g)
		}
	}
	var rows []plots.Grid
	for r := 0; r < 2; r++ {
		g, err := plots.ToyJointFigure(titles[3*r:3*r+3], grids[3*r:3*r+3])
		if err != nil {
			return nil, err
		}
		rows = append(rows, g)
	}
	fig := plots.Grid{Plots: append(rows[0].Plots, rows[1].Plots...)}
	return plots.Save(fig, 12*vg.Inch, 8*vg.Inch, filepath.Join(outDir, "fig2-joint-densities"))
}

// fluxGeometry returns the plotting geometry of the physics package.
func fluxGeometry(umax float64) plots.FluxGeometry {
	xs, ys := physics.SensorPositions()
	return plots.FluxGeometry{Length: physics.Length, Height: physics.Height, FluxEnd: physics.FluxEnd,
		SegmentsPerWall: physics.SegmentsPerWall, SensorX: xs[:], SensorY: ys[:], UMax: umax}
}

func makeFig5(preset, outDir string, seed uint64, log io.Writer) ([]string, error) {
	cfg, err := physics.DefaultConfig(physics.ProblemLinear)
	if err != nil {
		return nil, err
	}
	p, err := plots.FluxSetupPlot(fluxGeometry(cfg.UMax))
	if err != nil {
		return nil, err
	}
	return plots.Save(p, 10*vg.Inch, 3.5*vg.Inch, filepath.Join(outDir, "fig5-setup"))
}

// fluxFigureMesh is the mesh of the data figures: coarse for quick, the physics default for paper.
func fluxFigureConfig(problem, preset string) (physics.Config, error) {
	cfg, err := physics.DefaultConfig(problem)
	if err != nil || preset == "paper" {
		return cfg, err
	}
	if problem == physics.ProblemLinear {
		cfg.NX, cfg.NY = 170, 40
	} else {
		cfg.NX, cfg.NY = 85, 20
	}
	return cfg, nil
}

// fluxInstances generates a small data set (n-train sets the noise scale) and
// returns its first three test instances with their full fields.
func fluxInstances(problem, preset string, masks bool, seed uint64, log io.Writer) ([]plots.FluxInstance, physics.Config, error) {
	cfg, err := fluxFigureConfig(problem, preset)
	if err != nil {
		return nil, cfg, err
	}
	model, err := physics.New(cfg)
	if err != nil {
		return nil, cfg, err
	}
	nTrain := 200
	if problem == physics.ProblemNonlinear && preset == "quick" {
		nTrain = 30
	}
	ds, err := flux.Generate(context.Background(), model, flux.Options{NTrain: nTrain, NTest: 3, NoiseLevel: 0.05,
		Masks: masks, Seed: seed, Workers: 2, Progress: log})
	if err != nil {
		return nil, cfg, err
	}
	var out []plots.FluxInstance
	for i := 0; i < 3; i++ {
		q := ds.Test.Q[i*flux.N : (i+1)*flux.N]
		sol, err := physics.Solve(cfg, q)
		if err != nil {
			return nil, cfg, err
		}
		in := plots.FluxInstance{Q: q, Readings: ds.Test.ReadingsNoisy[i*flux.N : (i+1)*flux.N],
			Field: &plots.FluxField{NX: sol.Mesh.NX, NY: sol.Mesh.NY, Length: physics.Length, Height: physics.Height, C: sol.C}}
		if masks {
			in.Mask = ds.Test.Mask[i*flux.N : (i+1)*flux.N]
		}
		out = append(out, in)
	}
	return out, cfg, nil
}

func makeFluxInstancesFigure(name, problem string, masks bool) func(preset, outDir string, seed uint64, log io.Writer) ([]string, error) {
	return func(preset, outDir string, seed uint64, log io.Writer) ([]string, error) {
		inst, cfg, err := fluxInstances(problem, preset, masks, seed, log)
		if err != nil {
			return nil, err
		}
		fig, err := plots.FluxInstancesFigure(fluxGeometry(cfg.UMax), inst)
		if err != nil {
			return nil, err
		}
		return plots.Save(fig, 15*vg.Inch, 9*vg.Inch, filepath.Join(outDir, name))
	}
}

var (
	makeFig6  = makeFluxInstancesFigure("fig6-prior-draws", physics.ProblemLinear, false)
	makeFig12 = makeFluxInstancesFigure("fig12-masked", physics.ProblemLinear, true)
	makeFig15 = makeFluxInstancesFigure("fig15-nonlinear", physics.ProblemNonlinear, false)
)
