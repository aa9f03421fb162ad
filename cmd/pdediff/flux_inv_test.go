package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/datasets/flux"
	"github.com/pdediff/pdediff/lib/experiment/fluxinv"
	"github.com/pdediff/pdediff/lib/posterior"
)

// fluxInvFiles is the fixture of the flux inversion CLI tests: data folders
// on a tiny mesh (noise 0.1 and 0), a model of each trained for two epochs
// (the CLI contract is tested here, not the quality; see
// lib/experiment/fluxinv), and readings and true fluxes as .npy files.
type fluxInvFiles struct {
	err                error
	data, data0        string
	model, model0      string
	readings, truth    string
	readings1, truth1_ string
}

func newFluxInvFixture(t *testing.T) *fluxInvFiles {
	t.Helper()
	root := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(root, "cache")) // the response-matrix cache of the tiny mesh
	f := &fluxInvFiles{}
	func() {
		runOK := func(args ...string) error {
			var out, errb bytes.Buffer
			if code := run(args, &out, &errb); code != 0 {
				return fmt.Errorf("%v: exit %d: %s", args, code, errb.String())
			}
			return nil
		}
		f.data, f.data0 = filepath.Join(root, "data"), filepath.Join(root, "data0")
		f.model, f.model0 = filepath.Join(root, "model"), filepath.Join(root, "model0")
		for _, c := range [][]string{
			{"flux", "data", "--nx", "34", "--ny", "8", "--noise", "0.1", "--n-train", "300", "--n-test", "6", "--seed", "2", "--out", f.data, "--quiet"},
			{"flux", "data", "--nx", "34", "--ny", "8", "--noise", "0", "--n-train", "300", "--n-test", "6", "--seed", "2", "--out", f.data0, "--quiet"},
			{"flux", "train", "--data", f.data, "--process", "vp", "--preset", "quick", "--epochs", "2", "--out", f.model, "--quiet"},
			{"flux", "train", "--data", f.data0, "--process", "ve", "--preset", "quick", "--epochs", "2", "--out", f.model0, "--quiet"},
		} {
			if f.err = runOK(c...); f.err != nil {
				return
			}
		}
		ds, err := flux.Load(f.data)
		if err != nil {
			f.err = err
			return
		}
		f.readings, f.truth = filepath.Join(root, "y.npy"), filepath.Join(root, "q.npy")
		f.readings1, f.truth1_ = filepath.Join(root, "y1.npy"), filepath.Join(root, "q1.npy")
		for _, w := range []struct {
			path  string
			shape []int
			data  []float64
		}{{f.readings, []int{4, 30}, ds.Test.ReadingsNoisy[:4*30]}, {f.truth, []int{4, 30}, ds.Test.Q[:4*30]},
			{f.readings1, []int{30}, ds.Test.ReadingsNoisy[:30]}, {f.truth1_, []int{1, 30}, ds.Test.Q[:30]}} {
			if f.err = writeNPYFile(w.path, w.shape, w.data); f.err != nil {
				return
			}
		}
	}()
	if f.err != nil {
		t.Fatal(f.err)
	}
	return f
}

