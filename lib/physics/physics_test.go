package physics

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// manufactured is a smooth exact solution with its derivatives.
type manufactured struct{}

func (manufactured) c(x, y float64) float64  { return 1 + 0.5*math.Sin(0.8*x)*math.Cos(1.3*y) + 0.1*y }
func (manufactured) cx(x, y float64) float64 { return 0.4 * math.Cos(0.8*x) * math.Cos(1.3*y) }
func (manufactured) cy(x, y float64) float64 { return -0.65*math.Sin(0.8*x)*math.Sin(1.3*y) + 0.1 }
func (manufactured) lap(x, y float64) float64 {
	return -0.5 * (0.64 + 1.69) * math.Sin(0.8*x) * math.Cos(1.3*y)
}

// loads returns source, Neumann and Dirichlet data so that the exact solution solves
// u·∇c − κΔc − r c(1 − c/K) = f with κ∂c/∂n = g on the walls and x = L, c = c_exact on x = 0.
func (mf manufactured) loads(d *discretization) loadSpec {
	return loadSpec{
		Source: func(x, y float64) float64 {
			c := mf.c(x, y)
			return d.velocity(y)*mf.cx(x, y) - d.kappa*mf.lap(x, y) - d.rate*c*(1-c/d.capK)
		},
		Neumann: func(x, y float64) float64 {
			switch {
			case x >= Length-1e-12:
				return d.kappa * mf.cx(x, y)
			case y <= 1e-12:
				return -d.kappa * mf.cy(x, y)
			default:
				return d.kappa * mf.cy(x, y)
			}
		},
		Dirichlet: func(y float64) float64 { return mf.c(0, y) },
	}
}

// l2Error integrates (c_h − c_exact)² with the degree-4 rule.
func l2Error(d *discretization, c []float64, exact func(x, y float64) float64) float64 {
	m := d.mesh
	s := 0.0
	for i := 0; i < m.NX; i++ {
		for j := 0; j < m.NY; j++ {
			for _, upper := range []bool{false, true} {
				nodes := d.triNodes(i, j, upper)
				for g := range 6 {
					x, y := d.quadXY(i, j, upper, g)
					l := quadBary[g]
					ch := l[0]*c[nodes[0]] + l[1]*c[nodes[1]] + l[2]*c[nodes[2]]
					e := ch - exact(x, y)
					s += quadW[g] * d.area * e * e
				}
			}
		}
	}
	return math.Sqrt(s)
}

func TestManufacturedSecondOrder(t *testing.T) {
	mf := manufactured{}
	for _, tc := range []struct {
		name                    string
		kappa, umax, rate, capK float64
	}{
		{"linear", 0.5, 1, 0, 2},
		{"nonlinear-defaults", 2, 12, 10, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errs []float64
			for _, n := range []int{1, 2, 4, 8} {
				mesh, _ := NewMesh(17*n, 4*n)
				d := newDiscretization(mesh, tc.kappa, tc.umax, tc.rate, tc.capK)
				var c []float64
				var err error
				if tc.rate == 0 {
					c, err = d.solveLinear(mf.loads(d))
				} else {
					c, _, err = d.newton(mf.loads(d), newtonOptions{tol: 1e-12, maxIter: 30, rate: tc.rate})
				}
				if err != nil {
					t.Fatal(err)
				}
				errs = append(errs, l2Error(d, c, mf.c))
			}
			for k := 1; k < len(errs); k++ {
				order := math.Log2(errs[k-1] / errs[k])
				t.Logf("h/%d: L2 error %.3e, order %.3f", 1<<k, errs[k], order)
				if k >= 2 && (order < 1.9 || order > 2.2) {
					t.Errorf("observed order %.3f at refinement %d, want ≈ 2 (errors %v)", order, k, errs)
				}
			}
		})
	}
}

