package fluxinv

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/pdediff/pdediff/lib/experiment"
	"github.com/pdediff/pdediff/lib/plots"
)

// SensorsOnName is the masked problem's figure of error against the number
// of sensors on (beyond the paper).
const SensorsOnName = "masked-sensors-on"

// SensorsOnBin is one group of test cases with about the same number of
// sensors on.
type SensorsOnBin struct {
	// Lo and Hi bound the number of sensors on (inclusive); Cases counts the
	// test cases in the bin and MeanOn is their mean number of sensors on.
	Lo, Hi, Cases int
	MeanOn        float64
	// Error and ExactError are the mean over the bin's cases of the
	// normalised error of the posterior mean (theory eq. 116 per case,
	// averaged over segments), learnt and exact.
	Error, ExactError float64
}

// sensorsOnBins are the bins of the study (Bernoulli(0.7) masks give 21 ± 2.5 on).
var sensorsOnBins = [][2]int{{0, 16}, {17, 19}, {20, 21}, {22, 23}, {24, 26}, {27, 30}}

// SensorsOn groups the test cases of a learnt posterior and its exact
// reference by the number of sensors on and returns each bin's mean error,
// learnt and exact (empty bins are left out).
func SensorsOn(model, exact *PosteriorFile, truths []float64) ([]SensorsOnBin, error) {
	k := model.Post.K
	if model.Obs.Mask == nil || exact.Post.K != k || len(truths) < k*D {
		return nil, fmt.Errorf("fluxinv: sensors-on study needs masked posteriors of the same %d cases", k)
	}
	norm := 0.0
	for _, v := range truths[:k*D] {
		norm += v / float64(k*D)
	}
	bins := make([]SensorsOnBin, len(sensorsOnBins))
	for i, b := range sensorsOnBins {
		bins[i].Lo, bins[i].Hi = b[0], b[1]
	}
	for j := 0; j < k; j++ {
		on := 0
		for _, v := range model.Obs.Mask[j*D : (j+1)*D] {
			if v == 1 {
				on++
			}
		}
		e, ex := 0.0, 0.0
		for s := 0; s < D; s++ {
			q := truths[j*D+s]
			e += math.Abs(model.Post.Mean[j*D+s]-q) / (norm * D)
			ex += math.Abs(exact.Post.Mean[j*D+s]-q) / (norm * D)
		}
		for i := range bins {
			if on >= bins[i].Lo && on <= bins[i].Hi {
				bins[i].Cases++
				bins[i].MeanOn += float64(on)
				bins[i].Error += e
				bins[i].ExactError += ex
			}
		}
	}
	var out []SensorsOnBin
	for _, b := range bins {
		if b.Cases > 0 {
			b.MeanOn /= float64(b.Cases)
			b.Error /= float64(b.Cases)
			b.ExactError /= float64(b.Cases)
			out = append(out, b)
		}
	}
	return out, nil
}

// sensorsOnFigure draws the study for the VE and VP ODE cells of one level:
// mean normalised error against the number of sensors on, learnt (solid)
// and exact (dashed), with each bin's number of cases.
func sensorsOnFigure(out string, res *Results) (experiment.Plot, error) {
	if !res.Preset.Masks() {
		return experiment.Plot{}, missingError{"sensor masks (a masked-problem run)"}
	}
	level := res.Preset.Fig7Level
	p := panel(fmt.Sprintf("noise level %s, ODE sampler", LevelLabel(level)), "sensors on (of 30)", "mean normalised error of the posterior mean")
	var legend []plots.LegendEntry
	drawn := 0
	hi := 0.0
	var counts []SensorsOnBin
	for i, proc := range res.Preset.Processes {
		cell := Cell{Level: level, Process: proc, Sampler: "ode"}
		if res.Cell(cell.Name()) == nil {
			continue
		}
		mf, ef, _, truths, err := cellFiles(out, res, cell)
		if err != nil {
			return experiment.Plot{}, err
		}
		bins, err := SensorsOn(mf, ef, truths)
		if err != nil {
			return experiment.Plot{}, err
		}
		var m, e plotter.XYs
		for _, b := range bins {
			x := b.MeanOn
			m = append(m, plotter.XY{X: x, Y: b.Error})
			e = append(e, plotter.XY{X: x, Y: b.ExactError})
			hi = math.Max(hi, math.Max(b.Error, b.ExactError))
		}
		if _, err := line(p, m, levelColor(i), 2); err != nil {
			return experiment.Plot{}, err
		}
		if drawn == 0 {
			if _, err := line(p, e, truthColor, 1.5, dashed...); err != nil {
				return experiment.Plot{}, err
			}
			counts = bins
		}
		legend = append(legend, plots.LegendEntry{Label: strings.ToUpper(proc) + " model, ODE sampler", Thumbs: []plot.Thumbnailer{thumb{c: levelColor(i)}}})
		drawn++
	}
	if drawn == 0 {
		return experiment.Plot{}, missingError{"ODE cells at noise level " + LevelLabel(level)}
	}
	legend = append(legend, plots.LegendEntry{Label: "exact posterior of each case's mask", Thumbs: []plot.Thumbnailer{thumb{c: truthColor, dashes: dashed}}})
	p.Y.Min, p.Y.Max = 0, 1.15*hi
	p.X.Min, p.X.Max = 30, 31
	for _, b := range counts {
		p.X.Min = math.Min(p.X.Min, math.Floor(b.MeanOn)-2)
	}
	for _, b := range counts {
		l, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: b.MeanOn, Y: 1.07 * hi}},
			Labels: []string{fmt.Sprintf("n = %d", b.Cases)}})
		if err != nil {
			return experiment.Plot{}, err
		}
		p.Add(l)
	}
	title := fmt.Sprintf("Masked sensors: error against the number of sensors on (%d test cases in bins; n = cases per bin)", res.Preset.Cases)
	return experiment.Plot{Fig: plots.Grid{Plots: [][]*plot.Plot{{p}}, Title: title, Legend: legend},
		Width: 8 * vg.Inch, Height: 5.5 * vg.Inch}, nil
}
