package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunUnknownAndHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"nonsense"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "unknown command") {
		t.Errorf("unknown command: code %d, stderr %q", code, errb.String())
	}
	out.Reset()
	if code := run([]string{"help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "Commands:") {
		t.Errorf("help: code %d, out %q", code, out.String())
	}
}

// TestIntFlagsExponentNotation: integer flags accept whole numbers in
// exponent notation; fractions and out-of-range values are refused clearly.
func TestIntFlagsExponentNotation(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"toy", "data", "--case", "tanh", "--n", "2e2", "--seed=1e1", "--out", dir + "/a.npz"}, &out, &errb); code != 0 {
		t.Fatalf("--n 2e2: exit %d, %s", code, errb.String())
	}
	if code := run([]string{"toy", "data", "--case", "tanh", "-n=2.5e1", "--out", dir + "/b.npz"}, &out, &errb); code != 0 {
		t.Fatalf("-n=2.5e1: exit %d, %s", code, errb.String())
	}
	for _, c := range []struct{ arg, want string }{
		{"1.5", `--n: "1.5" is not a whole number`},
		{"1e30", "--n: 1e30 is out of range"},
		{"NaN", "invalid value"},
		{"ten", "invalid value"},
	} {
		errb.Reset()
		code := run([]string{"toy", "data", "--case", "tanh", "--n", c.arg, "--out", dir + "/c.npz"}, &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("--n %s: exit %d, stderr %q, want 2 and %q", c.arg, code, errb.String(), c.want)
		}
	}
	fs := newFlagSet("t", "t", &errb)
	fs.Int("n", 0, "")
	fs.Uint64("seed", 0, "")
	fs.Bool("quiet", false, "")
	fs.Float64("reg", 0, "")
	got, err := normalizeIntArgs(fs, []string{"--quiet", "--n", "1e3", "-seed=4e0", "--reg", "1e-3", "--", "--n", "1e3"})
	want := []string{"--quiet", "--n", "1000", "-seed=4", "--reg", "1e-3", "--", "--n", "1e3"}
	if err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("normalizeIntArgs: %v %v, want %v", got, err, want)
	}
	if _, err := normalizeIntArgs(fs, []string{"--seed", "-1e3"}); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("negative uint: %v", err)
	}
}
