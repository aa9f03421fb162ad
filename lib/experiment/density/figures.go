package density

import (
	"fmt"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/pdediff/pdediff/datasets/toy"
	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/experiment"
	"github.com/pdediff/pdediff/lib/plots"
)

// Figures returns the figure registry of Section 6.1 in display order.
func Figures() []experiment.Figure {
	return []experiment.Figure{
		{Name: "fig2-joint-densities", Summary: "Fig 2: joint densities p(x, y) of Tanh, Bimodal, Spiral: exact density (top), 2-D histogram of samples (bottom)",
			Make: func(env experiment.Env) ([]string, error) {
				p, err := PresetFor(string(env.Preset))
				if err != nil {
					return nil, err
				}
				f, err := JointDensities(p, env.Seed)
				if err != nil {
					return nil, err
				}
				return f.Save(env, "fig2-joint-densities")
			}},
		histogramFigure("ve", "fig3-ve-sde-histograms", "Fig 3"),
		histogramFigure("vp", "fig4-vp-sde-histograms", "Fig 4"),
		{Name: "nfe-accuracy", Summary: "beyond the paper: OT distance and solver error vs NFE for Euler, Heun, RK4, Dormand-Prince (VP, tanh)",
			Make: makeNFEFigure},
	}
}

// RunDir is where the figures keep the Table 2 run of a preset inside the
// figure folder out.
func RunDir(out string, preset experiment.PresetName) string {
	return filepath.Join(out, "table2-"+string(preset))
}

// figureBox is the plotting window (x range, y range) of each toy case.
func figureBox(c toy.Case) [4]float64 {
	switch c {
	case toy.Tanh:
		return [4]float64{-1.2, 2.6, -3, 3}
	case toy.Bimodal:
		return [4]float64{-2.2, 2.2, -3, 3}
	default:
		return [4]float64{-1.8, 1.8, -1.8, 1.8}
	}
}

// JointDensities builds Figure 2: the exact joint density of each case (top
// row) and a 2-D histogram of p.Fig2Samples draws with the given seed
// (bottom row).
func JointDensities(p Preset, seed uint64) (experiment.Plot, error) {
	cells, n := p.Fig2Cells, p.Fig2Samples
	var titles []string
	var grids []plots.ToyGrid
	for _, kind := range []string{"exact density", "histogram"} {
		for _, c := range toy.Cases() {
			b := figureBox(c)
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
				return experiment.Plot{}, err
			}
			title := fmt.Sprintf("%s: %s", c, kind)
			if kind == "histogram" {
				title = fmt.Sprintf("%s: histogram of %d samples", c, n)
			}
			titles = append(titles, title)
			grids = append(grids, g)
		}
	}
	fig, err := plots.ToyDensityFigure([][]string{titles[:3], titles[3:]}, [][]plots.ToyGrid{grids[:3], grids[3:]}, true)
	if err != nil {
		return experiment.Plot{}, err
	}
	return experiment.Plot{Fig: fig, Width: 12 * vg.Inch, Height: 8 * vg.Inch}, nil
}

// Histograms builds Figure 3 (process "ve") or 4 ("vp") from a Table 2 run
// folder: histograms of the SDE sampler's x | y against the band reference,
// one panel per case and y value.
func Histograms(runDir, process string) (experiment.Plot, error) {
	var cases []string
	var ys [][]float64
	var gen, ref [][][]float64
	for _, c := range toy.Cases() {
		cs, err := ReadSamples(runDir, c, process, "sde")
		if err != nil {
			return experiment.Plot{}, err
		}
		cases = append(cases, string(c))
		ys = append(ys, cs.Y)
		gen = append(gen, cs.X)
		ref = append(ref, cs.Ref)
	}
	g, err := plots.ConditionalHistogramGrid(fmt.Sprintf("%s SDE: ", strings.ToUpper(process)), cases, ys, gen, ref)
	if err != nil {
		return experiment.Plot{}, err
	}
	return experiment.Plot{Fig: g, Width: 16 * vg.Inch, Height: 10 * vg.Inch}, nil
}

