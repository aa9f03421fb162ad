package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/physics"
)

// TestAbsurdSizesRefused: sizes that would end in "fatal error: runtime: out
// of memory" are refused before any allocation with the estimate in human
// units and the flag to change (exit 2).
func TestAbsurdSizesRefused(t *testing.T) {
	t.Setenv(arrayio.MemoryLimitEnv, "256MiB")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	q := writeNPY(t, dir, "q.npy", arrayio.Matrix(1, 30, make([]float64, 30)))
	pts := make([]float64, 2*6000)
	px := writeNPY(t, dir, "px.npy", arrayio.Matrix(6000, 2, pts))
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"toy", "data", "--case", "tanh", "--n", "1e12", "--out", filepath.Join(dir, "a.npz")}, []string{"TiB", "lower --n"}},
		{[]string{"flux", "data", "--n-train", "1e11", "--out", filepath.Join(dir, "fd"), "--quiet"}, []string{"TiB", "--n-train"}},
		{[]string{"flux", "forward", "--nx", "100000", "--ny", "100000", "--flux", q, "--out", filepath.Join(dir, "c.npy")}, []string{"TiB", "--nx/--ny"}},
		{[]string{"flux", "convergence", "--meshes", "85x20,100000x100000"}, []string{"100000x100000", "TiB", "--meshes"}},
		{[]string{"ot", "sinkhorn", "--quiet", "--x", px, "--y", px}, []string{"MiB", "smaller sample sets"}},
	} {
		var out, errb bytes.Buffer
		code := run(c.args, &out, &errb)
		msg := errb.String()
		ok := code == 2 && strings.Contains(msg, "needs about") && strings.Contains(msg, "is available")
		for _, w := range c.want {
			ok = ok && strings.Contains(msg, w)
		}
		if !ok {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 with the estimate and %q", c.args, code, msg, c.want)
		}
	}
	if err := checkMemory("x", 1e30, "lower --x"); !errors.Is(err, errUsage) || !errors.Is(err, arrayio.ErrNotEnoughMemory) {
		t.Errorf("checkMemory error %v does not wrap errUsage and ErrNotEnoughMemory", err)
	}
}

// TestOutputCheckedBeforeWork: a bad output location is refused before any
// work (exit 2, the flag named), not when the first file is saved.
func TestOutputCheckedBeforeWork(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	os.WriteFile(file, []byte("x"), 0o644)
	q := writeNPY(t, dir, "q.npy", arrayio.Matrix(1, 30, make([]float64, 30)))
	foreign := filepath.Join(dir, "used")
	os.MkdirAll(foreign, 0o755)
	os.WriteFile(filepath.Join(foreign, "notes.txt"), nil, 0o644)
	os.MkdirAll(filepath.Join(dir, "d.npz"), 0o755)
	os.MkdirAll(filepath.Join(dir, "s.json"), 0o755)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"flux", "data", "--n-train", "100", "--out", file, "--quiet"}, "--out: " + file + " is an existing file, not a folder"},
		{[]string{"flux", "data", "--n-train", "100", "--out", filepath.Join(file, "sub"), "--quiet"}, "not a folder"},
		{[]string{"flux", "data", "--n-train", "100", "--out", foreign, "--quiet"}, "notes.txt"},
		{[]string{"flux", "forward", "--flux", q, "--out", dir}, "is an existing folder, not a file"},
		{[]string{"toy", "data", "--case", "tanh", "--out", filepath.Join(dir, "d.npz")}, "is an existing folder, not a file"},
		{[]string{"toy", "data", "--case", "tanh", "--out", filepath.Join(dir, "s.npz")}, "sidecar"},
		{[]string{"toy", "data", "--case", "tanh", "--out", filepath.Join(file, "t.npz")}, "not a folder"},
	} {
		var out, errb bytes.Buffer
		code := run(c.args, &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), c.want) || strings.Contains(errb.String(), "building") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 before any work, with %q", c.args, code, errb.String(), c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "s.npz")); err == nil {
		t.Error("toy data wrote its .npz although the sidecar location is a folder")
	}
	if err := checkOutDir("--out", ""); err == nil || !strings.Contains(err.Error(), "--out is required") {
		t.Errorf("empty: %v", err)
	}
}

func TestPhysicsModelBytes(t *testing.T) {
	lin, _ := physics.DefaultConfig(physics.ProblemLinear)
	non, _ := physics.DefaultConfig(physics.ProblemNonlinear)
	// The defaults are small (a few MB); a 100000² mesh is terabytes.
	if b := physicsModelBytes(lin, 1); b < 1e6 || b > 1e8 {
		t.Errorf("linear default %v", b)
	}
	if b := physicsModelBytes(non, 16); b < 1e7 || b > 1e9 {
		t.Errorf("nonlinear default, 16 workers: %v", b)
	}
	lin.NX, lin.NY = 100000, 100000
	if b := physicsModelBytes(lin, 1); b < 1e12 {
		t.Errorf("huge mesh %v", b)
	}
}