func TestSegmentLoadExact(t *testing.T) {
	// Σ_i b_i = ∫ q ds and Σ_i b_i x_i = ∫ q x ds exactly (P1 hats reproduce 1 and x), on meshes whose nodes do
	// not align with the segment ends.
	for _, nx := range []int{7, 23, 170} {
		mesh, _ := NewMesh(nx, 3)
		for seg := range NumSegments {
			b := make([]float64, mesh.NumNodes())
			mesh.addSegmentLoad(b, seg, 2.5)
			x0, x1 := SegmentBounds(seg % SegmentsPerWall)
			wantJ := 0
			if seg >= SegmentsPerWall {
				wantJ = mesh.NY
			}
			sum, mom := 0.0, 0.0
			for i := 0; i <= mesh.NX; i++ {
				for j := 0; j <= mesh.NY; j++ {
					v := b[mesh.Node(i, j)]
					if v != 0 && j != wantJ {
						t.Fatalf("segment %d loads node (%d,%d) off its wall", seg, i, j)
					}
					sum += v
					mom += v * float64(i) * mesh.HX
				}
			}
			if want := 2.5 * (x1 - x0); math.Abs(sum-want) > 1e-12 {
				t.Errorf("nx=%d seg %d: total load %v, want %v", nx, seg, sum, want)
			}
			if want := 2.5 * (x1*x1 - x0*x0) / 2; math.Abs(mom-want) > 1e-12 {
				t.Errorf("nx=%d seg %d: first moment %v, want %v", nx, seg, mom, want)
			}
		}
	}
}

