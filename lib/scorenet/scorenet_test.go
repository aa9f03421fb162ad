package scorenet

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute"

	"github.com/pdediff/pdediff/lib/backend"
)

func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := backend.Shared()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg    Config
		errHas string // "" = valid
	}{
		{Config{XDim: 1}, ""},
		{Config{XDim: 30, YDim: 30, MaskDim: 30, HiddenLayers: 4, Width: 256, Activation: "relu"}, ""},
		{Config{XDim: 0}, "x_dim"},
		{Config{XDim: 1, YDim: -1}, "y_dim"},
		{Config{XDim: 1, MaskDim: -2}, "mask_dim"},
		{Config{XDim: 1, HiddenLayers: -1}, "hidden_layers"},
		{Config{XDim: 1, Width: -5}, "width"},
		{Config{XDim: 1, Activation: "gelu"}, `unknown activation "gelu"`},
		{Config{XDim: 1, Output: OutputNoise}, ""},
		{Config{XDim: 1, Output: OutputScore}, ""},
		{Config{XDim: 1, Output: "eps"}, `unknown output "eps"`},
	}
	for _, tc := range tests {
		err := tc.cfg.Validate()
		if tc.errHas == "" && err != nil {
			t.Errorf("%+v: unexpected error %v", tc.cfg, err)
		}
		if tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)) {
			t.Errorf("%+v: error %v, want mention of %q", tc.cfg, err, tc.errHas)
		}
	}
	c := Config{XDim: 1, YDim: 1}.WithDefaults()
	if c.HiddenLayers != 2 || c.Width != 256 || c.Activation != "relu" {
		t.Errorf("defaults: %+v", c)
	}
	// 2x256 with x,y 1-D: (6·256+256) + (256·256+256) + (256·1+1).
	if got, want := c.NumParams(), 6*256+256+256*256+256+256+1; got != want {
		t.Errorf("NumParams = %d, want %d", got, want)
	}
}

func TestTimeEmbedding(t *testing.T) {
	tests := []struct {
		t    float64
		want [4]float64
	}{
		{0, [4]float64{-0.5, 1, 0, -1}},
		{0.25, [4]float64{-0.25, 0, 1, 1}},
		{0.5, [4]float64{0, -1, 0, -1}},
		{1, [4]float64{0.5, 1, 0, -1}},
	}
	for _, tc := range tests {
		got := TimeEmbedding(tc.t)
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-12 {
				t.Errorf("e(%v)[%d] = %v, want %v", tc.t, i, got[i], tc.want[i])
			}
		}
	}
}

// hostForward is an independent float64 implementation of the MLP.
func hostForward(cfg Config, params [][]float32, x, cond []float64, t float64) []float64 {
	e := TimeEmbedding(t)
	h := append(append(append([]float64{}, x...), cond...), e[:]...)
	nl := cfg.HiddenLayers + 1
	for l := range nl {
		w, b := params[2*l], params[2*l+1]
		out := len(b)
		in := len(h)
		next := make([]float64, out)
		for j := range out {
			s := float64(b[j])
			for i := range in {
				s += h[i] * float64(w[j*in+i])
			}
			if l < nl-1 && s < 0 {
				s = 0
			}
			next[j] = s
		}
		h = next
	}
	return h
}

