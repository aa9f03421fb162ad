package density

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/datasets/toy"
	"github.com/pdediff/pdediff/lib/backend"
	"github.com/pdediff/pdediff/lib/sample"
)

func meanStd(v []float64) (m, s float64) {
	for _, x := range v {
		m += x
	}
	m /= float64(len(v))
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return m, math.Sqrt(s / float64(len(v)-1))
}

// The metric separates a correct conditional from a shifted one: the exact
// conditional sampler is close to the band reference, a 0.5 shift is ~0.5 away
// (Euclidean cost: W1 of a shift is the shift).
func TestEvaluateSeparatesGoodFromShifted(t *testing.T) {
	refs, err := toy.Reference(toy.Tanh, []float64{1}, toy.ReferenceOptions{Size: 60000}, 3)
	if err != nil {
		t.Fatal(err)
	}
	exact, err := toy.ExactConditional(toy.Tanh, 1, 1500, 4)
	if err != nil {
		t.Fatal(err)
	}
	good, err := Evaluate(exact, refs[0], 0.01)
	if err != nil {
		t.Fatal(err)
	}
	shifted := make([]float64, len(exact))
	for i, v := range exact {
		shifted[i] = v + 0.5
	}
	bad, err := Evaluate(shifted, refs[0], 0.01)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("good %+v bad %+v", good, bad)
	if good.Log > 0.06 {
		t.Errorf("exact conditional vs band: %.4f, want < 0.06", good.Log)
	}
	if math.Abs(bad.Log-good.Log-0.5) > 0.08 {
		t.Errorf("shift by 0.5 raised the distance from %.4f to %.4f, want about +0.5", good.Log, bad.Log)
	}
	if !good.LogConverged {
		t.Error("log-domain Sinkhorn did not converge")
	}
}

