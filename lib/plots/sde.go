package plots

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/pdediff/pdediff/lib/analytic"
	"github.com/pdediff/pdediff/lib/sample"
	"github.com/pdediff/pdediff/lib/sde"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// VPFamily builds Figure 1 (theory §1.3): s(t) of the VP family for each κ
// (solid) under the constant schedule β(t) = betaBar on t ∈ [0, tMax], and the
// κ-independent m(t) = e^(−β̄t/2) (dashed).
func VPFamily(kappas []float64, betaBar, tMax float64, variant sde.Variant) (*plot.Plot, error) {
	if len(kappas) == 0 {
		return nil, fmt.Errorf("plots: VPFamily needs at least one kappa")
	}
	sched, err := sde.NewConstantBeta(betaBar)
	if err != nil {
		return nil, err
	}
	const npts = 400
	p := newPlot(fmt.Sprintf("VP family, constant β = %g (%s variant): std s(t) and mean factor m(t)", betaBar, variant),
		"diffusion time t", "s(t) solid, m(t) dashed")
	p.Add(lightGrid())
	leg := addLegend(p, 3)
	var proc *sde.Family
	for i, k := range kappas {
		proc, err = sde.NewFamily(sched, k, variant, tMax)
		if err != nil {
			return nil, err
		}
		pts := make(plotter.XYs, npts)
		for j := range pts {
			t := tMax * float64(j) / (npts - 1)
			pts[j] = plotter.XY{X: t, Y: proc.Std(t)}
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1.5)
		p.Add(l)
		leg.add(fmt.Sprintf("s(t), κ = %g", k), l)
	}
	mpts := make(plotter.XYs, npts)
	for j := range mpts {
		t := tMax * float64(j) / (npts - 1)
		mpts[j] = plotter.XY{X: t, Y: proc.Mean(t)}
	}
	ml, err := plotter.NewLine(mpts)
	if err != nil {
		return nil, err
	}
	ml.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	ml.Width = vg.Points(1.5)
	p.Add(ml)
	leg.add("m(t), every κ", ml)
	p.Y.Min, p.Y.Max = 0, 1.05
	return p, nil
}

// densityGrid is a GridXYZ of p_t(x) over (t, x), each t column scaled to max 1
// so that the spreading VE marginals stay visible.
type densityGrid struct {
	ts, xs []float64
	z      [][]float64 // [t][x]
}

func (g densityGrid) Dims() (int, int)   { return len(g.ts), len(g.xs) }
func (g densityGrid) Z(c, r int) float64 { return g.z[c][r] }
func (g densityGrid) X(c int) float64    { return g.ts[c] }
func (g densityGrid) Y(r int) float64    { return g.xs[r] }
func (g densityGrid) Min() float64       { return 0 }
func (g densityGrid) Max() float64       { return 1 }
func linspace(a, b float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = a + (b-a)*float64(i)/float64(n-1)
	}
	return out
}

// colorList is a palette.Palette from a slice of colors.
type colorList []color.Color

func (c colorList) Colors() []color.Color { return c }

// reversed returns p's colors in reverse order (so 0 maps to the light end).
func reversed(p palette.Palette) palette.Palette {
	src := p.Colors()
	out := make(colorList, len(src))
	for i, c := range src {
		out[len(src)-1-i] = c
	}
	return out
}

// ForwardDemo draws, for each process, nPaths exact forward sample paths of the
// 1-D data (exact Gaussian transitions, sde.Transition, on nT times) over the
// heat map of the marginal density p_t(x) (each t column scaled to max 1).
func ForwardDemo(data analytic.Mixture, procs []sde.Process, nPaths, nT int, seed uint64) (Grid, error) {
	if data.Dim() != 1 {
		return Grid{}, fmt.Errorf("plots: ForwardDemo needs 1-D data, got d=%d", data.Dim())
	}
	if nPaths < 1 || nT < 2 || len(procs) == 0 {
		return Grid{}, fmt.Errorf("plots: ForwardDemo needs nPaths >= 1 (got %d), nT >= 2 (got %d) and a process", nPaths, nT)
	}
	rng := rand.New(rand.NewPCG(seed, 0xf0))
	row := make([]*plot.Plot, len(procs))
	for pi, proc := range procs {
		T := proc.T()
		ts := linspace(0, T, nT)
		lim := 3 * math.Max(proc.Std(T), math.Sqrt(data.Var()[0])+math.Abs(data.Mean()[0]))
		// The heat map has its own coarse grid (at most 60 × 80 cells) so
		// that the SVG stays small whatever the path resolution nT.
		hts := linspace(0, T, min(nT, 60))
		xs := linspace(-lim, lim, 80)
		g := densityGrid{ts: hts, xs: xs, z: make([][]float64, len(hts))}
		for c, t := range hts {
			mt, err := data.Marginal(proc, t)
			if err != nil {
				return Grid{}, err
			}
			g.z[c] = make([]float64, len(xs))
			peak := 0.0
			for r, x := range xs {
				v := math.Exp(mt.LogDensity([]float64{x}))
				g.z[c][r] = v
				peak = math.Max(peak, v)
			}
			for r := range xs {
				g.z[c][r] /= peak
			}
		}
		p := newPlot(fmt.Sprintf("%s: %d forward paths over the marginal p_t(x)", processTitle(proc), nPaths),
			"diffusion time t", "x")
		pal := reversed(palette.Heat(48, 1))
		hm := plotter.NewHeatMap(g, pal)
		hm.Rasterized = true
		p.Add(hm)
		AddColorBar(p, pal, hm.Min, hm.Max, "p_t(x) / max_x p_t(x)")
		x0 := data.Sample(rng, nPaths)
		for i := range nPaths {
			pts := make(plotter.XYs, nT)
			x := x0[i]
			pts[0] = plotter.XY{X: 0, Y: x}
			for c := 1; c < nT; c++ {
				r, sd, err := sde.Transition(proc, ts[c-1], ts[c])
				if err != nil {
					return Grid{}, err
				}
				x = r*x + sd*rng.NormFloat64()
				pts[c] = plotter.XY{X: ts[c], Y: x}
			}
			l, err := plotter.NewLine(pts)
			if err != nil {
				return Grid{}, err
			}
			l.Color = color.NRGBA{R: 20, G: 60, B: 160, A: 200}
			l.Width = vg.Points(0.7)
			p.Add(l)
		}
		p.X.Min, p.X.Max = 0, T
		p.Y.Min, p.Y.Max = -lim, lim
		row[pi] = p
	}
	return Grid{Plots: [][]*plot.Plot{row}}, nil
}

