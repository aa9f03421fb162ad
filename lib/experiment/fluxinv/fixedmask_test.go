package fluxinv

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/datasets/flux"
)

func TestParseSensorList(t *testing.T) {
	for _, tc := range []struct {
		in  string
		off []int
		bad bool
	}{
		{"", nil, false},
		{"b3, t15", []int{2, 29}, false},
		{"B1,0,29", []int{0, 29}, false},
		{"b16", nil, true},
		{"t0", nil, true},
		{"30", nil, true},
		{"x3", nil, true},
	} {
		m, err := ParseSensorList(tc.in)
		if (err != nil) != tc.bad {
			t.Errorf("%q: err %v, want error %v", tc.in, err, tc.bad)
			continue
		}
		if tc.bad {
			continue
		}
		var off []int
		for s, v := range m {
			if v == 0 {
				off = append(off, s)
			}
		}
		if !slices.Equal(off, tc.off) {
			t.Errorf("%q: off %v, want %v", tc.in, off, tc.off)
		}
	}
	if _, err := ParseSensorList("b1,b2,b3,b4,b5,b6,b7,b8,b9,b10,b11,b12,b13,b14,b15,t1,t2,t3,t4,t5,t6,t7,t8,t9,t10,t11,t12,t13,t14,t15"); err == nil {
		t.Error("every sensor off: no error")
	}
	def := DefaultFixedMask()
	on := 0
	for _, v := range def {
		on += int(v)
	}
	if on != 20 || def[2] != 0 || def[17] != 0 || def[0] != 1 {
		t.Errorf("default fixed mask %v", def)
	}
	if l := SensorList(def); l != "b3,b6,b9,b12,b15,t3,t6,t9,t12,t15" {
		t.Errorf("SensorList(default) = %q", l)
	} else if back, err := ParseSensorList(l); err != nil || !slices.Equal(back, def) {
		t.Errorf("ParseSensorList(SensorList(default)) = %v, %v", back, err)
	}
}

