package main

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/lib/arrayio"
)

func writeNPY(t *testing.T, dir, name string, a arrayio.Array) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := arrayio.WriteNPY(p, a); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOTSinkhornJSON checks `pdediff ot sinkhorn --json` against POT 0.8.2
// values (lib/ot/testdata/golden.json, made by gen_golden.py).
func TestOTSinkhornJSON(t *testing.T) {
	dir := t.TempDir()
	doc := writeNPY(t, dir, "doc.npy", arrayio.Vector([]float64{0, 1}))
	docCol := writeNPY(t, dir, "doccol.npy", arrayio.Matrix(2, 1, []float64{0, 1}))
	gx := filepath.Join("..", "..", "lib", "ot", "testdata", "gamma_x.npy")
	gy := filepath.Join("..", "..", "lib", "ot", "testdata", "gamma_y.npy")
	cases := []struct {
		name      string
		args      []string
		value     float64
		iters     int
		converged bool
	}{
		{"pot doc example", []string{"--x", doc, "--y", docCol, "--reg", "1"}, 0.26894142136999516, 1, true},
		{"gamma capped", []string{"--x", gx, "--y", gy}, 0.018773547474405784, 1000, false},
		{"gamma pot converged", []string{"--x", gx, "--y", gy, "--max-iter", "100000"}, 0.018822827136034483, 4701, true},
		{"gamma log", []string{"--x", gx, "--y", gy, "--method", "log"}, 0.018822827136034483, 4701, true},
		{"gamma sqeuclidean", []string{"--x", gx, "--y", gy, "--cost", "sqeuclidean", "--method", "log", "--tol", "1e-9"}, 0.005611157990432856, 721, true},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		args := append([]string{"ot", "sinkhorn", "--json", "--quiet"}, c.args...)
		if code := run(args, &out, &errb); code != 0 {
			t.Fatalf("%s: exit %d, stderr %q", c.name, code, errb.String())
		}
		var got struct {
			Value      *float64 `json:"value"`
			Iterations *int     `json:"iterations"`
			Converged  *bool    `json:"converged"`
			Status     string   `json:"status"`
		}
		if err := json.Unmarshal(out.Bytes(), &got); err != nil || got.Value == nil || got.Iterations == nil || got.Converged == nil {
			t.Fatalf("%s: bad JSON %q (%v)", c.name, out.String(), err)
		}
		if want := map[bool]string{true: "converged", false: "max_iterations"}[c.converged]; got.Status != want {
			t.Errorf("%s: status %q, want %q", c.name, got.Status, want)
		}
		if math.Abs(*got.Value-c.value) > 1e-10*c.value || *got.Iterations != c.iters || *got.Converged != c.converged {
			t.Errorf("%s: got %s, want value %.17g iterations %d converged %v", c.name, out.String(), c.value, c.iters, c.converged)
		}
	}
}

// TestOTSinkhornText checks the readable line and the exit codes for bad use
// (2) and bad data (1).
func TestOTSinkhornText(t *testing.T) {
	dir := t.TempDir()
	x := writeNPY(t, dir, "x.npy", arrayio.Vector([]float64{0, 0.1}))
	y := writeNPY(t, dir, "y.npy", arrayio.Vector([]float64{10, 10.05}))
	y2 := writeNPY(t, dir, "y2.npy", arrayio.Matrix(2, 2, []float64{0, 1, 2, 3}))
	var out, errb bytes.Buffer
	// POT's kernel underflows: the line still shows POT's value, but the run fails (exit 1) with the reason.
	if code := run([]string{"ot", "sinkhorn", "--quiet", "--x", x, "--y", y}, &out, &errb); code != 1 ||
		!strings.Contains(out.String(), "value 0 after 0 iterations") || !strings.Contains(out.String(), "numerical errors") ||
		!strings.Contains(errb.String(), "underflowed") || !strings.Contains(errb.String(), "--method log") {
		t.Errorf("underflow text: exit %d, out %q, stderr %q", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run([]string{"ot", "sinkhorn", "--quiet", "--method", "log", "--x", x, "--y", y}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "value 9.975 after") || !strings.Contains(out.String(), ", converged") {
		t.Errorf("log text: exit %d, out %q", code, out.String())
	}
	bad := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--y", y}, 2, "--x and --y are required"},
		{[]string{"--x", x, "--y", y, "--cost", "cityblock"}, 2, "unknown --cost"},
		{[]string{"--x", x, "--y", y, "--method", "greenkhorn"}, 2, "unknown --method"},
		{[]string{"--x", x, "--y", y, "--reg", "0"}, 2, "--reg must be"},
		{[]string{"--x", x, "--y", y, "--reg", "NaN"}, 2, "--reg must be"},
		{[]string{"--x", x, "--y", y, "--max-iter", "-1"}, 2, "--max-iter"},
		{[]string{"--x", x, "--y", y, "extra"}, 2, "unexpected arguments"},
		{[]string{"--x", x, "--y", y, "--bogus"}, 2, "bogus"},
		{[]string{"--x", filepath.Join(dir, "missing.npy"), "--y", y}, 1, "missing.npy"},
		{[]string{"--x", x, "--y", y2}, 1, "dimension mismatch"},
	}
	for _, b := range bad {
		out.Reset()
		errb.Reset()
		code := run(append([]string{"ot", "sinkhorn", "--quiet"}, b.args...), &out, &errb)
		if code != b.code || !strings.Contains(errb.String(), b.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", b.args, code, b.code, errb.String(), b.want)
		}
	}
}

// TestOTSinkhornFailureStatus: underflow and non-finite runs exit 1 and their
// JSON carries the status instead of passing 0 off as a distance.
func TestOTSinkhornFailureStatus(t *testing.T) {
	dir := t.TempDir()
	x := writeNPY(t, dir, "x.npy", arrayio.Vector([]float64{0, 0.1, 0.5}))
	y := writeNPY(t, dir, "y.npy", arrayio.Vector([]float64{0.05, 0.2}))
	big := writeNPY(t, dir, "big.npy", arrayio.Vector([]float64{1e200, -1e200}))
	for _, c := range []struct {
		args   []string
		status string
	}{
		{[]string{"--x", x, "--y", y, "--reg", "1e-300"}, "underflow"},
		{[]string{"--x", big, "--y", y}, "underflow"},
		{[]string{"--x", big, "--y", y, "--dense"}, "non_finite"},
		{[]string{"--x", big, "--y", y, "--method", "log", "--dense"}, "underflow"},
		{[]string{"--x", x, "--y", y, "--method", "log", "--reg", "1e-300"}, "underflow"},
	} {
		var out, errb bytes.Buffer
		code := run(append([]string{"ot", "sinkhorn", "--json", "--quiet"}, c.args...), &out, &errb)
		var got struct {
			Status string `json:"status"`
			Error  string `json:"error"`
		}
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("%v: bad JSON %q", c.args, out.String())
		}
		if code != 1 || got.Status != c.status || got.Error == "" || !strings.Contains(errb.String(), "error: ot:") {
			t.Errorf("%v: exit %d, JSON %s, stderr %q; want exit 1 and status %q", c.args, code, out.String(), errb.String(), c.status)
		}
	}
}
