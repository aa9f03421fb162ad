package train_test

import (
	"context"
	"fmt"
	"math"
	"os"

	"github.com/pdediff/pdediff/lib/backend"
	"github.com/pdediff/pdediff/lib/scorenet"
	"github.com/pdediff/pdediff/lib/sde"
	"github.com/pdediff/pdediff/lib/train"
)

// constVP is a VP process with constant β = 1 (m = e^(−t/2), s² = 1 − e^(−t)).
type constVP struct{}

func (constVP) Name() string           { return "vp-const" }
func (constVP) T() float64             { return 1 }
func (constVP) Mean(t float64) float64 { return math.Exp(-t / 2) }
func (constVP) Std(t float64) float64  { return math.Sqrt(-math.Expm1(-t)) }
func (constVP) Beta(float64) float64   { return 1 }
func (constVP) G2(float64) float64     { return 1 }
func (constVP) PriorStd() float64      { return 1 }

var _ sde.Process = constVP{}

// Example trains a conditional score network, saves it, and resumes it later.
func Example() {
	be, err := backend.New() // GOMLX_BACKEND, default "go"
	if err != nil {
		panic(err)
	}
	// Pairs (x, y) with x = 2y (+ small noise would be usual).
	n := 200
	data := train.Data{X: make([]float64, n), Cond: make([]float64, n), N: n}
	for i := range n {
		y := float64(i)/float64(n) - 0.5
		data.Cond[i], data.X[i] = y, 2*y
	}
	net, err := scorenet.New(be, scorenet.Config{XDim: 1, YDim: 1, Width: 32}, 1)
	if err != nil {
		panic(err)
	}
	dir, _ := os.MkdirTemp("", "pdediff-example-")
	defer os.RemoveAll(dir)
	cfg := train.Config{Epochs: 3, BatchSize: 100, Seed: 7, CheckpointDir: dir}
	res, err := train.Train(context.Background(), net, constVP{}, data, cfg)
	if err != nil {
		panic(err)
	}
	fmt.Println("steps:", res.Steps)

	// Later: continue the same run to 5 epochs from the saved folder.
	loaded, err := scorenet.Load(be, dir)
	if err != nil {
		panic(err)
	}
	cfg.Epochs = 5
	res, err = train.Train(context.Background(), loaded, constVP{}, data, cfg)
	if err != nil {
		panic(err)
	}
	fmt.Println("resumed from", res.StartStep, "to", res.Steps)

	// Use the network as a sampler's score, conditioned on y = 0.3 for every point.
	score, err := loaded.ScoreFunc([]float64{0.3})
	if err != nil {
		panic(err)
	}
	out := make([]float64, 4)
	if err := score(0.5, []float64{0, 0.2, 0.4, 0.6}, 4, 1, out); err != nil {
		panic(err)
	}
	fmt.Println("scores:", len(out))
	// Output:
	// steps: 6
	// resumed from 6 to 10
	// scores: 4
}
