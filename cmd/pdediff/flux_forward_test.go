package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/physics"
)

func writeFlux(t *testing.T, dir string, a arrayio.Array) string {
	t.Helper()
	p := filepath.Join(dir, "q.npy")
	if err := arrayio.WriteNPY(p, a); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFluxForwardMatchesLibrary(t *testing.T) {
	dir := t.TempDir()
	q := make([]float64, 2*physics.NumSegments)
	for k := range q {
		q[k] = 1 + 0.1*float64(k%7)
	}
	for _, problem := range []string{physics.ProblemLinear, physics.ProblemNonlinear} {
		in := writeFlux(t, dir, arrayio.Matrix(2, physics.NumSegments, q))
		out := filepath.Join(dir, problem+".npy")
		var so, se bytes.Buffer
		code := run([]string{"flux", "forward", "--problem", problem, "--flux", in, "--out", out, "--nx", "34", "--ny", "8",
			"--cache", "-"}, &so, &se)
		if code != 0 {
			t.Fatalf("%s: exit %d, stderr %s", problem, code, se.String())
		}
		if problem == physics.ProblemNonlinear && !strings.Contains(se.String(), "newton: 2 solves") {
			t.Errorf("nonlinear: no Newton summary in stderr %q", se.String())
		}
		got, err := arrayio.ReadNPY(out)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Shape) != 2 || got.Shape[0] != 2 || got.Shape[1] != physics.NumSensors {
			t.Fatalf("%s: output shape %v, want (2,30)", problem, got.Shape)
		}
		cfg, _ := physics.DefaultConfig(problem)
		cfg.NX, cfg.NY = 34, 8
		for r := range 2 {
			sol, err := physics.Solve(cfg, q[r*30:(r+1)*30])
			if err != nil {
				t.Fatal(err)
			}
			want := sol.Sensors()
			for s := range physics.NumSensors {
				if v := got.Data[r*30+s]; math.Abs(v-want[s]) > 1e-8*math.Abs(want[s]) {
					t.Fatalf("%s row %d sensor %d: CLI %v, library %v", problem, r, s, v, want[s])
				}
			}
		}
	}
	// A (30,) vector is one row.
	in := writeFlux(t, dir, arrayio.Vector(q[:30]))
	out := filepath.Join(dir, "vec.npy")
	var so, se bytes.Buffer
	if code := run([]string{"flux", "forward", "--flux", in, "--out", out, "--nx", "34", "--ny", "8", "--cache", "-"}, &so, &se); code != 0 {
		t.Fatalf("vector input: exit %d, %s", code, se.String())
	}
	if a, err := arrayio.ReadNPY(out); err != nil || len(a.Shape) != 2 || a.Shape[0] != 1 {
		t.Fatalf("vector input: output %v, %v; want shape (1,30)", a.Shape, err)
	}
}

func TestFluxForwardBadInput(t *testing.T) {
	dir := t.TempDir()
	good := writeFlux(t, dir, arrayio.Matrix(1, 30, make([]float64, 30)))
	wrong := filepath.Join(dir, "wrong.npy")
	if err := arrayio.WriteNPY(wrong, arrayio.Matrix(2, 29, make([]float64, 58))); err != nil {
		t.Fatal(err)
	}
	nanPath := filepath.Join(dir, "nan.npy")
	// arrayio refuses to write NaN, so write a valid file and patch one value's bytes.
	if err := arrayio.WriteNPY(nanPath, arrayio.Vector(make([]float64, 30))); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(nanPath)
	copy(raw[len(raw)-8:], []byte{0, 0, 0, 0, 0, 0, 0xf8, 0x7f})
	if err := os.WriteFile(nanPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown problem", []string{"--problem", "heat", "--flux", good}, 2, "unknown problem"},
		{"zero nx", []string{"--nx", "0", "--flux", good}, 2, "--nx must be positive"},
		{"negative ny", []string{"--ny", "-4", "--flux", good}, 2, "--ny must be positive"},
		{"bad kappa", []string{"--kappa", "-1", "--flux", good}, 2, "kappa"},
		{"rate on linear", []string{"--rate", "3", "--flux", good}, 2, "nonlinear problem only"},
		{"missing flux", []string{}, 2, "--flux and --out are required"},
		{"wrong shape", []string{"--flux", wrong, "--nx", "17", "--ny", "4"}, 1, "want (n,30)"},
		{"nan", []string{"--flux", nanPath, "--nx", "17", "--ny", "4"}, 1, "finite"},
		{"missing file", []string{"--flux", filepath.Join(dir, "none.npy")}, 1, "none.npy"},
	} {
		out := filepath.Join(dir, "out-"+strings.ReplaceAll(tc.name, " ", "_")+".npy")
		var so, se bytes.Buffer
		args := append([]string{"flux", "forward", "--out", out, "--cache", "-"}, tc.args...)
		code := run(args, &so, &se)
		if code != tc.code || !strings.Contains(se.String(), tc.want) {
			t.Errorf("%s: exit %d (want %d), stderr %q (want %q)", tc.name, code, tc.code, se.String(), tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: output file written despite the error", tc.name)
		}
	}
}

func TestFluxConvergenceTable(t *testing.T) {
	var so, se bytes.Buffer
	code := run([]string{"flux", "convergence", "--problem", "linear", "--meshes", "17x4,34x8,68x16"}, &so, &se)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	lines := strings.Split(strings.TrimSpace(so.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "| 68x16 | 2176 |") || !strings.Contains(last, "| 0.000e+00 | 0.000e+00 |") {
		t.Errorf("reference row %q: want zero difference to itself", last)
	}
	if !strings.Contains(so.String(), "| 17x4 | 136 | 0.5 |") {
		t.Errorf("table lacks the 17x4 row:\n%s", so.String())
	}
	if code := run([]string{"flux", "convergence", "--meshes", "17x0"}, &so, &se); code != 2 {
		t.Errorf("bad --meshes: exit %d, want 2", code)
	}
}
