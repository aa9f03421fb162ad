package posterior

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestExactMatchesQuadrature compares the Cholesky-form posterior of 2-segment,
// 2-sensor problems with brute-force quadrature of prior × likelihood.
func TestExactMatchesQuadrature(t *testing.T) {
	mu := []float64{0.5, -0.3}
	c := sym2(1, 0.6, 0.8)
	g := mat.NewDense(2, 2, []float64{1, 0.5, -0.3, 1.2})
	y := []float64{0.9, -0.2}
	for _, tc := range []struct {
		name  string
		sigma []float64
		mask  []bool
	}{
		{"shared sigma", []float64{0.5}, nil},
		{"per-sensor sigma", []float64{0.7, 0.3}, nil},
		{"sensor 0 off", []float64{0.7, 0.3}, []bool{false, true}},
		{"all off", []float64{0.7, 0.3}, []bool{false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mustLG(t, Gaussian{Mean: mu, Cov: c}, Linear{G: g, NoiseStd: tc.sigma, Mask: tc.mask})
			sig := func(i int) float64 {
				if len(tc.sigma) == 1 {
					return tc.sigma[0]
				}
				return tc.sigma[i]
			}
			grid := newGrid2(-5, 5, 400, func(a, b float64) float64 {
				lp := logNormal2(a, b, mu, c)
				for i := 0; i < 2; i++ {
					if tc.mask != nil && !tc.mask[i] {
						continue
					}
					r := (y[i] - g.At(i, 0)*a - g.At(i, 1)*b) / sig(i)
					lp -= 0.5 * r * r
				}
				return lp
			})
			qm := []float64{grid.expect(func(a, _ float64) float64 { return a }), grid.expect(func(_, b float64) float64 { return b })}
			qc := [][]float64{
				{grid.expect(func(a, _ float64) float64 { return (a - qm[0]) * (a - qm[0]) }), grid.expect(func(a, b float64) float64 { return (a - qm[0]) * (b - qm[1]) })},
				{0, grid.expect(func(_, b float64) float64 { return (b - qm[1]) * (b - qm[1]) })},
			}
			qc[1][0] = qc[0][1]
			m, err := p.Mean(y)
			if err != nil {
				t.Fatal(err)
			}
			s := p.Cov()
			for i := 0; i < 2; i++ {
				assertClose(t, "mean", m[i], qm[i], 1e-3)
				assertClose(t, "std", p.Std()[i], math.Sqrt(qc[i][i]), 1e-3)
				for j := 0; j < 2; j++ {
					assertClose(t, "cov", s.At(i, j), qc[i][j], 1e-3)
				}
			}
			if p.KJitter() != 0 || p.DrawJitter() != 0 {
				t.Errorf("jitter %g, %g on a well-conditioned problem, want 0", p.KJitter(), p.DrawJitter())
			}
		})
	}
}

// naivePosterior is the textbook C Gᵀ (G C Gᵀ + Σ)⁻¹ form with an explicit inverse.
func naivePosterior(t *testing.T, mu []float64, c *mat.SymDense, g *mat.Dense, sigma []float64, y []float64) ([]float64, *mat.Dense) {
	t.Helper()
	m, _ := g.Dims()
	var gc, k, kinv, gain, post mat.Dense
	gc.Mul(g, c)
	k.Mul(&gc, g.T())
	for i := 0; i < m; i++ {
		s := sigma[0]
		if len(sigma) == m {
			s = sigma[i]
		}
		k.Set(i, i, k.At(i, i)+s*s)
	}
	if err := kinv.Inverse(&k); err != nil {
		t.Fatal(err)
	}
	gain.Mul(gc.T(), &kinv) // C Gᵀ K⁻¹
	r := mat.NewVecDense(m, nil)
	r.MulVec(g, mat.NewVecDense(len(mu), mu))
	r.SubVec(mat.NewVecDense(m, y), r)
	mean := mat.NewVecDense(len(mu), nil)
	mean.MulVec(&gain, r)
	mean.AddVec(mean, mat.NewVecDense(len(mu), mu))
	post.Mul(&gain, &gc)
	post.Sub(c, &post)
	return mean.RawVector().Data, &post
}