// A short training run learns the Tanh conditional well enough that both
// samplers put x | y = 1 near its true mean tanh(1) + 0.3 and spread 0.3.
func TestTrainAndSampleTanh(t *testing.T) {
	b, err := backend.Shared()
	if err != nil {
		t.Fatal(err)
	}
	p, _ := PresetFor("quick")
	p.NTrain, p.Epochs, p.BatchSize, p.Width = 4000, 120, 500, 64
	dir := filepath.Join(t.TempDir(), "m")
	vp, _ := ProcessConfig("vp", 0, "")
	m, info, err := TrainModel(context.Background(), b, toy.Tanh, vp, p, 7, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Steps != int64(p.Epochs*(p.NTrain/p.BatchSize)) || info.Resumed {
		t.Errorf("training info %+v", info)
	}
	want := math.Tanh(1) + 0.3
	for i, s := range []sample.Spec{{Name: "ode", Rtol: 1e-4, Atol: 1e-4}, {Name: "sde", Steps: 200}} {
		r, err := Sample(m, []float64{1}, 2000, s, uint64(i+1), nil)
		if err != nil {
			t.Fatal(err)
		}
		mu, sd := meanStd(r.X)
		t.Logf("%s: mean %.3f std %.3f NFE %d (%.2fs)", s.Name, mu, sd, r.NFE, r.Seconds)
		if math.Abs(mu-want) > 0.12 || math.Abs(sd-0.3) > 0.12 {
			t.Errorf("%s: x|y=1 mean %.3f std %.3f, want %.3f and 0.3", s.Name, mu, sd, want)
		}
		if r.NFE < 1 {
			t.Errorf("%s: NFE %d", s.Name, r.NFE)
		}
	}
	// Accuracy vs NFE: on the same prior draws, each solver's error to the
	// tight-tolerance solution shrinks with more steps, and at equal steps the
	// higher-order solvers are more accurate (first, second, fourth order).
	p2 := p
	p2.NSamples, p2.NFESteps, p2.NFETols = 400, []int{10, 40}, []float64{1e-3, 1e-6}
	ref, _ := toy.ExactConditional(toy.Tanh, 1, 400, 5)
	pts, err := NFEStudy(m, []float64{1}, ref, p2, 9)
	if err != nil {
		t.Fatal(err)
	}
	rms := map[string]float64{}
	for _, pt := range pts {
		rms[fmt.Sprintf("%s/%d/%g", pt.Sampler, pt.Steps, pt.Tol)] = pt.RMSToRef
		if want := map[string]int{"euler": 1, "heun": 2, "rk4": 4, "heun-edm": 2, "dpmpp2m": 1}[pt.Sampler]; want > 0 && pt.NFE != want*pt.Steps {
			t.Errorf("%s with %d steps used %d NFE, want %d", pt.Sampler, pt.Steps, pt.NFE, want*pt.Steps)
		}
	}
	t.Logf("NFE study RMS errors: %v", rms)
	for _, s := range []string{"euler", "heun", "rk4"} {
		if !(rms[s+"/40/0"] < rms[s+"/10/0"]/3) {
			t.Errorf("%s: error %.3g at 40 steps not well below %.3g at 10", s, rms[s+"/40/0"], rms[s+"/10/0"])
		}
	}
	if !(rms["rk4/40/0"] < rms["heun/40/0"] && rms["heun/40/0"] < rms["euler/40/0"]) {
		t.Errorf("at 40 steps want rk4 < heun < euler, got %v", rms)
	}
	if !(rms["ode/0/1e-06"] < rms["ode/0/0.001"]) {
		t.Errorf("dopri5 error did not shrink with the tolerance: %v", rms)
	}
	// A second call finds the finished model and does not train again.
	_, info2, err := TrainModel(context.Background(), b, toy.Tanh, vp, p, 7, dir, nil)
	if err != nil || !info2.Resumed || info2.Steps != info.Steps {
		t.Errorf("reuse: %+v %v", info2, err)
	}
	// Another process, another architecture or other data in the same folder
	// are refused before any training, naming the difference.
	ve, _ := ProcessConfig("ve", 0, "")
	if _, _, err := TrainModel(context.Background(), b, toy.Tanh, ve, p, 7, dir, nil); err == nil || !strings.Contains(err.Error(), "process ve") {
		t.Errorf("process mismatch: %v", err)
	}
	if _, _, err := TrainModel(context.Background(), b, toy.Bimodal, vp, p, 7, dir, nil); err == nil || !strings.Contains(err.Error(), "other data") {
		t.Errorf("data mismatch: %v", err)
	}
	p.Width = 32
	if _, _, err := TrainModel(context.Background(), b, toy.Tanh, vp, p, 7, dir, nil); err == nil || !strings.Contains(err.Error(), "holds a network") {
		t.Errorf("architecture mismatch: %v", err)
	}
	if _, err := Sample(m, []float64{1}, 10, sample.Spec{Name: "bogus"}, 1, nil); err == nil {
		t.Error("unknown sampler accepted")
	}
	if _, err := Sample(m, []float64{1, 2}, 10, sample.Spec{Name: "ode"}, 1, nil); err == nil {
		t.Error("y of the wrong dimension accepted")
	}
}

func TestWriteTable2(t *testing.T) {
	cells := map[string]*Cell{}
	v := 0.0
	for _, p := range Table2Processes() {
		for _, s := range Table2Samplers() {
			for _, c := range Table2Cases() {
				v += 0.001
				cells[CellKey(p, s, c)] = &Cell{Mean: v, MeanLog: v / 2}
			}
		}
	}
	dir := t.TempDir()
	if _, err := writeTable2(dir, cells); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "table2.csv"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if lines[0] != "process,sampler,tanh,bimodal,spiral" || len(lines) != 5 || lines[1] != "ve,ode,0.001000,0.002000,0.003000" || lines[4] != "vp,sde,0.010000,0.011000,0.012000" {
		t.Errorf("table2.csv:\n%s", b)
	}
	delete(cells, CellKey("vp", "sde", "spiral"))
	if _, err := writeTable2(dir, cells); err == nil {
		t.Error("missing cell accepted")
	}
	_ = io.Discard
}

// Samples far from the reference make POT's kernel underflow: the distance
// records the status and is not a value; the log-domain one still is, and
// the tables print "underflow" for the cell.
func TestEvaluateUnderflowIsAStatus(t *testing.T) {
	ref, _ := toy.ExactConditional(toy.Tanh, 1, 500, 4)
	far := make([]float64, len(ref))
	for i, v := range ref {
		far[i] = v + 20
	}
	d, err := Evaluate(far, ref, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	if d.POTValid() || d.POTStatus != "underflow" || d.POT != 0 {
		t.Errorf("far samples: %+v", d)
	}
	if !d.LogConverged || math.Abs(d.Log-20) > 0.5 {
		t.Errorf("log-domain distance %v (converged %v), want about 20", d.Log, d.LogConverged)
	}
	cells := map[string]*Cell{}
	for _, p := range Table2Processes() {
		for _, s := range Table2Samplers() {
			for _, c := range Table2Cases() {
				cells[CellKey(p, s, c)] = &Cell{Mean: 0.05, MeanLog: 0.05}
			}
		}
	}
	cells[CellKey("vp", "sde", "tanh")].POTFailed = 2
	dir := t.TempDir()
	if _, err := writeTable2(dir, cells); err != nil {
		t.Fatal(err)
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "table2.csv"))
	md, _ := os.ReadFile(filepath.Join(dir, "table2.md"))
	if !strings.Contains(string(csv), "vp,sde,underflow,0.050000,0.050000") || !strings.Contains(string(md), "underflow (2 y)") {
		t.Errorf("tables do not flag the failed cell:\n%s\n%s", csv, md)
	}
}
