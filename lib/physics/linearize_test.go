package physics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLinearization checks the chord solves against Newton (same readings to
// the Newton tolerance) and the tangent against central differences of
// Newton solves.
func TestLinearization(t *testing.T) {
	cfg, _ := DefaultConfig(ProblemNonlinear)
	cfg.NX, cfg.NY = 85, 20
	m, err := NewNonlinearModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	q0 := randomFlux(rng)
	lin, err := m.Linearize(q0)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, NumSensors)
	if err := m.Readings(q0, want); err != nil {
		t.Fatal(err)
	}
	for i, v := range lin.Readings0() {
		if math.Abs(v-want[i]) > 1e-9 {
			t.Fatalf("Readings0[%d] = %v, Newton %v", i, v, want[i])
		}
	}
	// Tangent against central differences (h = 1e-4: error O(h²) ≈ 1e-8 relative).
	g := lin.Tangent()
	const h = 1e-4
	up, dn := make([]float64, NumSensors), make([]float64, NumSensors)
	for _, s := range []int{0, 7, 14, 15, 22, 29} {
		qp, qm := append([]float64(nil), q0...), append([]float64(nil), q0...)
		qp[s] += h
		qm[s] -= h
		if err := m.Readings(qp, up); err != nil {
			t.Fatal(err)
		}
		if err := m.Readings(qm, dn); err != nil {
			t.Fatal(err)
		}
		for i := range NumSensors {
			fd := (up[i] - dn[i]) / (2 * h)
			if d := math.Abs(fd - g[i*NumSegments+s]); d > 1e-6*max(1, math.Abs(fd)) {
				t.Errorf("tangent[%d,%d] = %v, central difference %v", i, s, g[i*NumSegments+s], fd)
			}
		}
	}
	// Chord solves near q0 (a posterior-sized step) and far from it (a fresh prior draw: may fall back).
	out := make([]float64, NumSensors)
	for k, q := range [][]float64{perturb(q0, 0.2, rng), perturb(q0, 0.5, rng), randomFlux(rng)} {
		its, err := lin.ReadingsIter(q, out)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Readings(q, want); err != nil {
			t.Fatal(err)
		}
		for i := range out {
			if d := math.Abs(out[i] - want[i]); d > 1e-7 {
				t.Errorf("case %d: chord reading %d = %v, Newton %v (%d chord iterations)", k, i, out[i], want[i], its)
			}
		}
		if k == 0 && (its < 2 || its > 20) {
			t.Errorf("near q0: %d chord iterations, want 2..20", its)
		}
		t.Logf("case %d: %d chord iterations", k, its)
	}
}

func perturb(q []float64, s float64, rng *rand.Rand) []float64 {
	out := append([]float64(nil), q...)
	for i := range out {
		out[i] = max(0, out[i]+s*rng.NormFloat64())
	}
	return out
}

// BenchmarkChordSolve times one chord solve (Linearization.Readings) near
// the linearisation point against a warm Newton solve: the forward model of
// the nonlinear reference posterior.
// go test ./lib/physics -run XXX -bench ChordSolve
func BenchmarkChordSolve(b *testing.B) {
	cfg, _ := DefaultConfig(ProblemNonlinear)
	m, err := NewNonlinearModel(cfg)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	q0 := randomFlux(rng)
	lin, err := m.Linearize(q0)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]float64, NumSensors)
	b.Run("chord", func(b *testing.B) {
		its := 0
		for b.Loop() {
			k, err := lin.ReadingsIter(perturb(q0, 0.2, rng), out)
			if err != nil {
				b.Fatal(err)
			}
			its += k
		}
		b.ReportMetric(float64(its)/float64(b.N), "iterations/op")
	})
	b.Run("newton", func(b *testing.B) {
		for b.Loop() {
			if err := m.Readings(perturb(q0, 0.2, rng), out); err != nil {
				b.Fatal(err)
			}
		}
	})
}