func randSlice(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

func TestScoreMatchesHostForward(t *testing.T) {
	be := testBackend(t)
	cases := []Config{
		{XDim: 1, HiddenLayers: 2, Width: 16},
		{XDim: 3, YDim: 2, MaskDim: 2, HiddenLayers: 3, Width: 8},
	}
	for _, cfg := range cases {
		net, err := New(be, cfg, 7)
		if err != nil {
			t.Fatal(err)
		}
		params, err := net.ParamValues(ParamScope)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		const rows = 5
		x := randSlice(rng, rows*cfg.XDim)
		cond := randSlice(rng, rows*cfg.CondDim())
		out := make([]float64, rows*cfg.XDim)
		for _, tt := range []float64{0.001, 0.3, 1} {
			if err := net.Score(tt, x, rows, cond, out); err != nil {
				t.Fatal(err)
			}
			cd, xd := cfg.CondDim(), cfg.XDim
			for r := range rows {
				want := hostForward(net.Config(), params, x[r*xd:(r+1)*xd], cond[r*cd:(r+1)*cd], tt)
				for j := range xd {
					if d := math.Abs(out[r*xd+j] - want[j]); d > 1e-5*(1+math.Abs(want[j])) {
						t.Errorf("cfg %+v t=%v row %d comp %d: graph %v host %v", cfg, tt, r, j, out[r*xd+j], want[j])
					}
				}
			}
		}
	}
}

func TestSeedDeterminesInit(t *testing.T) {
	be := testBackend(t)
	cfg := Config{XDim: 2, YDim: 1, Width: 8}
	a, _ := New(be, cfg, 3)
	b, _ := New(be, cfg, 3)
	c, _ := New(be, cfg, 4)
	pa, _ := a.ParamValues(ParamScope)
	pb, _ := b.ParamValues(ParamScope)
	pc, _ := c.ParamValues(ParamScope)
	same, diff := true, false
	for i := range pa {
		for j := range pa[i] {
			same = same && pa[i][j] == pb[i][j]
			diff = diff || pa[i][j] != pc[i][j]
		}
	}
	if !same || !diff {
		t.Errorf("same seed equal: %v; different seed differs: %v", same, diff)
	}
	// PyTorch-style bound 1/sqrt(fan_in) for the first layer (fan-in 2+1+4 = 7).
	bound := float32(1 / math.Sqrt(7))
	for _, w := range pa[0] {
		if w < -bound || w > bound {
			t.Fatalf("first-layer weight %v outside ±%v", w, bound)
		}
	}
}

func TestScoreFuncBroadcastAndRows(t *testing.T) {
	be := testBackend(t)
	cfg := Config{XDim: 2, YDim: 1, MaskDim: 1, Width: 8}
	net, _ := New(be, cfg, 1)
	rng := rand.New(rand.NewPCG(3, 4))
	const rows = 4
	x := randSlice(rng, rows*2)
	row := []float64{0.7, 1}
	perRow := append(append(append(append([]float64{}, row...), row...), row...), row...)
	f1, err := net.ScoreFunc(row)
	if err != nil {
		t.Fatal(err)
	}
	fN, err := net.ScoreFunc(perRow)
	if err != nil {
		t.Fatal(err)
	}
	o1, oN, oD := make([]float64, rows*2), make([]float64, rows*2), make([]float64, rows*2)
	if err := f1(0.4, x, rows, 2, o1); err != nil {
		t.Fatal(err)
	}
	if err := fN(0.4, x, rows, 2, oN); err != nil {
		t.Fatal(err)
	}
	if err := net.Score(0.4, x, rows, perRow, oD); err != nil {
		t.Fatal(err)
	}
	for i := range o1 {
		if o1[i] != oD[i] || oN[i] != oD[i] {
			t.Fatalf("broadcast %v / per-row %v / direct %v differ at %d", o1[i], oN[i], oD[i], i)
		}
	}
	if err := fN(0.4, x[:2], 1, 2, o1[:2]); err == nil || !strings.Contains(err.Error(), "4 conditioning rows") {
		t.Errorf("row-count mismatch: got %v", err)
	}
	if err := f1(0.4, x, rows, 3, o1); err == nil {
		t.Error("wrong d accepted")
	}
	if _, err := net.ScoreFunc([]float64{1, 2, 3}); err == nil {
		t.Error("conditioning length 3 for cond_dim 2 accepted")
	}
	if _, err := net.ScoreFunc([]float64{math.NaN(), 1}); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("NaN conditioning: %v", err)
	}
}