func TestInterpolateLinearExact(t *testing.T) {
	mesh, _ := NewMesh(13, 5)
	c := make([]float64, mesh.NumNodes())
	f := func(x, y float64) float64 { return 3 - 2*x + 5*y }
	for i := 0; i <= mesh.NX; i++ {
		for j := 0; j <= mesh.NY; j++ {
			x, y := mesh.Coord(i, j)
			c[mesh.Node(i, j)] = f(x, y)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		x, y := rng.Float64()*Length, rng.Float64()*Height
		if got := mesh.Interpolate(c, x, y); math.Abs(got-f(x, y)) > 1e-12 {
			t.Fatalf("Interpolate(%v,%v) = %v, want %v", x, y, got, f(x, y))
		}
	}
}

func randomFlux(rng *rand.Rand) []float64 {
	q := make([]float64, NumSegments)
	for k := range q {
		q[k] = 3 * rng.Float64()
	}
	return q
}

func smallCfg(t *testing.T, problem string, nx, ny int) Config {
	cfg, err := DefaultConfig(problem)
	if err != nil {
		t.Fatal(err)
	}
	cfg.NX, cfg.NY, cfg.CacheDir = nx, ny, "-"
	return cfg
}

func TestLinearSuperposition(t *testing.T) {
	cfg := smallCfg(t, ProblemLinear, 68, 16)
	rng := rand.New(rand.NewPCG(3, 4))
	q1, q2 := randomFlux(rng), randomFlux(rng)
	q3 := make([]float64, NumSegments)
	for k := range q3 {
		q3[k] = q1[k] - 2.5*q2[k]
	}
	s1, _ := Solve(cfg, q1)
	s2, _ := Solve(cfg, q2)
	s3, err := Solve(cfg, q3)
	if err != nil {
		t.Fatal(err)
	}
	scale := 0.0
	for _, v := range s1.C {
		scale = max(scale, math.Abs(v))
	}
	for r := range s3.C {
		if want := s1.C[r] - 2.5*s2.C[r]; math.Abs(s3.C[r]-want) > 1e-10*scale {
			t.Fatalf("node %d: c(q1 − 2.5 q2) = %v, want %v", r, s3.C[r], want)
		}
	}
}

func TestResponseMatrixEqualsDirectSolves(t *testing.T) {
	cfg := smallCfg(t, ProblemLinear, 85, 20)
	g, err := ResponseMatrix(cfg)
	if err != nil {
		t.Fatal(err)
	}
	model, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 3 {
		q := randomFlux(rng)
		sol, err := Solve(cfg, q)
		if err != nil {
			t.Fatal(err)
		}
		want := sol.Sensors()
		got := make([]float64, NumSensors)
		if err := model.Readings(q, got); err != nil {
			t.Fatal(err)
		}
		for s := range NumSensors {
			if math.Abs(got[s]-want[s]) > 1e-9*math.Abs(want[s]) {
				t.Errorf("trial %d sensor %d: G·q = %v, direct solve %v", trial, s, got[s], want[s])
			}
		}
	}
	// Column k of G is the response to unit flux on segment k; segment 1 (bottom, 0 < x < 0.47) sees only
	// downstream sensors, and every response is positive (maximum principle, positive influx).
	for s := range NumSensors {
		for k := range NumSegments {
			if g[s*NumSegments+k] <= 0 {
				t.Errorf("G[%d,%d] = %v, want > 0", s, k, g[s*NumSegments+k])
			}
		}
	}
	// Bottom flux is read more strongly by the bottom sensor than by the top one.
	for k := range SegmentsPerWall {
		s := min(k+1, 14)
		if g[s*NumSegments+k] <= g[(15+s)*NumSegments+k] {
			t.Errorf("bottom segment %d: bottom sensor %v ≤ top sensor %v", k, g[s*NumSegments+k], g[(15+s)*NumSegments+k])
		}
	}
}

func TestNewtonQuadraticConvergence(t *testing.T) {
	cfg := smallCfg(t, ProblemNonlinear, 85, 20)
	mesh, _ := NewMesh(cfg.NX, cfg.NY)
	d := newDiscretization(mesh, cfg.Kappa, cfg.UMax, cfg.Rate, cfg.K)
	q := randomFlux(rand.New(rand.NewPCG(7, 8)))
	c, rep, err := d.newton(loadSpec{Q: q}, newtonOptions{tol: 1e-10, maxIter: 30, rate: cfg.Rate})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("from K(1-exp(-3x)):\n%s", rep)
	if !rep.Converged || rep.Iterations > 8 {
		t.Fatalf("want convergence in ≤ 8 iterations (theory §6.7: 5–8), got %+v", rep)
	}
	checked := 0
	for k := 0; k+1 < len(rep.Updates); k++ {
		e0, e1 := rep.Updates[k], rep.Updates[k+1]
		if e0 > 0.05 || e1 < 1e-12 {
			continue
		}
		checked++
		if e1 > 5*e0*e0 {
			t.Errorf("step %d→%d: |dc| %.3e → %.3e, want ≤ 5·|dc|² (quadratic)", k+1, k+2, e0, e1)
		}
	}
	if checked < 2 {
		t.Errorf("only %d steps in the asymptotic regime: %v", checked, rep.Updates)
	}
	// The model (warm start from the q ≡ 2 solution) reaches the same solution in fewer iterations.
	m, err := NewNonlinearModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sol, err := m.Solve(q)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("warm start:\n%s", sol.Newton)
	if !sol.Newton.WarmStart || sol.Newton.Iterations >= rep.Iterations {
		t.Errorf("warm start: %+v, want fewer than %d iterations", sol.Newton, rep.Iterations)
	}
	for r := range c {
		if math.Abs(c[r]-sol.C[r]) > 1e-8 {
			t.Fatalf("node %d: warm-start solution %v, c0-start solution %v", r, sol.C[r], c[r])
		}
	}
	// Sensor values: ≈ 0.1–0.4 at the inlet, close to K = 2 downstream (theory §6.7).
	s := sol.Sensors()
	if s[0] < 0.05 || s[0] > 0.6 || s[14] < 1.8 || s[14] > 2.4 {
		t.Errorf("sensor profile %v outside the expected ranges", s)
	}
}

func TestNewtonNonConvergenceIsError(t *testing.T) {
	cfg := smallCfg(t, ProblemNonlinear, 34, 8)
	cfg.NewtonMaxIter = 2
	if _, err := NewNonlinearModel(cfg); err == nil || !strings.Contains(err.Error(), "did not converge") {
		t.Fatalf("want a non-convergence error, got %v", err)
	}
	// From c = 0, Newton at r = 10 does not converge in the default budget either (theory §6.7), but the model's
	// continuation fallback does.
	cfg.NewtonMaxIter = 0
	mesh, _ := NewMesh(cfg.NX, cfg.NY)
	d := newDiscretization(mesh, cfg.Kappa, cfg.UMax, cfg.Rate, cfg.K)
	q := randomFlux(rand.New(rand.NewPCG(9, 9)))
	zero := make([]float64, mesh.NumNodes())
	c0, _, errZero := d.newton(loadSpec{Q: q}, newtonOptions{tol: 1e-10, maxIter: 30, rate: cfg.Rate, init: zero})
	cP, _, errP := d.newton(loadSpec{Q: q}, newtonOptions{tol: 1e-10, maxIter: 30, rate: cfg.Rate})
	if errP != nil {
		t.Fatal(errP)
	}
	if errZero == nil {
		// Converged, but then to a different (unphysical) state than the one from the c0 profile.
		diff := 0.0
		for r := range cP {
			diff = max(diff, math.Abs(c0[r]-cP[r]))
		}
		t.Logf("Newton from c = 0 converged; max difference to the c0-profile solution %.3g", diff)
	} else {
		t.Logf("Newton from c = 0: %v", strings.SplitN(errZero.Error(), "\n", 2)[0])
	}
}

func TestGlobalBalance(t *testing.T) {
	q := randomFlux(rand.New(rand.NewPCG(11, 12)))
	for _, problem := range []string{ProblemLinear, ProblemNonlinear} {
		cfg := smallCfg(t, problem, 85, 20)
		sol, err := Solve(cfg, q)
		if err != nil {
			t.Fatal(err)
		}
		bal, err := BalanceOf(cfg, q, sol)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %+v imbalance %.2e", problem, bal, bal.Imbalance())
		if math.Abs(bal.Imbalance()) > 1e-9 {
			t.Errorf("%s: imbalance %.3e, want < 1e-9 (%+v)", problem, bal.Imbalance(), bal)
		}
		if bal.Outflow <= 0 || bal.DiffusiveOut <= 0 {
			t.Errorf("%s: want positive outflow and diffusive outflux at x = 0, got %+v", problem, bal)
		}
		if problem == ProblemLinear && bal.Reaction != 0 {
			t.Errorf("linear problem has reaction %v", bal.Reaction)
		}
		if problem == ProblemNonlinear && bal.Reaction <= 0 {
			t.Errorf("nonlinear problem: reaction integral %v, want > 0 (0 < c < K mostly)", bal.Reaction)
		}
	}
}

func TestBandLUAgainstDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	n, kl, ku := 57, 6, 6
	bm := newBandMatrix(n, kl, ku)
	dense := make([][]float64, n)
	for i := range dense {
		dense[i] = make([]float64, n)
		for j := max(0, i-kl); j <= min(n-1, i+ku); j++ {
			v := rng.Float64() - 0.5
			if i == j {
				v += 4
			}
			dense[i][j] = v
			bm.a[bm.idx(i, j)] = v
		}
	}
	if err := bm.factor(); err != nil {
		t.Fatal(err)
	}
	x := make([]float64, n)
	b := make([]float64, n)
	multi := make([]float64, n*rhsPad)
	for i := range x {
		x[i] = rng.Float64()
	}
	for i := range n {
		for j := range n {
			b[i] += dense[i][j] * x[j]
		}
		for r := range rhsPad {
			multi[i*rhsPad+r] = b[i] * float64(r+1)
		}
	}
	bm.solve(b)
	bm.solve32(multi)
	for i := range n {
		if math.Abs(b[i]-x[i]) > 1e-12 {
			t.Fatalf("solve: x[%d] = %v, want %v", i, b[i], x[i])
		}
		for r := range rhsPad {
			if want := x[i] * float64(r+1); math.Abs(multi[i*rhsPad+r]-want) > 1e-11 {
				t.Fatalf("solve32: x[%d][%d] = %v, want %v", i, r, multi[i*rhsPad+r], want)
			}
		}
	}
	// A zero pivot is an error, not garbage.
	z := newBandMatrix(3, 1, 1)
	z.a[z.idx(0, 1)] = 1
	z.a[z.idx(1, 0)] = 1
	z.a[z.idx(1, 1)] = 1
	z.a[z.idx(2, 2)] = 1
	if err := z.factor(); err == nil || !strings.Contains(err.Error(), "pivot") {
		t.Fatalf("want a pivot error, got %v", err)
	}
}

func TestKernelsMatchGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, n := range []int{0, 1, 7, 8, 9, 31, 202} {
		xs := make([][]float64, 4)
		for k := range xs {
			xs[k] = make([]float64, n)
			for j := range xs[k] {
				xs[k][j] = rng.NormFloat64()
			}
		}
		d1 := make([]float64, n)
		for j := range d1 {
			d1[j] = rng.NormFloat64()
		}
		d2 := append([]float64(nil), d1...)
		axpy4(d1, 0.3, -1.2, 2, 0.7, xs[0], xs[1], xs[2], xs[3])
		axpy4Generic(d2, 0.3, -1.2, 2, 0.7, xs[0], xs[1], xs[2], xs[3])
		for j := range d1 {
			if math.Abs(d1[j]-d2[j]) > 1e-12 {
				t.Fatalf("axpy4 n=%d j=%d: %v vs generic %v", n, j, d1[j], d2[j])
			}
		}
	}
	c := []float64{0.5, -1, 2}
	b := make([]float64, 3*rhsPad)
	for i := range b {
		b[i] = rng.NormFloat64()
	}
	var a1, a2 [rhsPad]float64
	for r := range a1 {
		a1[r] = float64(r)
		a2[r] = float64(r)
	}
	comb32(&a1, c, b)
	comb32Generic(&a2, c, b)
	for r := range a1 {
		if math.Abs(a1[r]-a2[r]) > 1e-12 {
			t.Fatalf("comb32 r=%d: %v vs generic %v", r, a1[r], a2[r])
		}
	}
}

