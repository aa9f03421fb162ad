package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/datasets/toy"
	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/backend"
	"github.com/pdediff/pdediff/lib/experiment"
	"github.com/pdediff/pdediff/lib/experiment/density"
)

func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("pdediff %s: exit %d\nstderr: %s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

// train → sample → eval through the CLI: the samples are x | y = 1 of the
// Tanh case (true mean tanh(1) + 0.3 ≈ 1.06), and eval's JSON carries both
// Sinkhorn values.
func TestToyTrainSampleEval(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "model")
	runOK(t, "toy", "train", "--case", "tanh", "--process", "vp", "--epochs", "100", "--out", model, "--quiet", "--seed", "3")
	s := filepath.Join(dir, "s.npz")
	runOK(t, "toy", "sample", "--model", model, "--y", "1", "--n", "1500", "--sampler", "ode", "--rtol", "1e-4", "--atol", "1e-4", "--out", s)
	a, err := arrayio.ReadNPZ(s)
	if err != nil {
		t.Fatal(err)
	}
	x := a["x"]
	if x.Rows() != 1500 || x.Cols() != 1 || a["nfe"].Data[0] < 10 {
		t.Fatalf("samples: shape %v, nfe %v", x.Shape, a["nfe"].Data)
	}
	mean := 0.0
	for _, v := range x.Data {
		mean += v / float64(len(x.Data))
	}
	if want := math.Tanh(1) + 0.3; math.Abs(mean-want) > 0.15 {
		t.Errorf("mean of x | y=1 = %.3f, want %.3f ± 0.15", mean, want)
	}
	var res struct {
		RefSize  int `json:"ref_size"`
		Distance struct {
			POT, Log     float64
			LogConverged bool `json:"log_converged"`
		} `json:"distance"`
	}
	out := runOK(t, "toy", "eval", "--samples", s, "--case", "tanh", "--y", "1", "--reference", "exact", "--ref-size", "1500", "--json")
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(out, err)
	}
	if res.RefSize != 1500 || !(res.Distance.Log > 0 && res.Distance.Log < 0.2) || math.Abs(res.Distance.POT-res.Distance.Log) > 0.01 || !res.Distance.LogConverged {
		t.Errorf("eval: %+v", res)
	}
}

// The VP family trains from the CLI; its model records kappa, and sampling
// it draws near the Tanh conditional mean.
func TestToyTrainVPFamily(t *testing.T) {
	dir := t.TempDir()
	m := filepath.Join(dir, "m")
	runOK(t, "toy", "train", "--case", "tanh", "--process", "vpfamily", "--kappa", "2", "--epochs", "60", "--out", m, "--quiet")
	be, err := backend.Shared()
	if err != nil {
		t.Fatal(err)
	}
	mod, err := density.LoadModelOf(be, m)
	if err != nil {
		t.Fatal(err)
	}
	if c := mod.ProcessConfig; c.Process != "vpfamily" || c.Kappa != 2 {
		t.Errorf("recorded process %+v", c)
	}
	s := filepath.Join(dir, "s.npz")
	runOK(t, "toy", "sample", "--model", m, "--y", "1", "--n", "800", "--sampler", "heun", "--steps", "50", "--out", s)
	a, err := arrayio.ReadNPZ(s)
	if err != nil {
		t.Fatal(err)
	}
	mean := 0.0
	for _, v := range a["x"].Data {
		mean += v / float64(len(a["x"].Data))
	}
	if want := math.Tanh(1) + 0.3; math.Abs(mean-want) > 0.2 {
		t.Errorf("mean of x | y=1 = %.3f, want %.3f ± 0.2", mean, want)
	}
	// Resuming this folder with another kappa is refused, naming both.
	var out, errb bytes.Buffer
	if code := run([]string{"toy", "train", "--case", "tanh", "--process", "vpfamily", "--kappa", "3", "--epochs", "60", "--out", m, "--quiet"}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "kappa 2") || !strings.Contains(errb.String(), "kappa 3") {
		t.Errorf("resume with another kappa: exit %d, stderr %q", code, errb.String())
	}
}

func TestToyBenchBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"toy", "train", "--out", dir},                                          // no case
		{"toy", "train", "--case", "tanh", "--process", "xx", "--out", dir},     // bad process
		{"toy", "train", "--case", "tanh", "--preset", "huge", "--out", dir},    // bad preset
		{"toy", "sample", "--model", dir, "--out", filepath.Join(dir, "a.txt")}, // not .npz
		{"toy", "sample", "--model", dir, "--n", "0", "--out", filepath.Join(dir, "a.npz")},
		{"toy", "eval", "--samples", "x.npz", "--case", "spiral", "--reference", "exact"},
		{"toy", "table2", "--out", dir, "--epochs", "-3"},
		{"toy", "sample", "--model", filepath.Join(dir, "missing"), "--sampler", "dopri5", "--out", filepath.Join(dir, "a.npz")}, // unknown sampler before the model
		{"toy", "sample", "--model", dir, "--sampler", "em", "--alpha", "NaN", "--out", filepath.Join(dir, "a.npz")},
		{"toy", "train", "--case", "tanh", "--process", "vp", "--kappa", "2", "--out", dir}, // kappa without vpfamily
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("pdediff %s: exit %d, want 2 (stderr %q)", strings.Join(args, " "), code, errb.String())
		}
	}
	// A missing model folder is a runtime error (exit 1) that names it.
	var out, errb bytes.Buffer
	missing := filepath.Join(dir, "nope")
	if code := run([]string{"toy", "sample", "--model", missing, "--out", filepath.Join(dir, "a.npz")}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "nope") {
		t.Errorf("missing model: exit %d, stderr %q", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "a.npz")); err == nil {
		t.Error("a failed sample run wrote its output")
	}
}

