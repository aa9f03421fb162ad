package main

import (
	"strings"
	"testing"
)

// TestRenderRatios checks the table's speed ratios: higher-is-better values
// divide pdediff by PyTorch, times divide PyTorch by pdediff, per repetition.
func TestRenderRatios(t *testing.T) {
	rows := []*row{
		{what: "train", unit: "steps/s", higherWins: true, torch: []float64{40, 50}, ours: []float64{60, 100}},
		{what: "forward", unit: "ms", torch: []float64{90, 80}, ours: []float64{30, 40}},
	}
	out := render(rows, 2, 2, "1.13")
	for _, want := range []string{
		"| train | steps/s | 40–50 | 60–100 | **1.5–2** |",
		"| forward | ms | 80–90 | 30–40 | **2–3** |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, tc := range []struct {
		tasks []string
		reps  int
		want  string
	}{
		{[]string{"train", "gpu"}, 1, `unknown task "gpu"`},
		{[]string{"train"}, 0, "-reps must be ≥ 1"},
	} {
		err := run(tc.reps, tc.tasks, 2, "/bin/false", "", 10, 10, 200, "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.tasks, err, tc.want)
		}
	}
	// A missing peer is reported as such (the command exits with status 2).
	err := run(1, []string{"forward"}, 2, "/bin/false", "", 10, 10, 200, "")
	if _, ok := err.(peerMissing); !ok {
		t.Errorf("missing python: error %v, want peerMissing", err)
	}
}