func histogramFigure(process, name, label string) experiment.Figure {
	return experiment.Figure{Name: name,
		Summary: fmt.Sprintf("%s: x | y histograms, %s + SDE sampler vs reference (runs or reuses the Table 2 run)", label, strings.ToUpper(process)),
		Make: func(env experiment.Env) ([]string, error) {
			dir := RunDir(env.Out, env.Preset)
			if _, err := EnsureTable2(env, dir); err != nil {
				return nil, err
			}
			f, err := Histograms(dir, process)
			if err != nil {
				return nil, err
			}
			return f.Save(env, name)
		}}
}

// NFEStudyY is the conditioning value of the NFE study (Tanh case, VP model).
const NFEStudyY = 1.0

// NFEStudyOf runs NFEStudy on the VP/Tanh model of a Table 2 run folder at
// y = NFEStudyY, against the exact conditional.
func NFEStudyOf(env experiment.Env, runDir string) ([]NFEPoint, error) {
	p, err := PresetFor(string(env.Preset))
	if err != nil {
		return nil, err
	}
	b, err := env.Backend()
	if err != nil {
		return nil, err
	}
	m, err := LoadModelOf(b, ModelDir(runDir, toy.Tanh, "vp"))
	if err != nil {
		return nil, err
	}
	ref, err := toy.ExactConditional(toy.Tanh, NFEStudyY, p.NSamples, experiment.SubSeed(env.Seed, "nfe-ref"))
	if err != nil {
		return nil, err
	}
	return NFEStudy(m, []float64{NFEStudyY}, ref, p, experiment.SubSeed(env.Seed, "nfe"))
}

// NFEFigure builds the accuracy-vs-NFE figure from the study's points: OT
// distance to the exact conditional (left) and RMS error to the tight
// solution (right), one curve per sampler, the paper's RK45 at 1e-5 marked.
func NFEFigure(pts []NFEPoint) (experiment.Plot, error) {
	bySolver := map[string]*[2]plots.NFESeries{}
	var order []string
	paperLevel := [2]float64{}
	for _, pt := range pts {
		s, ok := bySolver[pt.Sampler]
		if !ok {
			label := pt.Sampler
			if pt.Sampler == "ode" {
				label = "ode (Dormand–Prince)"
			}
			s = &[2]plots.NFESeries{{Name: label}, {Name: label}}
			bySolver[pt.Sampler] = s
			order = append(order, pt.Sampler)
		}
		s[0].NFE, s[0].Err = append(s[0].NFE, float64(pt.NFE)), append(s[0].Err, pt.Sinkhorn)
		s[1].NFE, s[1].Err = append(s[1].NFE, float64(pt.NFE)), append(s[1].Err, pt.RMSToRef)
		if pt.Sampler == "ode" && pt.Tol == 1e-5 {
			paperLevel = [2]float64{pt.Sinkhorn, pt.RMSToRef}
		}
	}
	var panels [2]*plot.Plot
	titles := [2]string{
		fmt.Sprintf("Accuracy: distance to exact x | y (VP, tanh, y = %g)", NFEStudyY),
		"Solver error: RMS vs tight-tolerance solution",
	}
	for k, lab := range []string{"Sinkhorn distance to exact x | y", "RMS error vs tight-tolerance solution"} {
		var series []plots.NFESeries
		for _, s := range order {
			series = append(series, bySolver[s][k])
		}
		var err error
		panels[k], err = plots.NFEPlot(titles[k], lab, series, paperLevel[k], "RK45 at rtol=atol=1e-5 (paper)")
		if err != nil {
			return experiment.Plot{}, err
		}
	}
	return experiment.Plot{Fig: plots.Grid{Plots: [][]*plot.Plot{{panels[0], panels[1]}}}, Width: 13 * vg.Inch, Height: 5 * vg.Inch}, nil
}

func makeNFEFigure(env experiment.Env) ([]string, error) {
	dir := RunDir(env.Out, env.Preset)
	if _, err := EnsureTable2(env, dir); err != nil {
		return nil, err
	}
	pts, err := NFEStudyOf(env, dir)
	if err != nil {
		return nil, err
	}
	f, err := NFEFigure(pts)
	if err != nil {
		return nil, err
	}
	paths, err := f.Save(env, "nfe-accuracy")
	if err != nil {
		return nil, err
	}
	jp := env.Path("nfe-accuracy.json")
	if err := arrayio.WriteJSON(jp, map[string]any{"preset": env.Preset, "seed": env.Seed, "case": "tanh", "process": "vp", "y": NFEStudyY, "points": pts}); err != nil {
		return nil, err
	}
	return append(paths, jp), nil
}