func TestCacheRoundTripAndCorruption(t *testing.T) {
	dir := t.TempDir()
	cfg := smallCfg(t, ProblemLinear, 34, 8)
	cfg.CacheDir = dir
	g1, err := CachedResponseMatrix(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, cacheKey(cfg))
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("cache file not written: %v", err)
	}
	g2, err := CachedResponseMatrix(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range g1 {
		if g1[i] != g2[i] {
			t.Fatalf("cached value %d: %v, computed %v", i, g2[i], g1[i])
		}
	}
	// A corrupt file is recomputed (and rewritten), not trusted.
	if err := os.WriteFile(path, []byte("not an npz"), 0o644); err != nil {
		t.Fatal(err)
	}
	g3, err := CachedResponseMatrix(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range g1 {
		if g1[i] != g3[i] {
			t.Fatalf("after corruption value %d: %v, want %v", i, g3[i], g1[i])
		}
	}
	if _, ok := readCache(path, []float64{34, 8, cfg.Kappa, cfg.UMax}); !ok {
		t.Fatal("cache file not rewritten after corruption")
	}
	// Different parameters use a different key.
	cfg2 := cfg
	cfg2.Kappa = 0.03
	if cacheKey(cfg2) == cacheKey(cfg) {
		t.Fatal("cache key ignores kappa")
	}
}

func TestValidation(t *testing.T) {
	good, _ := DefaultConfig(ProblemNonlinear)
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"problem", func(c *Config) { c.Problem = "heat" }, "unknown problem"},
		{"nx", func(c *Config) { c.NX = 0 }, "mesh size"},
		{"ny", func(c *Config) { c.NY = -3 }, "mesh size"},
		{"kappa", func(c *Config) { c.Kappa = 0 }, "kappa"},
		{"nan", func(c *Config) { c.UMax = math.NaN() }, "umax"},
		{"K", func(c *Config) { c.K = 0 }, "K must"},
		{"rate", func(c *Config) { c.Rate = -1 }, "rate"},
	} {
		cfg := good
		tc.mutate(&cfg)
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := DefaultConfig("heat"); err == nil {
		t.Error("DefaultConfig accepted an unknown problem")
	}
	cfg := smallCfg(t, ProblemLinear, 17, 4)
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, NumSensors)
	q := make([]float64, NumSegments)
	q[3] = math.Inf(1)
	if err := m.Readings(q, out); err == nil || !strings.Contains(err.Error(), "flux[3]") {
		t.Errorf("Inf flux: %v", err)
	}
	if err := m.Readings(q[:29], out); err == nil || !strings.Contains(err.Error(), "29 values") {
		t.Errorf("short flux: %v", err)
	}
}

func TestStreamedResponseEqualsStored(t *testing.T) {
	for _, m := range [][2]int{{17, 4}, {85, 20}, {60, 33}} {
		cfg := smallCfg(t, ProblemLinear, m[0], m[1])
		g1, err := ResponseMatrix(cfg)
		if err != nil {
			t.Fatal(err)
		}
		g2, err := responseMatrixStored(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for i := range g1 {
			if math.Abs(g1[i]-g2[i]) > 1e-11*math.Abs(g2[i]) {
				t.Fatalf("mesh %v entry %d: streamed %v, stored LU %v", m, i, g1[i], g2[i])
			}
		}
	}
}

func TestTinyMeshesDoNotPanic(t *testing.T) {
	q := randomFlux(rand.New(rand.NewPCG(17, 18)))
	for _, problem := range []string{ProblemLinear, ProblemNonlinear} {
		for _, m := range [][2]int{{1, 1}, {2, 1}, {1, 3}, {3, 2}} {
			cfg := smallCfg(t, problem, m[0], m[1])
			model, err := New(cfg)
			if err != nil {
				t.Logf("%s %v: %v", problem, m, err) // an error is acceptable on such meshes, a panic is not
				continue
			}
			out := make([]float64, NumSensors)
			if err := model.Readings(q, out); err != nil {
				t.Logf("%s %v: %v", problem, m, err)
				continue
			}
			for s, v := range out {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Errorf("%s %v: sensor %d = %v", problem, m, s, v)
				}
			}
		}
	}
}