// writeNPYFile writes a little-endian float64 .npy (NaN allowed).
func writeNPYFile(path string, shape []int, data []float64) error {
	dims := ""
	for _, s := range shape {
		dims += fmt.Sprint(s) + ","
	}
	hdr := "{'descr': '<f8', 'fortran_order': False, 'shape': (" + dims + "), }"
	hdr += strings.Repeat(" ", (64-(10+len(hdr)+1)%64)%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	var l [2]byte
	binary.LittleEndian.PutUint16(l[:], uint16(len(hdr)))
	b.Write(l[:])
	b.WriteString(hdr)
	for _, v := range data {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], math.Float64bits(v))
		b.Write(w[:])
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// nbits is a bit-exact fingerprint of a float64 slice.
func nbits(v []float64) string {
	var b strings.Builder
	for _, x := range v {
		fmt.Fprintf(&b, "%x,", math.Float64bits(x))
	}
	return b.String()
}

func runFlux(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestFluxInversionCLI checks the commands train, sample, exact and eval on
// one fixture: the output contract, then bad input.
func TestFluxInversionCLI(t *testing.T) {
	f := newFluxInvFixture(t)
	t.Run("contract", func(t *testing.T) { fluxInvContract(t, f) })
	t.Run("bad input", func(t *testing.T) { fluxInvBadInput(t, f) })
}

func fluxInvContract(t *testing.T, f *fluxInvFiles) {
	dir := t.TempDir()
	p := filepath.Join(dir, "p.npz")
	if code, _, e := runFlux(t, "flux", "sample", "--model", f.model, "--readings", f.readings, "--n", "16", "--sampler", "ode",
		"--rtol", "1e-3", "--atol", "1e-3", "--seed", "3", "--out", p, "--quiet"); code != 0 {
		t.Fatalf("flux sample: exit %d: %s", code, e)
	}
	pf, err := fluxinv.ReadPosteriorFile(p)
	if err != nil {
		t.Fatal(err)
	}
	a, err := fluxinv.ReadNPZFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for name, shape := range map[string]string{"q": "[4 16 30]", "mean": "[4 30]", "std": "[4 30]", "nfe": "[4]"} {
		if got := fmt.Sprint(a[name].Shape); got != shape {
			t.Errorf("array %s has shape %s, want %s", name, got, shape)
		}
	}
	if pf.Meta.Kind != fluxinv.KindModel || pf.Meta.Sampler == nil || pf.Meta.Sampler.Name != "ode" || pf.Meta.Seed != 3 || pf.Meta.Model != f.model || pf.Meta.K != 4 || pf.Meta.NFEMean <= 0 {
		t.Errorf("sidecar %+v", pf.Meta)
	}
	// Same seed → identical files; k = 1 from a (30,) array works as naturally.
	p2 := filepath.Join(dir, "p2.npz")
	runFlux(t, "flux", "sample", "--model", f.model, "--readings", f.readings, "--n", "16", "--sampler", "ode", "--rtol", "1e-3", "--atol", "1e-3", "--seed", "3", "--out", p2, "--quiet")
	b1, _ := os.ReadFile(p)
	b2, _ := os.ReadFile(p2)
	if !bytes.Equal(b1, b2) {
		t.Error("flux sample with the same seed wrote different files")
	}
	p1 := filepath.Join(dir, "p1.npz")
	if code, _, e := runFlux(t, "flux", "sample", "--model", f.model, "--readings", f.readings1, "--n", "8", "--sampler", "sde", "--steps", "20", "--out", p1, "--quiet"); code != 0 {
		t.Fatalf("flux sample k = 1: exit %d: %s", code, e)
	}
	if a1, _ := fluxinv.ReadNPZFile(p1); fmt.Sprint(a1["q"].Shape) != "[1 8 30]" {
		t.Errorf("k = 1: q shape %v", a1["q"].Shape)
	}
	// The end time defaults to the experiments' for the model's process
	// (fluxinv.EndTime: VE 1e-5, VP 1e-3), as a run's cells sample it.
	for _, tc := range []struct {
		model string
		flags []string
		want  float64
	}{
		{f.model, nil, 1e-3},
		{f.model0, nil, 1e-5},
		{f.model0, []string{"--eps", "2e-4"}, 2e-4},
	} {
		pe := filepath.Join(dir, "pe.npz")
		args := append([]string{"flux", "sample", "--model", tc.model, "--readings", f.readings1, "--n", "4", "--sampler", "sde", "--steps", "5", "--out", pe, "--quiet"}, tc.flags...)
		if code, _, e := runFlux(t, args...); code != 0 {
			t.Fatalf("flux sample %v: exit %d: %s", tc.flags, code, e)
		}
		pf, err := fluxinv.ReadPosteriorFile(pe)
		if err != nil || pf.Meta.Sampler == nil || pf.Meta.Sampler.Eps != tc.want {
			t.Errorf("flux sample %s %v: sampler %+v (%v), want eps %g", tc.model, tc.flags, pf.Meta.Sampler, err, tc.want)
		}
		os.Remove(pe)
		os.Remove(fluxinv.SidecarPath(pe))
	}
	// An exported folder (weights only) samples the same draws; it cannot be exported over.
	w := filepath.Join(dir, "weights")
	if code, _, e := runFlux(t, "flux", "export", "--model", f.model, "--out", w); code != 0 {
		t.Fatalf("flux export: exit %d: %s", code, e)
	}
	pw := filepath.Join(dir, "pw.npz")
	if code, _, e := runFlux(t, "flux", "sample", "--model", w, "--readings", f.readings, "--n", "16", "--sampler", "ode",
		"--rtol", "1e-3", "--atol", "1e-3", "--seed", "3", "--out", pw, "--quiet"); code != 0 {
		t.Fatalf("flux sample from the exported folder: exit %d: %s", code, e)
	}
	if aw, err := fluxinv.ReadNPZFile(pw); err != nil || nbits(aw["q"].Data) != nbits(a["q"].Data) {
		t.Errorf("exported weights sample other draws (%v)", err)
	}
	if code, _, e := runFlux(t, "flux", "export", "--model", f.model, "--out", w); code != 2 || !strings.Contains(e, "already holds") && !strings.Contains(e, "not empty") {
		t.Errorf("export over a model: exit %d: %s", code, e)
	}
	if code, _, e := runFlux(t, "flux", "export", "--model", dir, "--out", filepath.Join(dir, "w2")); code != 2 || !strings.Contains(e, "--model") {
		t.Errorf("export of a non-model: exit %d: %s", code, e)
	}
	// Exact posteriors of the same readings.
	e := filepath.Join(dir, "e.npz")
	if code, out, e2 := runFlux(t, "flux", "exact", "--model", f.model, "--readings", f.readings, "--n", "40", "--method", "ess", "--out", e); code != 0 || !strings.Contains(out, "R̂") {
		t.Fatalf("flux exact: exit %d: %s%s", code, out, e2)
	}
	g := filepath.Join(dir, "g.npz")
	if code, _, e2 := runFlux(t, "flux", "exact", "--model", f.model, "--readings", f.readings, "--n", "40", "--method", "gauss", "--out", g); code != 0 {
		t.Fatalf("flux exact gauss: exit %d: %s", code, e2)
	}
	ef, err := fluxinv.ReadPosteriorFile(e)
	if err != nil || ef.Meta.Kind != fluxinv.KindExact || ef.Meta.Method != "ess" || ef.Meta.ESS == nil || ef.Post.RHat == nil {
		t.Fatalf("exact file: %+v, %v", ef, err)
	}
	// Eval with a reference, as JSON: the lib/posterior metrics.
	code, out, e2 := runFlux(t, "flux", "eval", "--posterior", p, "--truth", f.truth, "--reference", e, "--json")
	if code != 0 {
		t.Fatalf("flux eval: exit %d: %s", code, e2)
	}
	var met posterior.Metrics
	if err := json.Unmarshal([]byte(out), &met); err != nil {
		t.Fatalf("flux eval --json: %v\n%s", err, out)
	}
	if met.Cases != 4 || met.Samples != 16 || len(met.Error) != 30 || met.Reference == nil || met.Reference.Samples != 40 || met.PriorStd == nil {
		t.Errorf("metrics %+v", met)
	}
	if code, out, _ := runFlux(t, "flux", "eval", "--posterior", g, "--truth", f.truth); code != 0 || !strings.Contains(out, "normalised error") {
		t.Errorf("flux eval (text): exit %d: %s", code, out)
	}
	if code, _, e := runFlux(t, "flux", "eval", "--posterior", p, "--truth", f.truth1_); code != 2 || !strings.Contains(e, "4 observations but --truth has 1") {
		t.Errorf("eval with mismatched truth: exit %d: %s", code, e)
	}
}

func fluxInvBadInput(t *testing.T, f *fluxInvFiles) {
	dir := t.TempDir()
	out := filepath.Join(dir, "p.npz")
	shape := filepath.Join(dir, "shape.npy")
	_ = writeNPYFile(shape, []int{2, 29}, make([]float64, 58))
	empty := filepath.Join(dir, "empty.npy")
	_ = writeNPYFile(empty, []int{0, 30}, nil)
	nan := filepath.Join(dir, "nan.npy")
	y := make([]float64, 60)
	y[32] = math.NaN() // observation 1, bottom sensor 3
	_ = writeNPYFile(nan, []int{2, 30}, y)
	folder := filepath.Join(dir, "folder.npz")
	_ = os.Mkdir(folder, 0o755)
	notModel := filepath.Join(dir, "not-a-model")
	_ = os.Mkdir(notModel, 0o755)
	missing := filepath.Join(dir, "no-such-model")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"wrong shape", []string{"flux", "sample", "--model", f.model, "--readings", shape, "--out", out}, "shape [2 29], want (k, 30)"},
		{"k = 0", []string{"flux", "sample", "--model", f.model, "--readings", empty, "--out", out}, "k = 0"},
		{"NaN without a mask model", []string{"flux", "sample", "--model", f.model, "--readings", nan, "--out", out}, "reading[1, 2] (bottom sensor 3) is NaN"},
		{"mask for a plain model", []string{"flux", "sample", "--model", f.model, "--readings", f.readings, "--mask", f.readings, "--out", out}, "mask"},
		// The sampler is checked before the model folder is even opened.
		{"unknown sampler", []string{"flux", "sample", "--model", missing, "--readings", f.readings, "--sampler", "magic", "--out", out}, "unknown sampler \"magic\""},
		{"output is a folder", []string{"flux", "sample", "--model", f.model, "--readings", f.readings, "--out", folder}, "folder"},
		{"output not .npz", []string{"flux", "sample", "--model", f.model, "--readings", f.readings, "--out", filepath.Join(dir, "p.txt")}, ".npz"},
		{"not a model", []string{"flux", "sample", "--model", notModel, "--readings", f.readings, "--out", out}, "--model"},
		{"a data folder as --model", []string{"flux", "sample", "--model", f.data, "--readings", f.readings, "--out", out}, "--model"},
		{"n", []string{"flux", "sample", "--model", f.model, "--readings", f.readings, "--n", "1", "--out", out}, "--n must be"},
		{"eps", []string{"flux", "sample", "--model", f.model, "--readings", f.readings, "--eps", "0.5", "--out", out}, "--eps must lie in [0, 0.1)"},
		{"ess at zero noise", []string{"flux", "exact", "--model", f.model0, "--readings", f.readings, "--method", "ess", "--out", out}, "use --method gauss"},
		{"unknown method", []string{"flux", "exact", "--model", f.model, "--readings", f.readings, "--method", "mcmc", "--out", out}, "unknown --method"},
		{"train: no data", []string{"flux", "train", "--data", filepath.Join(dir, "nothing"), "--out", filepath.Join(dir, "m")}, "not a folder"},
		{"train: out is a file", []string{"flux", "train", "--data", f.data, "--out", f.readings}, "--out"},
		{"train: kappa", []string{"flux", "train", "--data", f.data, "--process", "vp", "--kappa", "2", "--out", filepath.Join(dir, "m")}, "vpfamily only"},
		{"train: another process into a model", []string{"flux", "train", "--data", f.data, "--process", "ve", "--epochs", "2", "--out", f.model, "--quiet"}, "process"},
		{"train: model of other data", []string{"flux", "train", "--data", f.data0, "--process", "vp", "--epochs", "2", "--out", f.model, "--quiet"}, "trained on other data"},
		{"experiment: reference on linear", []string{"flux", "experiment", "--reference", dir, "--out", filepath.Join(dir, "x")}, "--reference is for --problem nonlinear"},
		{"experiment: bad cell", []string{"flux", "experiment", "--only", "ve-ode-0.123", "--out", filepath.Join(dir, "x")}, "matches none"},
		{"experiment: preset", []string{"flux", "experiment", "--preset", "huge", "--out", filepath.Join(dir, "x")}, "--preset"},
		{"experiment: sde sampler", []string{"flux", "experiment", "--sde-sampler", "heun", "--out", filepath.Join(dir, "x")}, "--sde-sampler: fluxinv: sde sampler \"heun\" (want one of [sde sde-karras])"},
		{"fixed-mask: no one-model", []string{"flux", "fixed-mask", "--out", filepath.Join(dir, "x")}, "--one-model is required"},
		{"fixed-mask: bad sensor", []string{"flux", "fixed-mask", "--off", "b3,t16", "--one-model", f.model, "--out", filepath.Join(dir, "x")}, "t16"},
		{"fixed-mask: all off", []string{"flux", "fixed-mask", "--off", "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29", "--one-model", f.model, "--out", filepath.Join(dir, "x")}, "every sensor"},
		{"fixed-mask: process", []string{"flux", "fixed-mask", "--process", "sde", "--one-model", f.model, "--out", filepath.Join(dir, "x")}, "--process"},
		{"fixed-mask: not a masked model", []string{"flux", "fixed-mask", "--level", "0.2", "--one-model", f.model, "--out", filepath.Join(dir, "x"), "--quiet"}, "every mask"},
		{"eval: NaN truth", []string{"flux", "eval", "--posterior", out, "--truth", nan}, "not finite"},
		{"epochs: unknown problem", []string{"flux", "epochs", "--problem", "quadratic", "--out", filepath.Join(dir, "x")}, "--problem"},
		{"epochs: nonlinear off its reference level", []string{"flux", "epochs", "--problem", "nonlinear", "--level", "1", "--out", filepath.Join(dir, "x")}, "reference posterior, which preset quick has at noise level 0.05 only"},
		{"epochs: reference for the linear problem", []string{"flux", "epochs", "--reference", dir, "--out", filepath.Join(dir, "x")}, "--reference is for --problem nonlinear"},
		{"epochs: decreasing", []string{"flux", "epochs", "--epochs", "30,10", "--out", filepath.Join(dir, "x")}, "increasing"},
		{"epochs: not a number", []string{"flux", "epochs", "--epochs", "10,ten", "--out", filepath.Join(dir, "x")}, "not a positive integer"},
		{"epochs: level not in preset", []string{"flux", "epochs", "--level", "0.3", "--out", filepath.Join(dir, "x")}, "not a cell of preset"},
		{"epochs: mask resampling on the linear problem", []string{"flux", "epochs", "--mask-resample", "--out", filepath.Join(dir, "x")}, "mask_resample needs the masked problem"},
	} {
		code, _, e := runFlux(t, c.args...)
		t.Logf("%s: exit %d: %s", c.name, code, strings.TrimSpace(e))
		if code == 0 || !strings.Contains(e, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want a failure mentioning %q", c.name, code, e, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed command wrote its output")
	}
}

