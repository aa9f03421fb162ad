package main

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/datasets/flux"
	"github.com/pdediff/pdediff/lib/physics"
)

func TestFluxDataLinearTinyMesh(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // physics caches the response matrix there
	dir := filepath.Join(t.TempDir(), "data")
	args := []string{"flux", "data", "--problem", "linear", "--nx", "34", "--ny", "8", "--noise", "0.1",
		"--n-train", "300", "--n-test", "40", "--seed", "3", "--out", dir, "--quiet"}
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	ds, err := flux.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.N != 300 || ds.Test.N != 40 || ds.Meta.Problem != "linear" || ds.Meta.Physics["nx"] != 34.0 || ds.Meta.Seed != 3 {
		t.Errorf("meta %+v", ds.Meta)
	}
	// Clean readings are the real linear model's readings of the stored flux.
	cfg, _ := fluxModelConfig("linear", 34, 8)
	model, err := physics.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, 30)
	for _, i := range []int{0, 17, 299} {
		if err := model.Readings(ds.Train.Q[i*30:(i+1)*30], want); err != nil {
			t.Fatal(err)
		}
		for j := range want {
			if math.Abs(want[j]-ds.Train.ReadingsClean[i*30+j]) > 1e-9*(1+math.Abs(want[j])) {
				t.Fatalf("sample %d sensor %d: clean reading %v, model %v", i, j, ds.Train.ReadingsClean[i*30+j], want[j])
			}
		}
	}
	// No masks: all sensors on; scaled readings span [−1, 1] per sensor on train.
	if slices.Min(ds.Train.Mask) != 1 || slices.Min(ds.Test.Mask) != 1 {
		t.Error("mask has off sensors without --masks")
	}
	if lo, hi := slices.Min(ds.Train.Readings), slices.Max(ds.Train.Readings); math.Abs(lo+1) > 1e-12 || math.Abs(hi-1) > 1e-12 {
		t.Errorf("train readings span [%v, %v]", lo, hi)
	}
	if math.Abs(ds.Meta.NoiseStd-0.1*ds.Meta.ReadingScale) > 1e-12*ds.Meta.NoiseStd || ds.Meta.NoiseStd <= 0 {
		t.Errorf("noise std %v, scale %v", ds.Meta.NoiseStd, ds.Meta.ReadingScale)
	}
	// Same seed → identical files' arrays.
	dir2 := filepath.Join(t.TempDir(), "again")
	args[len(args)-2] = dir2
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("rerun exit %d: %s", code, errb.String())
	}
	ds2, err := flux.Load(dir2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Train.Readings, ds2.Train.Readings) || !slices.Equal(ds.Test.Q, ds2.Test.Q) {
		t.Error("same seed, different data")
	}
}

// TestFluxDataNonlinearSolvers checks that the chord solver (the default)
// and Newton give the same nonlinear data to the Newton tolerance, and that
// the fluxes and noise are the same draws.
func TestFluxDataNonlinearSolvers(t *testing.T) {
	sets := map[string]*flux.Dataset{}
	for _, solver := range []string{"chord", "newton"} {
		dir := filepath.Join(t.TempDir(), solver)
		args := []string{"flux", "data", "--problem", "nonlinear", "--nx", "34", "--ny", "8", "--noise", "0.05",
			"--n-train", "12", "--n-test", "3", "--seed", "4", "--solver", solver, "--out", dir, "--quiet"}
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 0 {
			t.Fatalf("%s: exit %d: %s", solver, code, errb.String())
		}
		ds, err := flux.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		sets[solver] = ds
	}
	a, b := sets["chord"], sets["newton"]
	if !slices.Equal(a.Train.Q, b.Train.Q) || a.Meta.Problem != "nonlinear" {
		t.Fatal("the two solvers were given different fluxes, or the problem is not nonlinear")
	}
	worst := 0.0
	for i, v := range b.Train.ReadingsClean {
		worst = max(worst, math.Abs(a.Train.ReadingsClean[i]-v)/(1+math.Abs(v)))
	}
	if worst > 1e-6 {
		t.Errorf("chord and Newton readings differ by %.3g (relative), want ≤ 1e-6", worst)
	}
	t.Logf("chord vs Newton: largest relative difference %.3g", worst)
}

func TestFluxDataBadFlags(t *testing.T) {
	dir := t.TempDir()
	for _, bad := range [][]string{
		{"flux", "data", "--problem", "quadratic", "--out", dir},
		{"flux", "data", "--noise", "-1", "--out", dir},
		{"flux", "data", "--noise", "NaN", "--out", dir},
		{"flux", "data", "--mask-prob", "0", "--out", dir},
		{"flux", "data", "--prior", "flat", "--out", dir},
		{"flux", "data", "--n-train", "1", "--out", dir},
		{"flux", "data", "--nx", "-3", "--out", dir},
		{"flux", "data", "--problem", "nonlinear", "--solver", "picard", "--out", dir},
		{"flux", "data"},
	} {
		var out, errb bytes.Buffer
		if code := run(bad, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", bad, code, errb.String())
		}
	}
	if a, b := fluxPaperSizes("linear", false); a != 9000 || b != 1000 {
		t.Errorf("linear sizes %d/%d", a, b)
	}
	if a, b := fluxPaperSizes("linear", true); a != 36000 || b != 4000 {
		t.Errorf("masked sizes %d/%d", a, b)
	}
	if a, b := fluxPaperSizes("nonlinear", false); a != 36000 || b != 4000 {
		t.Errorf("nonlinear sizes %d/%d", a, b)
	}
}

func TestDataFiguresQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("renders five figures (~10 s)")
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	names := "fig2-joint-densities,fig5-setup,fig6-prior-draws,fig12-masked,fig15-nonlinear"
	var out, errb bytes.Buffer
	if code := run([]string{"figures", "--only", names, "--out", dir}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, n := range strings.Split(names, ",") {
		b, err := os.ReadFile(filepath.Join(dir, n+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("%s.png does not decode: %v", n, err)
		}
		if s, err := os.ReadFile(filepath.Join(dir, n+".svg")); err != nil || !bytes.Contains(s, []byte("<svg")) {
			t.Errorf("%s.svg missing or invalid", n)
		}
	}
}