func TestScoreRejectsBadInput(t *testing.T) {
	be := testBackend(t)
	net, _ := New(be, Config{XDim: 2, YDim: 1, Width: 4}, 1)
	out := make([]float64, 4)
	x := []float64{1, 2, 3, 4}
	cond := []float64{0, 1}
	tests := []struct {
		name   string
		run    func() error
		errHas string
	}{
		{"rows0", func() error { return net.Score(0.5, nil, 0, nil, nil) }, "≥ 1 row"},
		{"xlen", func() error { return net.Score(0.5, x[:3], 2, cond, out) }, "len(x)"},
		{"outlen", func() error { return net.Score(0.5, x, 2, cond, out[:2]) }, "len(out)"},
		{"condlen", func() error { return net.Score(0.5, x, 2, cond[:1], out) }, "len(cond)"},
		{"tnan", func() error { return net.Score(math.NaN(), x, 2, cond, out) }, "not finite"},
	}
	for _, tc := range tests {
		if err := tc.run(); err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.errHas)
		}
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	be := testBackend(t)
	cfg := Config{XDim: 2, YDim: 1, HiddenLayers: 2, Width: 8}
	net, _ := New(be, cfg, 11)
	dir := filepath.Join(t.TempDir(), "model")
	if err := net.Save(dir, Meta{Seed: 11, Step: 5, SDE: []byte(`{"name":"vp"}`)}); err != nil {
		t.Fatal(err)
	}
	// Saving again (a later step) replaces the checkpoint folder.
	if err := net.Save(dir, Meta{Seed: 11, Step: 6, SDE: []byte(`{"name":"vp"}`)}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var ckpts []string
	for _, e := range entries {
		if e.IsDir() {
			ckpts = append(ckpts, e.Name())
		}
	}
	if len(ckpts) != 1 || ckpts[0] != "ckpt-000000006" {
		t.Errorf("checkpoint folders after two saves: %v", ckpts)
	}
	back, err := Load(be, dir)
	if err != nil {
		t.Fatal(err)
	}
	m := back.Meta()
	if m.Step != 6 || m.Seed != 11 || compactJSON(m.SDE) != `{"name":"vp"}` || m.ScoreNet != net.Config() || m.Versions["pdediff"] == "" {
		t.Errorf("meta after load: %+v", m)
	}
	x := []float64{0.1, -0.3, 2, 0.5}
	cond := []float64{1, -1}
	a, b := make([]float64, 4), make([]float64, 4)
	if err := net.Score(0.3, x, 2, cond, a); err != nil {
		t.Fatal(err)
	}
	if err := back.Score(0.3, x, 2, cond, b); err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("loaded net scores %v, saved net %v", b, a)
		}
	}
	if err := back.SetUseEMA(true); err == nil {
		t.Error("SetUseEMA(true) without EMA weights accepted")
	}
	if _, err := Load(be, t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a model folder") {
		t.Errorf("empty folder: %v", err)
	}
}

func compactJSON(b []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return "invalid: " + err.Error()
	}
	return buf.String()
}

// TestScoreManyBatchSizes goes past GoMLX's 32-shape executor cache.
func TestScoreManyBatchSizes(t *testing.T) {
	be := testBackend(t)
	net, _ := New(be, Config{XDim: 1, Width: 4, HiddenLayers: 1}, 1)
	params, _ := net.ParamValues(ParamScope)
	for rows := 1; rows <= 40; rows++ {
		x := make([]float64, rows)
		for i := range x {
			x[i] = float64(i) / 10
		}
		out := make([]float64, rows)
		if err := net.Score(0.5, x, rows, nil, out); err != nil {
			t.Fatalf("rows %d: %v", rows, err)
		}
		want := hostForward(net.Config(), params, x[rows-1:], nil, 0.5)[0]
		if math.Abs(out[rows-1]-want) > 1e-5*(1+math.Abs(want)) {
			t.Fatalf("rows %d: last score %v, want %v", rows, out[rows-1], want)
		}
	}
}

func TestLoadRejectsOldFormat(t *testing.T) {
	be := testBackend(t)
	dir := t.TempDir()
	old := `{"format": "pdediff-scorenet/1", "scorenet": {"x_dim": 1}, "use_ema": false, "step": 1, "seed": 1, "checkpoint": "ckpt-000000001", "versions": {}}`
	if err := os.WriteFile(filepath.Join(dir, MetaFile), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(be, dir); err == nil || !strings.Contains(err.Error(), "older format") {
		t.Errorf("old-format model: %v", err)
	}
}
