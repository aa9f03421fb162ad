package nbshow

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/lib/experiment"
	"github.com/pdediff/pdediff/lib/plots"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// failures records check failures instead of panicking, for one test.
func failures(t *testing.T) *[]string {
	t.Helper()
	var got []string
	old := fail
	fail = func(msg string) { got = append(got, msg) }
	t.Cleanup(func() { fail = old })
	return &got
}

func TestChecks(t *testing.T) {
	got := failures(t)
	Check("abs ok", 1+1e-9, 1, 1e-6)
	CheckRel("rel ok", 101, 100, 0.02)
	CheckBelow("below ok", 1e-4, 1e-3)
	CheckAbove("above ok", 3, 2)
	CheckIn("in ok", 4.02, 3.5, 4.5)
	CheckTrue("true ok", true, "it holds")
	if len(*got) != 0 {
		t.Fatalf("passing checks failed: %q", *got)
	}
	Check("abs bad", 1.1, 1, 1e-6)
	Check("abs NaN", math.NaN(), 1, 1)
	CheckRel("rel bad", 110, 100, 0.02)
	CheckBelow("below bad", 1e-2, 1e-3)
	CheckBelow("below NaN", math.NaN(), 1e-3)
	CheckAbove("above bad", 1, 2)
	CheckIn("in bad", 5, 3.5, 4.5)
	CheckIn("in NaN", math.NaN(), 3.5, 4.5)
	CheckTrue("true bad", false, "it holds")
	want := []string{"abs bad", "abs NaN", "rel bad", "below bad", "below NaN", "above bad", "in bad", "in NaN", "true bad"}
	if len(*got) != len(want) {
		t.Fatalf("got %d failures %q, want %d", len(*got), *got, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix((*got)[i], "check "+w+":") || !strings.HasSuffix((*got)[i], " FAILED") {
			t.Errorf("failure %d = %q, want it to start with %q and end with FAILED", i, (*got)[i], "check "+w+":")
		}
	}
}

func TestCheckPanicsByDefault(t *testing.T) {
	defer func() {
		r := recover()
		if s, ok := r.(string); !ok || !strings.Contains(s, "check x: |got-want| = 1 > 0.1") {
			t.Errorf("panic value %v, want the check line", r)
		}
	}()
	Check("x", 2, 1, 0.1)
}

func TestGet(t *testing.T) {
	if Get(3, nil) != 3 {
		t.Error("Get(3, nil) != 3")
	}
	a, b := Get2("a", 2, nil)
	if a != "a" || b != 2 {
		t.Error("Get2 lost its values")
	}
	defer func() {
		if recover() == nil {
			t.Error("Get(v, err) did not panic")
		}
	}()
	Get(0, errTest{})
}

func TestNumbers(t *testing.T) {
	x := Linspace(0, 1, 5)
	if len(x) != 5 || x[0] != 0 || x[4] != 1 || x[2] != 0.5 {
		t.Errorf("Linspace(0, 1, 5) = %v", x)
	}
	if d := MaxAbsDiff([]float64{1, 2}, []float64{1.5, 1}); d != 1 {
		t.Errorf("MaxAbsDiff = %v, want 1", d)
	}
	if m := MaxAbs([]float64{-3, 2}); m != 3 {
		t.Errorf("MaxAbs = %v, want 3", m)
	}
	m, s := MeanStd([]float64{1, 2, 3})
	if m != 2 || s != 1 {
		t.Errorf("MeanStd = %v, %v, want 2, 1", m, s)
	}
	xs := Linspace(0, 2, 201)
	ys := make([]float64, len(xs))
	for i, v := range xs {
		ys[i] = v
	}
	if v := Trapezoid(xs, ys); math.Abs(v-2) > 1e-12 {
		t.Errorf("Trapezoid of x on [0, 2] = %v, want 2", v)
	}
	for name, f := range map[string]func(){
		"Linspace n=1":   func() { Linspace(0, 1, 1) },
		"MaxAbsDiff len": func() { MaxAbsDiff([]float64{1}, nil) },
		"MeanStd one":    func() { MeanStd([]float64{1}) },
		"Trapezoid len":  func() { Trapezoid([]float64{1}, []float64{1}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}

func TestPresetName(t *testing.T) {
	t.Setenv(PresetEnvVar, "")
	if PresetName() != experiment.Quick {
		t.Error("unset preset is not quick")
	}
	t.Setenv(PresetEnvVar, "paper")
	if PresetName() != experiment.Paper {
		t.Error("paper preset not read")
	}
	if e := Env(7, "out"); e.Preset != experiment.Paper || e.Seed != 7 || e.Out != "out" {
		t.Errorf("Env = %+v", e)
	}
	t.Setenv(PresetEnvVar, "huge")
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "quick or paper") {
			t.Errorf("unknown preset: panic %v, want one naming quick or paper", r)
		}
	}()
	PresetName()
}

func TestRepoRoot(t *testing.T) {
	t.Setenv("GONB_DIR", "")
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "kernel", "nbshow", "check.go")); err != nil {
		t.Errorf("RepoRoot %s does not hold kernel/nbshow: %v", root, err)
	}
	t.Setenv("GONB_DIR", filepath.Join(root, "notebooks"))
	if got := RepoPath("docs/theory.md"); got != filepath.Join(root, "docs", "theory.md") {
		t.Errorf("RepoPath = %s", got)
	}
	t.Setenv("GONB_DIR", t.TempDir())
	if _, err := RepoRoot(); err == nil {
		t.Error("RepoRoot found a repository above a temporary folder")
	}
}

func TestShowPNGFileAndMarkdown(t *testing.T) {
	pngs, _ := capture(t)
	var mds []string
	old := displayMarkdown
	displayMarkdown = func(s string) { mds = append(mds, s) }
	t.Cleanup(func() { displayMarkdown = old })
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	fig, err := Lines("t", "x", "y", Series{X: []float64{0, 1}, Y: []float64{0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := plotsPNG(fig)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "f.png")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ShowPNGFile(p); err != nil || len(*pngs) != 1 {
		t.Errorf("ShowPNGFile: %v, %d PNGs shown", err, len(*pngs))
	}
	if err := ShowPNGFile(filepath.Join(root, "go.mod")); err == nil || !strings.Contains(err.Error(), "not a PNG") {
		t.Errorf("ShowPNGFile(go.mod) = %v, want not a PNG", err)
	}
	if err := ShowPNGFile(filepath.Join(root, "no-such.png")); err == nil {
		t.Error("ShowPNGFile of a missing file did not fail")
	}
	Markdown("| a |\n|---|\n| 1 |")
	if len(mds) != 1 {
		t.Errorf("Markdown displayed %d times", len(mds))
	}
	if err := ShowPlot(experiment.Plot{Fig: fig, Width: 2 * 72, Height: 72}); err != nil || len(*pngs) != 2 {
		t.Errorf("ShowPlot: %v, %d PNGs shown", err, len(*pngs))
	}
}

func plotsPNG(f *plot.Plot) ([]byte, error) { return plots.PNG(f, vg.Inch, vg.Inch) }