// table2 writes the CSV with exactly the agreed columns and rows, and the JSON
// with all 12 cells (a very short training keeps the test fast).
func TestToyTable2Outputs(t *testing.T) {
	dir := t.TempDir()
	runOK(t, "toy", "table2", "--preset", "quick", "--epochs", "40", "--out", dir)
	b, err := os.ReadFile(filepath.Join(dir, "table2.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if lines[0] != "process,sampler,tanh,bimodal,spiral" || len(lines) != 5 {
		t.Fatalf("table2.csv:\n%s", b)
	}
	want := []string{"ve,ode", "ve,sde", "vp,ode", "vp,sde"}
	for i, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) != 5 || f[0]+","+f[1] != want[i] {
			t.Fatalf("row %d: %q", i+1, l)
		}
		for _, v := range f[2:] {
			if x, err := strconv.ParseFloat(v, 64); err != nil || !(x > 0) || x > 5 {
				t.Errorf("row %q: value %q", l, v)
			}
		}
	}
	var tab density.Table2
	raw, _ := os.ReadFile(filepath.Join(dir, "table2.json"))
	if err := json.Unmarshal(raw, &tab); err != nil {
		t.Fatal(err)
	}
	if len(tab.Cells) != 12 {
		t.Errorf("table2.json has %d cells, want 12", len(tab.Cells))
	}
	for k, c := range tab.Cells {
		if len(c.PerY) != 4 || c.PerY[0].NFE < 1 {
			t.Errorf("cell %s: %+v", k, c)
		}
	}
	// The CSV holds the JSON's cell means in the agreed places.
	for i, l := range lines[1:] {
		f := strings.Split(l, ",")
		for j, cas := range density.Table2Cases() {
			v, _ := strconv.ParseFloat(f[2+j], 64)
			if cell := tab.Cells[density.CellKey(f[0], f[1], cas)]; math.Abs(v-cell.Mean) > 5e-7 {
				t.Errorf("csv row %d %s = %v, json cell %s mean %v", i+1, cas, v, density.CellKey(f[0], f[1], cas), cell.Mean)
			}
		}
	}
	// Recompute the VE/ODE/bimodal cell independently of the table's loop:
	// load the VE model of the bimodal case, sample each y with the seed the
	// cell records, score against the band reference, average. A table with
	// swapped cells, models or samplers fails here.
	p, _ := density.PresetFor("quick")
	p.Epochs = 40
	be, err := backend.Shared()
	if err != nil {
		t.Fatal(err)
	}
	m, err := density.LoadModelOf(be, density.ModelDir(dir, toy.Bimodal, "ve"))
	if err != nil {
		t.Fatal(err)
	}
	cell := tab.Cells[density.CellKey("ve", "ode", "bimodal")]
	if cell.POTFailed > 0 {
		t.Fatalf("ve/ode/bimodal: POT underflowed at %d y values after 40 epochs", cell.POTFailed)
	}
	ys := tab.YValues["bimodal"]
	refs, err := toy.Reference(toy.Bimodal, ys, toy.ReferenceOptions{Size: p.RefSize, HalfWidth: p.HalfWidth}, experiment.SubSeed(1, "reference", "bimodal"))
	if err != nil {
		t.Fatal(err)
	}
	mean := 0.0
	for i, y := range ys {
		r, err := density.Sample(m, []float64{y}, p.NSamples, density.Table2Sampler("ode", p), cell.PerY[i].Seed, nil)
		if err != nil {
			t.Fatal(err)
		}
		d, err := density.Evaluate(r.X, refs[i], p.Reg)
		if err != nil {
			t.Fatal(err)
		}
		mean += d.POT / float64(len(ys))
	}
	if math.Abs(mean-cell.Mean) > 1e-12 {
		t.Errorf("VE/ODE/bimodal recomputed %.9f, table %.9f", mean, cell.Mean)
	}
	for _, other := range []string{"ve/sde/bimodal", "vp/ode/bimodal", "ve/ode/tanh"} {
		if tab.Cells[other].Mean == cell.Mean {
			t.Errorf("cell %s equals ve/ode/bimodal (%v): cells not distinct", other, cell.Mean)
		}
	}
}