// ReverseDemo runs the reverse process with the exact score of the 1-D data for
// each process, as the SDE (Euler–Maruyama, α = 1, `steps` steps) and as the
// PF-ODE (DoPri5, rtol = atol = 1e-5), from n prior draws, and plots
// histograms of the samples at t = eps against the exact density p_eps. Rows:
// processes; columns: SDE, ODE.
func ReverseDemo(data analytic.Mixture, procs []sde.Process, n, steps int, seed uint64, progress io.Writer) (Grid, error) {
	if data.Dim() != 1 {
		return Grid{}, fmt.Errorf("plots: ReverseDemo needs 1-D data, got d=%d", data.Dim())
	}
	var rows [][]*plot.Plot
	var leg []LegendEntry
	for _, proc := range procs {
		q, err := data.Marginal(proc, sample.DefaultEps)
		if err != nil {
			return Grid{}, err
		}
		var row []*plot.Plot
		for _, m := range []struct {
			label string
			run   func() (sample.Result, error)
		}{
			{"SDE sampler (α = 1, Euler–Maruyama)", func() (sample.Result, error) {
				return sample.EulerMaruyama(proc, data.ScoreFunc(proc), sample.Options{N: n, D: 1, Steps: steps, Alpha: 1, Seed: seed, Progress: progress})
			}},
			{"PF-ODE sampler (α = 0, DoPri5)", func() (sample.Result, error) {
				return sample.DoPri5(proc, data.ScoreFunc(proc), sample.Options{N: n, D: 1, Seed: seed, Progress: progress})
			}},
		} {
			r, err := m.run()
			if err != nil {
				return Grid{}, fmt.Errorf("plots: %s %s: %w", proc.Name(), m.label, err)
			}
			p := newPlot(fmt.Sprintf("%s: %s, NFE %d", processTitle(proc), m.label, r.NFE), "x", "density at t = ε")
			h, err := plotter.NewHist(plotter.Values(r.X), 60)
			if err != nil {
				return Grid{}, err
			}
			h.Normalize(1)
			h.FillColor = color.NRGBA{R: 90, G: 140, B: 220, A: 150}
			h.LineStyle.Width = 0
			p.Add(h)
			f := plotter.NewFunction(func(x float64) float64 { return math.Exp(q.LogDensity([]float64{x})) })
			f.Samples = 400
			f.Color = color.NRGBA{R: 200, G: 30, B: 30, A: 255}
			f.Width = vg.Points(1.5)
			p.Add(f)
			p.Y.Min, p.Y.Max = 0, 1.08*p.Y.Max // headroom above the tallest bar
			if leg == nil {
				leg = []LegendEntry{{Label: fmt.Sprintf("histogram of %d samples", n), Thumbs: []plot.Thumbnailer{h}},
					{Label: "exact density p_ε", Thumbs: []plot.Thumbnailer{f}}}
			}
			row = append(row, p)
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return Grid{}, fmt.Errorf("plots: ReverseDemo needs a process")
	}
	return Grid{Plots: rows, Title: fmt.Sprintf("Reverse process with the exact score: samples at t = ε = %g against p_ε", sample.DefaultEps), Legend: leg}, nil
}

// processTitle names a process in titles: "VE SDE", "VP SDE", or its name.
func processTitle(p sde.Process) string {
	switch n := p.Name(); n {
	case "ve", "vp":
		return strings.ToUpper(n) + " SDE"
	default:
		return n
	}
}