// TestFluxExactNonlinear: flux exact on a nonlinear model draws the ESS
// reference with the nonlinear likelihood (R̂ recorded); --method gauss is
// refused with a message naming the problem.
func TestFluxExactNonlinear(t *testing.T) {
	root := t.TempDir()
	data, model := filepath.Join(root, "data"), filepath.Join(root, "model")
	for _, c := range [][]string{
		{"flux", "data", "--problem", "nonlinear", "--nx", "34", "--ny", "8", "--noise", "0.05", "--n-train", "100", "--n-test", "2", "--seed", "2", "--out", data, "--quiet"},
		{"flux", "train", "--data", data, "--process", "ve", "--preset", "quick", "--epochs", "1", "--out", model, "--quiet"},
	} {
		if code, _, e := runFlux(t, c...); code != 0 {
			t.Fatalf("%v: exit %d: %s", c, code, e)
		}
	}
	ds, err := flux.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	y := filepath.Join(root, "y.npy")
	if err := writeNPYFile(y, []int{2, 30}, ds.Test.ReadingsNoisy[:60]); err != nil {
		t.Fatal(err)
	}
	e := filepath.Join(root, "e.npz")
	if code, out, e2 := runFlux(t, "flux", "exact", "--model", model, "--readings", y, "--n", "100", "--method", "ess", "--out", e); code != 0 || !strings.Contains(out, "R̂") {
		t.Fatalf("flux exact (nonlinear): exit %d: %s%s", code, out, e2)
	}
	ef, err := fluxinv.ReadPosteriorFile(e)
	if err != nil || ef.Post.K != 2 || ef.Post.N != 100 || ef.Meta.ESS == nil || *ef.Meta.ESS != fluxinv.NonlinearESS() || ef.Meta.RHatMax > 1.2 {
		t.Fatalf("nonlinear exact file: %+v, %v", ef, err)
	}
	if code, _, e2 := runFlux(t, "flux", "exact", "--model", model, "--readings", y, "--n", "100", "--method", "gauss", "--out", filepath.Join(root, "g.npz")); code != 2 || !strings.Contains(e2, "nonlinear problem") {
		t.Errorf("--method gauss on a nonlinear model: exit %d: %s", code, e2)
	}
	// ESS settings from the flags, recorded in the sidecar; chains far too
	// short to converge are flagged on stderr.
	e3 := filepath.Join(root, "e3.npz")
	code, out, e2 := runFlux(t, "flux", "exact", "--model", model, "--readings", y, "--n", "16", "--chains", "2", "--burn-in", "0", "--iterations", "8", "--adapt", "0", "--inflate", "1.1", "--independence", "--out", e3)
	if code != 0 {
		t.Fatalf("flux exact with ESS flags: exit %d: %s%s", code, out, e2)
	}
	f3, err := fluxinv.ReadPosteriorFile(e3)
	if err != nil {
		t.Fatal(err)
	}
	if want := (fluxinv.ESSSettings{Chains: 2, BurnIn: 0, Iterations: 8, Adapt: 0, Inflate: 1.1, Independence: true}); f3.Meta.ESS == nil || *f3.Meta.ESS != want {
		t.Errorf("recorded ESS settings %+v, want %+v", f3.Meta.ESS, want)
	}
	t.Logf("short chains: R̂ max %.3f; %s", f3.Meta.RHatMax, strings.TrimSpace(e2))
	if warned := strings.Contains(e2, "have not converged"); warned != (f3.Meta.RHatMax >= fluxinv.RHatConverged) || !warned {
		t.Errorf("R̂ max %.3f, warning printed %v: %s", f3.Meta.RHatMax, warned, e2)
	}
	for _, bad := range [][]string{{"--method", "gauss", "--iterations", "10"}, {"--inflate", "0.5"}, {"--chains", "-1"}} {
		args := append([]string{"flux", "exact", "--model", model, "--readings", y, "--out", filepath.Join(root, "bad.npz")}, bad...)
		if code, _, e2 := runFlux(t, args...); code != 2 || !strings.Contains(e2, "ess") {
			t.Errorf("%v: exit %d: %s", bad, code, e2)
		}
	}
}
