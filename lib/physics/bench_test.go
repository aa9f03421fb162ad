package physics

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkResponseMatrix times the 30 unit-flux solves (one factorisation) of the linear problem.
// Paper mesh: go test ./lib/physics -run XXX -bench 'ResponseMatrix/850x200' -benchtime 3x
func BenchmarkResponseMatrix(b *testing.B) {
	for _, m := range [][2]int{{170, 40}, {425, 100}, {850, 200}} {
		b.Run(meshName(m), func(b *testing.B) {
			cfg, _ := DefaultConfig(ProblemLinear)
			cfg.NX, cfg.NY = m[0], m[1]
			for b.Loop() {
				if _, err := ResponseMatrix(cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNonlinearSolve times one Newton solve (one sample) of the nonlinear problem, single goroutine.
func BenchmarkNonlinearSolve(b *testing.B) {
	for _, m := range [][2]int{{85, 20}, {170, 40}, {340, 80}} {
		b.Run(meshName(m), func(b *testing.B) {
			cfg, _ := DefaultConfig(ProblemNonlinear)
			cfg.NX, cfg.NY = m[0], m[1]
			model, err := NewNonlinearModel(cfg)
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 1))
			out := make([]float64, NumSensors)
			for b.Loop() {
				if err := model.Readings(randomFlux(rng), out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func meshName(m [2]int) string {
	return itoa(m[0]) + "x" + itoa(m[1])
}

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	s := ""
	for ; v > 0; v /= 10 {
		s = string(rune('0'+v%10)) + s
	}
	return s
}
