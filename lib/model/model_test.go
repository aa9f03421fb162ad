package model

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/lib/backend"
	"github.com/pdediff/pdediff/lib/scorenet"
	"github.com/pdediff/pdediff/lib/sde"
	"github.com/pdediff/pdediff/lib/train"
)

// data returns n rows of a 2-D x, a 3-D y and a 3-D mask (cond = y then mask).
func data(n int, seed uint64) train.Data {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float64, 2*n)
	cond := make([]float64, 6*n)
	for i := range n {
		x[2*i], x[2*i+1] = rng.NormFloat64(), rng.NormFloat64()
		for j := range 3 {
			cond[6*i+j] = x[2*i] + 0.1*rng.NormFloat64()
			cond[6*i+3+j] = float64(rng.IntN(2))
		}
	}
	return train.Data{X: x, Cond: cond, N: n}
}

func spec(process string) Spec {
	cfg := sde.ToyConfig(process)
	return Spec{
		Process:  cfg,
		Net:      scorenet.Config{HiddenLayers: 1, Width: 16},
		Train:    train.Config{Epochs: 3, BatchSize: 100, Seed: 5},
		Data:     Data{Name: "synthetic", XDim: 2, YDim: 3, MaskDim: 3, Info: []byte(`{"noise":0.1}`)},
		InitSeed: 4,
	}
}