// rowsOf returns the rows of g with mask true.
func rowsOf(g *mat.Dense, mask []bool) *mat.Dense {
	_, d := g.Dims()
	var rows []float64
	for i, on := range mask {
		if on {
			rows = append(rows, g.RawRowView(i)...)
		}
	}
	return mat.NewDense(len(rows)/d, d, rows)
}

func TestExactMatchesNaiveFormula(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const d, m = 6, 5
	c := randomSPD(r, d, 1)
	g := randomDense(r, m, d)
	mu := make([]float64, d)
	y := make([]float64, m)
	for i := range mu {
		mu[i] = r.NormFloat64()
	}
	for i := range y {
		y[i] = 3 * r.NormFloat64()
	}
	sigmas := []float64{0.3, 0.5, 0.2, 0.8, 0.4}
	mask := []bool{true, false, true, true, false}
	for _, tc := range []struct {
		name  string
		sigma []float64
		mask  []bool
	}{
		{"shared sigma", []float64{0.3}, nil},
		{"per-sensor sigma", sigmas, nil},
		{"masked", sigmas, mask},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mustLG(t, Gaussian{Mean: mu, Cov: c}, Linear{G: g, NoiseStd: tc.sigma, Mask: tc.mask})
			gn, sn, yn := g, tc.sigma, y
			if tc.mask != nil { // the independent computation uses only the on-rows
				gn = rowsOf(g, tc.mask)
				sn, yn = nil, nil
				for i, on := range tc.mask {
					if on {
						sn = append(sn, tc.sigma[i])
						yn = append(yn, y[i])
					}
				}
				// The masked posterior must also equal the posterior of the on-rows as a model of its own.
				q := mustLG(t, Gaussian{Mean: mu, Cov: c}, Linear{G: gn, NoiseStd: sn})
				qm, _ := q.Mean(yn)
				pm, _ := p.Mean(y)
				for i := range qm {
					assertClose(t, "masked mean vs on-rows model", pm[i], qm[i], 1e-12)
				}
				if !mat.EqualApprox(p.Cov(), q.Cov(), 1e-12) {
					t.Errorf("masked covariance differs from the on-rows model")
				}
			}
			wantM, wantC := naivePosterior(t, mu, c, gn, sn, yn)
			gotM, err := p.Mean(y)
			if err != nil {
				t.Fatal(err)
			}
			for i := range gotM {
				assertClose(t, "mean", gotM[i], wantM[i], 1e-10)
			}
			if !mat.EqualApprox(p.Cov(), wantC, 1e-10) {
				t.Errorf("covariance differs from the naive formula:\n%v\n%v", mat.Formatted(p.Cov()), mat.Formatted(wantC))
			}
			s := p.Cov()
			for i := 0; i < d; i++ {
				for j := 0; j < d; j++ {
					if s.At(i, j) != s.At(j, i) {
						t.Fatalf("covariance not symmetric at %d,%d", i, j)
					}
				}
			}
		})
	}
	// Off sensors may hold anything, NaN included.
	p := mustLG(t, Gaussian{Mean: mu, Cov: c}, Linear{G: g, NoiseStd: sigmas, Mask: mask})
	y2 := slices.Clone(y)
	y2[1], y2[4] = math.NaN(), math.Inf(1)
	a, err := p.Mean(y)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Mean(y2)
	if err != nil || !slices.Equal(a, b) {
		t.Errorf("off-sensor readings changed the mean (err %v)", err)
	}
}

func TestAllSensorsOffIsPrior(t *testing.T) {
	mu := []float64{1, 2}
	c := sym2(2, 0.5, 1)
	p := mustLG(t, Gaussian{Mean: mu, Cov: c}, Linear{G: mat.NewDense(3, 2, []float64{1, 2, 3, 4, 5, 6}), NoiseStd: []float64{0.1}, Mask: []bool{false, false, false}})
	m, err := p.Mean([]float64{math.NaN(), 7, 8})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m, mu) || !mat.Equal(p.Cov(), c) || len(p.On()) != 0 {
		t.Errorf("all-off posterior = N(%v, %v), want the prior", m, mat.Formatted(p.Cov()))
	}
}

