package fluxinv

import (
	"bytes"
	"context"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/compute"

	"github.com/pdediff/pdediff/datasets/flux"
	"github.com/pdediff/pdediff/lib/backend"
	"github.com/pdediff/pdediff/lib/experiment"
	"github.com/pdediff/pdediff/lib/posterior"
)

// sharedBackend returns the tests' shared backend (lib/backend Shared) or
// fails the test.
func sharedBackend(t *testing.T) compute.Backend {
	t.Helper()
	b, err := backend.Shared()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tinyPreset is a valid preset that runs in seconds (the numbers mean nothing).
func tinyPreset() Preset {
	p, _ := PresetFor("quick")
	p.Name = "tiny"
	p.Levels = []float64{0.2}
	p.NTrain, p.NTest = 200, 8
	p.Epochs, p.BatchSize, p.HiddenLayers, p.Width = 3, 100, 1, 8
	p.Cases, p.Draws = 4, 20
	p.Rtol, p.Atol, p.SDESteps = 1e-2, 1e-2, 10
	p.ESS = ESSSettings{Chains: 2, BurnIn: 20, Iterations: 40, Adapt: 0, Inflate: 1}
	p.Bins = 5
	p.Fig7Level, p.Fig7Cases = 0.2, []int{0, 1, 2}
	return p
}

func mtime(t *testing.T, path string) time.Time {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.ModTime()
}

func TestRunCellsMergeAndReuse(t *testing.T) {
	b := sharedBackend(t)
	p := tinyPreset()
	out := t.TempDir()
	ctx := context.Background()
	var log bytes.Buffer
	// 1. One process's ODE cell alone.
	res, err := Run(ctx, b, p, 7, out, Options{Only: []string{"ve-ode-*"}, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	names := func(r *Results) string {
		var s []string
		for _, c := range r.Cells {
			s = append(s, c.Name)
		}
		return strings.Join(s, " ")
	}
	if got := names(res); got != "ve-ode-0.2 exact-ess-0.2 exact-gauss-0.2" {
		t.Fatalf("cells after --only ve-ode-*: %s", got)
	}
	if !strings.Contains(log.String(), Fig9Name+" skipped") {
		t.Errorf("the VP figures should be skipped without VP cells; log:\n%s", log.String())
	}
	for _, f := range []string{Fig7Name, Fig8Name, Fig10Name, CalibrationVE} {
		path := filepath.Join(FiguresDir(out), f+".png")
		fh, err := os.Open(path)
		if err != nil {
			t.Fatalf("figure %s: %v", f, err)
		}
		if _, err := png.Decode(fh); err != nil {
			t.Errorf("%s: %v", path, err)
		}
		fh.Close()
	}
	veModel := ModelDir(out, "ve", 0.2) + ".stage.json"
	veTime, dataTime := mtime(t, veModel), mtime(t, DataDir(out, 0.2)+".stage.json")
	// 2. The VP cells in a second run merge with the first.
	res, err = Run(ctx, b, p, 7, out, Options{Only: []string{"vp-*"}, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(res); got != "ve-ode-0.2 vp-ode-0.2 vp-sde-0.2 exact-ess-0.2 exact-gauss-0.2" {
		t.Fatalf("cells after the merge: %s", got)
	}
	if !mtime(t, veModel).Equal(veTime) || !mtime(t, DataDir(out, 0.2)+".stage.json").Equal(dataTime) {
		t.Error("the VE model or the data were remade by a run that did not need them")
	}
	// 3. The full grid; a second full run reuses every product and writes the same results.
	if _, err := Run(ctx, b, p, 7, out, Options{Log: &log}); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(filepath.Join(out, "results.json"))
	postTime := mtime(t, PosteriorPath(out, Cell{Level: 0.2, Process: "vp", Sampler: "sde"}))
	res, err = Run(ctx, b, p, 7, out, Options{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(filepath.Join(out, "results.json"))
	if !bytes.Equal(first, second) {
		t.Error("a second run of the same preset and seed wrote another results.json")
	}
	if !mtime(t, PosteriorPath(out, Cell{Level: 0.2, Process: "vp", Sampler: "sde"})).Equal(postTime) {
		t.Error("a cached posterior was sampled again")
	}
	if cached, why := Cached(out, p, 7); cached == nil {
		t.Errorf("Cached refused a complete run: %s", why)
	}
	q := p
	q.Draws = 21
	if cached, _ := Cached(out, q, 7); cached != nil {
		t.Error("Cached accepted a run of another preset")
	}
	// Tables: every cell, with per-segment rows.
	md, _ := os.ReadFile(filepath.Join(out, "results.md"))
	seg, _ := os.ReadFile(filepath.Join(out, "results-segments.csv"))
	if !strings.Contains(string(md), "| 0.2 |") || strings.Count(string(seg), "\n") != 1+len(res.Cells)*D {
		t.Errorf("results.md / results-segments.csv incomplete:\n%s", md)
	}
	c := res.Cell("vp-sde-0.2")
	if c == nil || c.Sampler.Steps != p.SDESteps || c.Metrics.Reference == nil || c.Reference != "exact-ess-0.2" || c.Training == nil || c.Targets == nil {
		t.Errorf("cell vp-sde-0.2: %+v", c)
	}
	// 4. Another preset in the same folder: stages are remade, never mixed.
	res, err = Run(ctx, b, q, 7, out, Options{Only: []string{"ve-ode-*"}, Log: &log, NoFigures: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(res); got != "ve-ode-0.2 exact-ess-0.2 exact-gauss-0.2" || len(res.Stale) == 0 {
		t.Errorf("after a run of another preset: cells %s, stale %v", got, res.Stale)
	}
	if res.Cells[0].Metrics.Samples != 21 {
		t.Errorf("the cell of the new preset has %d draws", res.Cells[0].Metrics.Samples)
	}
}

func TestFigureRegistry(t *testing.T) {
	figs := Figures()
	if len(figs) != len(FigureNames()) {
		t.Fatalf("%d figures, want %d", len(figs), len(FigureNames()))
	}
	for i, f := range figs {
		if f.Name != FigureNames()[i] || f.Summary == "" || f.Make == nil {
			t.Errorf("figure %d: %+v", i, f)
		}
	}
	if RunDir("figs", experiment.Quick) != filepath.Join("figs", "fluxinv-quick") {
		t.Error(RunDir("figs", experiment.Quick))
	}
	var res Results
	if _, err := BuildFigure(t.TempDir(), &res, Fig8Name); !IsMissingInputs(err) {
		t.Errorf("figure without cells: err = %v, want a missing-inputs error", err)
	}
	if _, err := BuildFigure(t.TempDir(), &res, "fig99"); err == nil || IsMissingInputs(err) {
		t.Errorf("unknown figure: err = %v", err)
	}
}

// TestEpochStudy runs the study on the tiny preset: one point per training
// length with the run's metrics, steps growing with epochs, the record and
// the figure written; bad lengths and cells are refused before any work.
func TestEpochStudy(t *testing.T) {
	b := sharedBackend(t)
	p := tinyPreset()
	out := t.TempDir()
	st, err := RunEpochStudy(context.Background(), b, p, 0.2, "ve", "ode", []int{1, 3}, 7, out, EpochOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Points) != 2 || st.Points[0].Steps != 2 || st.Points[1].Steps != 6 {
		t.Fatalf("points %+v (want 2 and 6 steps: 200 pairs, batch 100)", st.Points)
	}
	for _, pt := range st.Points {
		if !(pt.ErrorRatio > 0) || math.Abs(pt.ErrorRatio-pt.Error/pt.ExactError) > 1e-9 || !(pt.StdRatio > 0) || pt.NFE <= 0 {
			t.Errorf("point %+v", pt)
		}
	}
	// Both points compare with the same exact posterior.
	if st.Points[0].ExactError != st.Points[1].ExactError {
		t.Errorf("exact error differs between points: %v vs %v", st.Points[0].ExactError, st.Points[1].ExactError)
	}
	for _, f := range []string{EpochStudyFile, EpochFigureName + ".png", EpochFigureName + ".svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	for _, c := range []struct {
		epochs  []int
		process string
		want    string
	}{{nil, "ve", "no training lengths"}, {[]int{3, 1}, "ve", "increasing"}, {[]int{1}, "vpfamily", "not a cell of preset"}} {
		if _, err := RunEpochStudy(context.Background(), b, p, 0.2, c.process, "ode", c.epochs, 7, t.TempDir(), EpochOptions{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %s: error %v, want %q", c.epochs, c.process, err, c.want)
		}
	}
}

// TestMaskedRun: the masked problem's run trains a model that reads the
// masks, and its exact reference of each test case is the posterior of that
// case's own mask: the Gaussian exact draws match lib/posterior's Gaussian
// posterior for the mask (std within sampling error) and not the all-on
// posterior's. Figures take the paper's masked numbers.
func TestMaskedRun(t *testing.T) {
	b := sharedBackend(t)
	p := tinyPreset()
	p.Problem = ProblemMasked
	p.Draws = 400
	p.Samplers = []string{"ode"}
	out := t.TempDir()
	res, err := Run(context.Background(), b, p, 7, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Cell("ve-ode-0.2"); c == nil || c.Metrics == nil || c.Reference != "exact-ess-0.2" {
		t.Fatalf("cells %+v", res.Cells)
	}
	m, err := LoadModel(b, ModelDir(out, "ve", 0.2))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Info.Masks || m.Net.Config().MaskDim != D {
		t.Fatalf("model does not read masks: %+v", m.Info)
	}
	gf, err := ReadPosteriorFile(ExactPath(out, ExactGauss, 0.2))
	if err != nil {
		t.Fatal(err)
	}
	if gf.Obs.Mask == nil {
		t.Fatal("exact posterior file has no masks")
	}
	g, err := ResponseMatrix(m.Info)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := flux.NewPrior(m.Info.Prior)
	if err != nil {
		t.Fatal(err)
	}
	offTotal := 0
	for j := 0; j < gf.Post.K; j++ {
		mask := gf.Obs.Mask[j*D : (j+1)*D]
		for _, v := range mask {
			if v == 0 {
				offTotal++
			}
		}
		want := map[bool]float64{}
		for _, all := range []bool{false, true} {
			mk := mask
			if all {
				mk = nil
			}
			lin, err := posterior.FluxLinear(g, m.Info.NoiseStd, mk)
			if err != nil {
				t.Fatal(err)
			}
			lg, err := posterior.NewLinearGaussian(posterior.FluxPrior(pr), lin)
			if err != nil {
				t.Fatal(err)
			}
			want[all] = meanAbs(lg.Std())
		}
		got := meanAbs(gf.Post.Std[j*D : (j+1)*D])
		t.Logf("case %d: %d sensors off, sample std %.4f, own-mask std %.4f, all-on std %.4f", j, D-int(sum(mask)), got, want[false], want[true])
		// The Gaussian method records the posterior's own moments, so the match is exact.
		if math.Abs(got/want[false]-1) > 1e-6 {
			t.Errorf("case %d: exact draws' std %.4f, own-mask Gaussian posterior %.4f", j, got, want[false])
		}
		if sum(mask) < D && !(math.Abs(got/want[true]-1) > 0.01) {
			t.Errorf("case %d: exact draws' std %.4f is the all-on posterior's %.4f", j, got, want[true])
		}
	}
	if offTotal == 0 {
		t.Error("no test sensor is off")
	}
	// The sensors-on bins partition the cases; their case-weighted mean
	// error is the cell's overall error (same normaliser).
	c := res.Cell("ve-ode-0.2")
	mf, err := ReadPosteriorFile(filepath.Join(out, c.Posterior))
	if err != nil {
		t.Fatal(err)
	}
	ef, err := ReadPosteriorFile(filepath.Join(out, res.Cell(c.Reference).Posterior))
	if err != nil {
		t.Fatal(err)
	}
	truths, _ := readTruths(out, 0.2, p.Cases)
	bins, err := SensorsOn(mf, ef, truths)
	if err != nil {
		t.Fatal(err)
	}
	n, e, ex := 0, 0.0, 0.0
	for _, b := range bins {
		n += b.Cases
		e += float64(b.Cases) * b.Error / float64(p.Cases)
		ex += float64(b.Cases) * b.ExactError / float64(p.Cases)
	}
	if n != p.Cases || math.Abs(e-c.Metrics.ErrorMean) > 1e-12 || math.Abs(ex-c.Metrics.Reference.ErrorMean) > 1e-12 {
		t.Errorf("bins %+v: %d cases, error %v (cell %v), exact %v (cell %v)", bins, n, e, c.Metrics.ErrorMean, ex, c.Metrics.Reference.ErrorMean)
	}
	if _, err := os.Stat(filepath.Join(FiguresDir(out), SensorsOnName+".png")); err != nil {
		t.Error(err)
	}
	if got := FigureFile(res.Preset, Fig7Name); got != "fig13-ve-ode-posteriors" {
		t.Errorf("masked Figure 7 file %q", got)
	}
	if _, err := os.Stat(filepath.Join(FiguresDir(out), "fig13-ve-ode-posteriors.png")); err != nil {
		t.Error(err)
	}
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}
