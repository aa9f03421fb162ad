package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/pdediff/pdediff/lib/analytic"
	"github.com/pdediff/pdediff/lib/plots"
	"github.com/pdediff/pdediff/lib/sde"
	"gonum.org/v1/plot/vg"
)

// demoMixture is the bimodal 1-D data of the forward/reverse demos.
func demoMixture() (analytic.Mixture, error) {
	return analytic.NewMixture([]float64{0.3, 0.7}, [][]float64{{-1.5}, {1}}, [][]float64{{0.3}, {0.5}})
}

// toyProcesses returns the SPEC §8 toy VE and VP processes.
func toyProcesses() ([]sde.Process, error) {
	var out []sde.Process
	for _, name := range []string{"ve", "vp"} {
		p, err := sde.New(sde.ToyConfig(name))
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func init() {
	registerFigure(figureMaker{
		name:    "fig1-vp-family",
		summary: "Fig 1: s(t) of the VP family for kappa in {0.25,0.5,1,2,4}, constant beta = 1, m(t) dashed",
		make: func(preset, outDir string, seed uint64, log io.Writer) ([]string, error) {
			var paths []string
			for _, v := range sde.Variants {
				p, err := plots.VPFamily([]float64{0.25, 0.5, 1, 2, 4}, 1, 10, v)
				if err != nil {
					return nil, err
				}
				base := "fig1-vp-family"
				if v != sde.VariantPower {
					base += "-" + string(v)
				}
				ps, err := plots.Save(p, 6*vg.Inch, 4*vg.Inch, filepath.Join(outDir, base))
				if err != nil {
					return nil, err
				}
				paths = append(paths, ps...)
			}
			return paths, nil
		},
	})
	registerFigure(figureMaker{
		name:    "demo-forward",
		summary: "forward SDE sample paths of a bimodal 1-D mixture under VE and VP over the marginal density",
		make: func(preset, outDir string, seed uint64, log io.Writer) ([]string, error) {
			data, err := demoMixture()
			if err != nil {
				return nil, err
			}
			procs, err := toyProcesses()
			if err != nil {
				return nil, err
			}
			paths, nT := 12, 200
			if preset == "paper" {
				paths, nT = 30, 500
			}
			g, err := plots.ForwardDemo(data, procs, paths, nT, seed)
			if err != nil {
				return nil, err
			}
			return plots.Save(g, 10*vg.Inch, 4*vg.Inch, filepath.Join(outDir, "demo-forward"))
		},
	})
	registerFigure(figureMaker{
		name:    "demo-reverse",
		summary: "reverse process with the exact score: samples at t=eps vs exact density, SDE (alpha=1) and PF-ODE (alpha=0)",
		make: func(preset, outDir string, seed uint64, log io.Writer) ([]string, error) {
			data, err := demoMixture()
			if err != nil {
				return nil, err
			}
			procs, err := toyProcesses()
			if err != nil {
				return nil, err
			}
			n, steps := 10000, 500
			if preset == "paper" {
				n, steps = 100000, 1000
			}
			fmt.Fprintf(log, "demo-reverse: %d samples, %d Euler-Maruyama steps, DoPri5 rtol=atol=1e-5\n", n, steps)
			g, err := plots.ReverseDemo(data, procs, n, steps, seed, log)
			if err != nil {
				return nil, err
			}
			return plots.Save(g, 10*vg.Inch, 7*vg.Inch, filepath.Join(outDir, "demo-reverse"))
		},
	})
}