// Train, load back, resume: any x, y and mask dimensions; the loaded model
// has the recorded process and data and gives the same scores; a finished
// model is returned without further steps.
func TestTrainLoadResume(t *testing.T) {
	b, err := backend.Shared()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "m")
	d := data(400, 1)
	m, info, err := TrainOrResume(context.Background(), b, dir, spec("vp"), d, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Steps != 12 || info.Resumed || !(info.FinalLoss > 0) {
		t.Errorf("info %+v", info)
	}
	got, err := Load(b, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.ProcessConfig != spec("vp").Process || got.Process.Name() != "vp" {
		t.Errorf("process %+v", got.ProcessConfig)
	}
	if got.Data.Name != "synthetic" || got.Data.XDim != 2 || got.Data.YDim != 3 || got.Data.MaskDim != 3 || got.Data.Rows != 400 || got.Data.Fingerprint != Fingerprint(d.X, d.Cond) {
		t.Errorf("data %+v", got.Data)
	}
	cond := d.Cond[:6]
	x := d.X[:2]
	var s1, s2 [2]float64
	f1, _ := m.ScoreFunc(cond)
	f2, _ := got.ScoreFunc(cond)
	if err := f1(0.5, x, 1, 2, s1[:]); err != nil {
		t.Fatal(err)
	}
	if err := f2(0.5, x, 1, 2, s2[:]); err != nil {
		t.Fatal(err)
	}
	if s1 != s2 || math.IsNaN(s1[0]) {
		t.Errorf("scores before/after load: %v %v", s1, s2)
	}
	_, info2, err := TrainOrResume(context.Background(), b, dir, spec("vp"), d, nil)
	if err != nil || !info2.Resumed || info2.Steps != 12 || info2.FinalLoss != info.FinalLoss {
		t.Errorf("second call: %+v %v (first %+v)", info2, err, info)
	}
}

// A folder holding another process, network or data set is refused before
// training, with a message naming the difference; so are a regular file
// and a non-empty folder without a model.
func TestRefusals(t *testing.T) {
	b, err := backend.Shared()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	dir := filepath.Join(root, "m")
	d := data(200, 2)
	if _, _, err := TrainOrResume(context.Background(), b, dir, spec("vp"), d, nil); err != nil {
		t.Fatal(err)
	}
	otherNet := spec("vp")
	otherNet.Net.Width = 8
	otherInfo := spec("vp")
	otherInfo.Data.Info = []byte(`{"noise":0.2}`)
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	busy := filepath.Join(root, "busy")
	if err := os.MkdirAll(busy, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(busy, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		dir  string
		spec Spec
		data train.Data
		want string
	}{
		{"process", dir, spec("ve"), d, "process ve"},
		{"network", dir, otherNet, d, "holds a network"},
		{"rows", dir, spec("vp"), data(200, 3), "other data"},
		{"data settings", dir, otherInfo, d, "other data settings"},
		{"file", file, spec("vp"), d, "is a file"},
		{"busy folder", busy, spec("vp"), d, "holds no model"},
	} {
		_, _, err := TrainOrResume(context.Background(), b, c.dir, c.spec, c.data, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestFingerprint(t *testing.T) {
	a := Fingerprint([]float64{1, 2}, []float64{3})
	for _, c := range [][2][]float64{{{1, 2}, {3.0000001}}, {{1}, {2, 3}}, {{2, 1}, {3}}} {
		if Fingerprint(c[0], c[1]) == a {
			t.Errorf("fingerprint of %v equals that of [1 2] [3]", c)
		}
	}
	if Fingerprint([]float64{1, 2}, []float64{3}) != a {
		t.Error("fingerprint not deterministic")
	}
}

// dirSize is the total size of the regular files under dir.
func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// ExportWeights: the exported folder scores bit for bit like the original
// (raw and EMA weights, score and noise outputs), is smaller (no Adam
// moments), names no training folder, cannot be trained further, and is
// refused over an existing model.
func TestExportWeights(t *testing.T) {
	b, err := backend.Shared()
	if err != nil {
		t.Fatal(err)
	}
	d := data(400, 1)
	for _, c := range []struct {
		name   string
		ema    float64
		output string
	}{{"raw-score", 0, ""}, {"ema-noise", 0.9, scorenet.OutputNoise}} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			src, dst := filepath.Join(root, "m"), filepath.Join(root, "out", "w")
			sp := spec("ve")
			sp.Train.EMADecay, sp.Net.Output = c.ema, c.output
			fresh, _, err := TrainOrResume(context.Background(), b, src, sp, d, nil)
			if err != nil {
				t.Fatal(err)
			}
			// A freshly trained model samples with the weights its loaded folder does.
			if fresh.Net.UseEMA() != (c.ema > 0) {
				t.Errorf("freshly trained model: UseEMA %v with EMA decay %v", fresh.Net.UseEMA(), c.ema)
			}
			if err := ExportWeights(b, src, dst); err != nil {
				t.Fatal(err)
			}
			a, err := Load(b, src)
			if err != nil {
				t.Fatal(err)
			}
			w, err := Load(b, dst)
			if err != nil {
				t.Fatal(err)
			}
			if !w.Net.Meta().WeightsOnly || w.Net.UseEMA() || a.Net.UseEMA() != (c.ema > 0) || w.Data.Fingerprint != a.Data.Fingerprint {
				t.Fatalf("meta: weights only %v, EMA %v/%v, data %+v", w.Net.Meta().WeightsOnly, w.Net.UseEMA(), a.Net.UseEMA(), w.Data)
			}
			x, cond := d.X[:8], d.Cond[:24]
			s1, s2 := make([]float64, 8), make([]float64, 8)
			if err := a.Net.Score(0.3, x, 4, cond, s1); err != nil {
				t.Fatal(err)
			}
			if err := w.Net.Score(0.3, x, 4, cond, s2); err != nil {
				t.Fatal(err)
			}
			for i := range s1 {
				if math.Float64bits(s1[i]) != math.Float64bits(s2[i]) {
					t.Fatalf("score %d: exported %v, original %v", i, s2[i], s1[i])
				}
			}
			if ws, as := dirSize(t, dst), dirSize(t, src); !(ws < as/2) {
				t.Errorf("exported folder %d bytes, original %d: want less than half (no Adam moments, no loss history)", ws, as)
			}
			meta, _ := os.ReadFile(filepath.Join(dst, scorenet.MetaFile))
			if strings.Contains(string(meta), root) {
				t.Errorf("exported sidecar names the training folder %s", root)
			}
			if _, _, err := TrainOrResume(context.Background(), b, dst, sp, d, nil); err == nil || !strings.Contains(err.Error(), "weights only") {
				t.Errorf("training an exported folder: %v", err)
			}
			if err := ExportWeights(b, src, dst); err == nil || !strings.Contains(err.Error(), "already holds") {
				t.Errorf("export over a model: %v", err)
			}
		})
	}
}