func TestDrawsMatchMoments(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const d, m, n = 4, 3, 20000
	c := randomSPD(r, d, 0.5)
	g := randomDense(r, m, d)
	mu := []float64{1, -1, 0.5, 2}
	y := []float64{0.3, -2, 1}
	p := mustLG(t, Gaussian{Mean: mu, Cov: c}, Linear{G: g, NoiseStd: []float64{0.4, 0.6, 0.5}})
	x, err := p.Draws(y, n, 42)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := p.Mean(y)
	s := p.Cov()
	gotM, gotC := sampleMoments(x, d)
	for i := 0; i < d; i++ {
		assertClose(t, "draw mean", gotM[i], want[i], 4.5*math.Sqrt(s.At(i, i)/n))
		for j := 0; j < d; j++ {
			se := math.Sqrt((s.At(i, i)*s.At(j, j) + s.At(i, j)*s.At(i, j)) / n)
			assertClose(t, "draw cov", gotC.At(i, j), s.At(i, j), 4.5*se)
		}
	}
	x2, _ := p.Draws(y, n, 42)
	x3, _ := p.Draws(y, n, 43)
	if !slices.Equal(x, x2) || slices.Equal(x, x3) {
		t.Errorf("draws are not a function of the seed")
	}
	one := make([]float64, d)
	if err := p.Draw(want, rand.New(rand.NewPCG(1, 2)), one); err != nil {
		t.Fatal(err)
	}
}

func TestNoiseFreeAndJitter(t *testing.T) {
	mu := []float64{0, 0}
	c := sym2(1, 0.3, 1)
	full := mat.NewDense(2, 2, []float64{1, 0, 0, 1})
	dup := mat.NewDense(2, 2, []float64{1, 1, 1, 1})
	// Noise-free, full rank: K = C is PD, the posterior collapses on q = y.
	p := mustLG(t, Gaussian{Mean: mu, Cov: c}, Linear{G: full, NoiseStd: []float64{0}})
	m, _ := p.Mean([]float64{0.7, -0.2})
	assertClose(t, "noise-free mean 0", m[0], 0.7, 1e-12)
	assertClose(t, "noise-free mean 1", m[1], -0.2, 1e-12)
	if p.Std()[0] > 1e-7 {
		t.Errorf("noise-free std %g, want ≈ 0", p.Std()[0])
	}
	if _, err := p.Draws([]float64{0.7, -0.2}, 3, 1); err == nil && p.DrawJitter() == 0 {
		t.Errorf("draws of a zero covariance without jitter")
	}
	// Noise-free with duplicate rows: K is singular, an error unless jitter is allowed.
	_, err := NewLinearGaussian(Gaussian{Mean: mu, Cov: c}, Linear{G: dup, NoiseStd: []float64{0}})
	if err == nil || !strings.Contains(err.Error(), "noise-free") {
		t.Errorf("singular noise-free K: err = %v, want a noise-free error", err)
	}
	q := mustLG(t, Gaussian{Mean: mu, Cov: c}, Linear{G: dup, NoiseStd: []float64{0}, MaxJitter: 1e-6})
	if !(q.KJitter() > 0) {
		t.Errorf("KJitter = %g, want > 0 when it was needed", q.KJitter())
	}
	qm, _ := q.Mean([]float64{1, 1})
	assertClose(t, "jittered mean", qm[0]+qm[1], 1, 1e-5)
	// With noise the same design needs no jitter.
	s := mustLG(t, Gaussian{Mean: mu, Cov: c}, Linear{G: dup, NoiseStd: []float64{0.1}})
	if s.KJitter() != 0 {
		t.Errorf("KJitter = %g with noise, want 0", s.KJitter())
	}
}