// TestFixedMaskStudy runs the study on a tiny masked run: the fixed-mask
// data are the run's data (same fluxes, noise std, scaling) with every test
// case read through the one mask, both posteriors are of those cases, a
// rerun reuses every product, and a one-model of other data is refused.
func TestFixedMaskStudy(t *testing.T) {
	b := sharedBackend(t)
	p := tinyPreset()
	p.Problem = ProblemMasked
	p.Samplers = []string{"ode"}
	p.Processes = []string{"ve"}
	run := t.TempDir()
	if _, err := Run(context.Background(), b, p, 7, run, Options{NoFigures: true}); err != nil {
		t.Fatal(err)
	}
	oneDir := ModelDir(run, "ve", 0.2)
	mask, err := ParseSensorList("b2,b5,b9,t1,t14")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	opt := FixedMaskOptions{Level: 0.2, Process: "ve", Mask: mask, OneModel: oneDir}
	res, err := FixedMaskStudy(context.Background(), b, p, 7, out, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.On != 25 || len(res.Off) != 5 || res.Off[3] != "top sensor 1" {
		t.Errorf("on %d off %v", res.On, res.Off)
	}
	ds, err := flux.Load(DataDir(out, 0.2))
	if err != nil {
		t.Fatal(err)
	}
	orig, err := flux.Load(DataDir(run, 0.2))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Test.Q, orig.Test.Q) || !slices.Equal(ds.Test.ReadingsNoisy, orig.Test.ReadingsNoisy) || ds.Meta.NoiseStd != orig.Meta.NoiseStd {
		t.Fatal("the fixed-mask data are not the masked run's fluxes and readings")
	}
	fixed, err := LoadModel(b, ModelDir(out, "ve", 0.2))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fixed.Info.FixedMask, mask) || !fixed.Info.Masks {
		t.Errorf("fixed model info: masks %v, fixed mask %v", fixed.Info.Masks, fixed.Info.FixedMask)
	}
	for _, c := range []*CellResult{res.Fixed, res.One, res.Exact} {
		f, err := ReadPosteriorFile(filepath.Join(out, c.Posterior))
		if err != nil {
			t.Fatal(err)
		}
		if f.Post.K != p.Cases || f.Obs.Mask == nil {
			t.Fatalf("%s: %d cases, mask %v", c.Name, f.Post.K, f.Obs.Mask != nil)
		}
		for j := 0; j < f.Post.K; j++ {
			if !slices.Equal(f.Obs.Mask[j*D:(j+1)*D], mask) {
				t.Fatalf("%s case %d: mask %v, want the fixed mask", c.Name, j, f.Obs.Mask[j*D:(j+1)*D])
			}
		}
		for i, v := range f.Obs.Readings[:p.Cases*D] {
			if want := ds.Test.ReadingsNoisy[i]; mask[i%D] == 1 && v != want || mask[i%D] == 0 && !math.IsNaN(v) {
				t.Fatalf("%s: reading %d is %v, want %v (NaN if off)", c.Name, i, v, want)
			}
		}
	}
	for _, c := range []*CellResult{res.Fixed, res.One} {
		if c.Metrics.Reference == nil || !(c.Metrics.Reference.ErrorRatioOverall > 0) || c.Reference != res.Exact.Name {
			t.Errorf("%s: no comparison with the exact posterior", c.Name)
		}
	}
	// The fixed-mask model takes only its own mask (NaN readings mark it).
	y := append([]float64(nil), ds.Test.ReadingsNoisy[:D]...)
	if _, err := NewObservations(fixed.Info, y, nil); err == nil || !strings.Contains(err.Error(), "one fixed mask") {
		t.Errorf("all sensors on for a fixed-mask model: err %v", err)
	}
	for s, v := range mask {
		if v == 0 {
			y[s] = math.NaN()
		}
	}
	if obs, err := NewObservations(fixed.Info, y, nil); err != nil || !slices.Equal(obs.Mask, mask) {
		t.Errorf("NaN at the fixed mask's off sensors: err %v", err)
	}
	if res.Fixed.Model == res.One.Model {
		t.Error("both posteriors name the same model")
	}
	md, err := os.ReadFile(filepath.Join(out, FixedMaskFile("ve", 0.2)+".md"))
	if err != nil || !strings.Contains(string(md), "| model of this mask alone |") || !strings.Contains(string(md), "top sensor 14") {
		t.Errorf("fixed-mask.md: %v\n%s", err, md)
	}
	if _, err := os.Stat(filepath.Join(FiguresDir(out), FixedMaskFile("ve", 0.2)+".png")); err != nil {
		t.Error(err)
	}
	// A rerun reuses the model and both posteriors.
	before := mtime(t, filepath.Join(out, res.Fixed.Posterior))
	modelBefore := mtime(t, ModelDir(out, "ve", 0.2)+".stage.json")
	res2, err := FixedMaskStudy(context.Background(), b, p, 7, out, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !mtime(t, filepath.Join(out, res.Fixed.Posterior)).Equal(before) || !mtime(t, ModelDir(out, "ve", 0.2)+".stage.json").Equal(modelBefore) ||
		res2.One.Metrics.ErrorMean != res.One.Metrics.ErrorMean {
		t.Error("the rerun made its products again")
	}
	// A one-model of another seed's data, a fixed-mask model and bad masks are refused.
	for name, o := range map[string]FixedMaskOptions{
		"fixed model as one-model": {Level: 0.2, Process: "ve", Mask: mask, OneModel: ModelDir(out, "ve", 0.2)},
		"wrong level":              {Level: 0.05, Process: "ve", Mask: mask, OneModel: oneDir},
		"bad mask":                 {Level: 0.2, Process: "ve", Mask: mask[:29], OneModel: oneDir},
		"bad process":              {Level: 0.2, Process: "ode", Mask: mask, OneModel: oneDir},
	} {
		if _, err := FixedMaskStudy(context.Background(), b, p, 7, t.TempDir(), o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := FixedMaskStudy(context.Background(), b, p, 8, t.TempDir(), opt); err == nil || !strings.Contains(err.Error(), "other data") {
		t.Errorf("one-model of seed 7 with seed 8: err %v", err)
	}
}
