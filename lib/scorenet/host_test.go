package scorenet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// scoreBoth evaluates Score and ScoreRows (times ts, or t for every row) under
// the given engine.
func scoreBoth(t *testing.T, net *Net, engine string, tm float64, ts, x []float64, rows int, cond []float64) (a, b []float64) {
	t.Helper()
	t.Setenv(EngineEnv, engine)
	xd := net.Config().XDim
	a, b = make([]float64, rows*xd), make([]float64, rows*xd)
	if err := net.Score(tm, x, rows, cond, a); err != nil {
		t.Fatal(err)
	}
	if err := net.ScoreRows(ts, x, rows, cond, b); err != nil {
		t.Fatal(err)
	}
	return a, b
}

func maxRelDiff(a, b []float64) float64 {
	var worst float64
	for i := range a {
		worst = math.Max(worst, math.Abs(a[i]-b[i])/(1+math.Abs(b[i])))
	}
	return worst
}

// TestEnginesAgree checks the host engine (lib/hostmlp) against the backend's
// graph for both paper networks, both output parameterisations and batch sizes
// that do and do not fill the host engine's chunks.
func TestEnginesAgree(t *testing.T) {
	be := testBackend(t)
	for _, cfg := range []Config{
		{XDim: 1, YDim: 1},
		{XDim: 30, YDim: 30, MaskDim: 30, HiddenLayers: 4, Width: 256, Output: OutputNoise},
		{XDim: 3, Width: 20, HiddenLayers: 3}, // unconditional, width not a multiple of 4
	} {
		net, err := New(be, cfg, 11)
		if err != nil {
			t.Fatal(err)
		}
		net.SetStd(func(t float64) float64 { return 0.1 + t })
		for _, rows := range []int{1, 129, 1000} {
			t.Run(fmt.Sprintf("x%d_c%d_w%d/rows%d", cfg.XDim, cfg.CondDim(), cfg.Width, rows), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(rows), 2))
				x, cond := randSlice(rng, rows*cfg.XDim), randSlice(rng, rows*cfg.CondDim())
				ts := make([]float64, rows)
				for i := range ts {
					ts[i] = rng.Float64()
				}
				same := make([]float64, rows)
				for i := range same {
					same[i] = 0.37
				}
				ga, gb := scoreBoth(t, net, EngineGraph, 0.37, ts, x, rows, cond)
				ha, hb := scoreBoth(t, net, EngineHost, 0.37, ts, x, rows, cond)
				if d := maxRelDiff(ha, ga); d > 1e-5 {
					t.Errorf("Score: host and graph differ by %.3g (relative)", d)
				}
				if d := maxRelDiff(hb, gb); d > 1e-5 {
					t.Errorf("ScoreRows: host and graph differ by %.3g (relative)", d)
				}
				// Equal times: ScoreRows equals Score bit for bit on the host engine too.
				_, hs := scoreBoth(t, net, EngineHost, 0.37, same, x, rows, cond)
				for i := range hs {
					if hs[i] != ha[i] {
						t.Fatalf("host ScoreRows with equal times differs from Score at %d: %v vs %v", i, hs[i], ha[i])
					}
				}
			})
		}
	}
}

// TestHostEngineSeesNewWeights checks that replacing a variable (what a
// training step, Load or SetUseEMA does) is picked up by the host engine.
func TestHostEngineSeesNewWeights(t *testing.T) {
	t.Setenv(EngineEnv, EngineHost)
	net, err := New(testBackend(t), Config{XDim: 2, YDim: 1, Width: 16}, 3)
	if err != nil {
		t.Fatal(err)
	}
	x, cond := []float64{0.5, -1, 2, 0.25}, []float64{1, -1}
	before := make([]float64, 4)
	if err := net.Score(0.5, x, 2, cond, before); err != nil {
		t.Fatal(err)
	}
	vars, err := net.Vars(ParamScope)
	if err != nil {
		t.Fatal(err)
	}
	last := vars[len(vars)-1] // output bias [2]
	if err := last.SetValue(tensors.FromFlatDataAndDimensions([]float32{10, -10}, 2)); err != nil {
		t.Fatal(err)
	}
	after := make([]float64, 4)
	if err := net.Score(0.5, x, 2, cond, after); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EngineEnv, EngineGraph)
	graph := make([]float64, 4)
	if err := net.Score(0.5, x, 2, cond, graph); err != nil {
		t.Fatal(err)
	}
	if maxRelDiff(after, before) < 1 {
		t.Fatalf("host engine kept the old weights: %v then %v", before, after)
	}
	if d := maxRelDiff(after, graph); d > 1e-5 {
		t.Fatalf("after the change host %v, graph %v", after, graph)
	}
}

func TestEngineEnvInvalid(t *testing.T) {
	t.Setenv(EngineEnv, "gpu")
	net, err := New(testBackend(t), Config{XDim: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	err = net.Score(0.5, []float64{1}, 1, nil, make([]float64, 1))
	if err == nil || !strings.Contains(err.Error(), EngineEnv) {
		t.Fatalf("error %v, want one naming %s", err, EngineEnv)
	}
}