func TestLinearGaussianErrors(t *testing.T) {
	mu := []float64{0, 0}
	c := sym2(1, 0, 1)
	g := mat.NewDense(2, 2, []float64{1, 0, 0, 1})
	nan := math.NaN()
	for _, tc := range []struct {
		name  string
		prior Gaussian
		lin   Linear
		want  string
	}{
		{"empty mean", Gaussian{Cov: c}, Linear{G: g, NoiseStd: []float64{1}}, "empty"},
		{"nil cov", Gaussian{Mean: mu}, Linear{G: g, NoiseStd: []float64{1}}, "nil"},
		{"cov shape", Gaussian{Mean: []float64{0, 0, 0}, Cov: c}, Linear{G: g, NoiseStd: []float64{1}}, "covariance is 2×2"},
		{"nan mean", Gaussian{Mean: []float64{nan, 0}, Cov: c}, Linear{G: g, NoiseStd: []float64{1}}, "not finite"},
		{"nan cov", Gaussian{Mean: mu, Cov: sym2(1, nan, 1)}, Linear{G: g, NoiseStd: []float64{1}}, "not finite"},
		{"negative variance", Gaussian{Mean: mu, Cov: sym2(-1, 0, 1)}, Linear{G: g, NoiseStd: []float64{1}}, "negative"},
		{"nil G", Gaussian{Mean: mu, Cov: c}, Linear{NoiseStd: []float64{1}}, "nil"},
		{"G columns", Gaussian{Mean: mu, Cov: c}, Linear{G: mat.NewDense(2, 3, nil), NoiseStd: []float64{1}}, "2×3"},
		{"inf G", Gaussian{Mean: mu, Cov: c}, Linear{G: mat.NewDense(1, 2, []float64{math.Inf(1), 0}), NoiseStd: []float64{1}}, "not finite"},
		{"no sigma", Gaussian{Mean: mu, Cov: c}, Linear{G: g}, "noise stds"},
		{"sigma length", Gaussian{Mean: mu, Cov: c}, Linear{G: g, NoiseStd: []float64{1, 1, 1}}, "noise stds"},
		{"negative sigma", Gaussian{Mean: mu, Cov: c}, Linear{G: g, NoiseStd: []float64{-0.1}}, "≥ 0"},
		{"nan sigma", Gaussian{Mean: mu, Cov: c}, Linear{G: g, NoiseStd: []float64{1, nan}}, "≥ 0"},
		{"mask length", Gaussian{Mean: mu, Cov: c}, Linear{G: g, NoiseStd: []float64{1}, Mask: []bool{true}}, "mask"},
		{"max jitter", Gaussian{Mean: mu, Cov: c}, Linear{G: g, NoiseStd: []float64{1}, MaxJitter: -1}, "jitter"},
		{"singular noise-free", Gaussian{Mean: mu, Cov: c}, Linear{G: mat.NewDense(2, 2, []float64{1, 1, 2, 2}), NoiseStd: []float64{0}}, "singular"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewLinearGaussian(tc.prior, tc.lin)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
	p := mustLG(t, Gaussian{Mean: mu, Cov: c}, Linear{G: g, NoiseStd: []float64{1}})
	for _, tc := range []struct {
		name string
		y    []float64
		want string
	}{
		{"short y", []float64{1}, "readings"},
		{"nan y", []float64{1, nan}, "not finite"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := p.Mean(tc.y); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Mean: err = %v, want %q", err, tc.want)
			}
			if _, err := p.Draws(tc.y, 2, 1); err == nil {
				t.Errorf("Draws: no error")
			}
		})
	}
	if _, err := p.Draws([]float64{0, 0}, 0, 1); err == nil {
		t.Errorf("Draws(0): no error")
	}
	if err := p.Draw([]float64{0}, rand.New(rand.NewPCG(1, 1)), make([]float64, 2)); err == nil {
		t.Errorf("Draw with short mean: no error")
	}
	nf := mustLG(t, Gaussian{Mean: mu, Cov: c}, Linear{G: g, NoiseStd: []float64{0, 1}})
	if _, err := nf.LogLikelihood([]float64{0, 0}); err == nil || !strings.Contains(err.Error(), "noise-free") {
		t.Errorf("LogLikelihood with σ = 0: err = %v", err)
	}
}

func TestLogLikelihood(t *testing.T) {
	g := mat.NewDense(3, 2, []float64{1, 2, 0, 1, 3, -1})
	p := mustLG(t, Gaussian{Mean: []float64{0, 0}, Cov: sym2(1, 0, 1)}, Linear{G: g, NoiseStd: []float64{0.5, 2, 1}, Mask: []bool{true, false, true}})
	ll, err := p.LogLikelihood([]float64{1, math.NaN(), 2})
	if err != nil {
		t.Fatal(err)
	}
	q := []float64{0.5, -1}
	// Sensor 0: 1 − (0.5 − 2) = 2.5, /0.5 = 5; sensor 2: 2 − (1.5 + 1) = −0.5, /1.
	want := -0.5 * (25 + 0.25)
	assertClose(t, "log-likelihood", ll(q), want, 1e-12)
}
