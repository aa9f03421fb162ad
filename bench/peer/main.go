// Command peer measures pdediff side by side with a PyTorch reference written
// in this repository (torch_peer.py) on the same machine, in one run,
// alternating the two sides, and prints a table of ratios.
//
// Usage (make bench-peer):
//
//	GOEXPERIMENT=simd go run ./bench/peer [-reps 2] [-tasks train,forward,sample] [-md FILE]
//
// It needs python3 with torch (Debian: python3-torch libopenblas0-pthread) and,
// for the sampling task, scipy (python3-scipy); without them it says so and
// exits with status 2. No test depends on it. Both sides use the same number
// of threads (-threads, default GOMAXPROCS); OpenBLAS runs single-threaded
// under torch's own intra-op threads (OPENBLAS_NUM_THREADS=1).
//
// Tasks, each on the paper's two networks where it applies (theory §4.1):
//
//   - train: optimiser steps per second at batch 1000 (host batch preparation
//     included on both sides; pdediff's steps/s is the difference of two runs
//     of different length, so graph compilation cancels out).
//   - forward: one batched score evaluation over 10,000 rows.
//   - sample: the probability-flow ODE of a trained flux model (4×256, VE) over
//     all rows at once, pdediff's DoPri5 against scipy's RK45, both at
//     rtol = atol = 1e-5 from the same starting state and weights; the figure
//     is rows × NFE per second, and the two results are compared.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute"

	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/backend"
	"github.com/pdediff/pdediff/lib/model"
	"github.com/pdediff/pdediff/lib/sample"
	"github.com/pdediff/pdediff/lib/scorenet"
	"github.com/pdediff/pdediff/lib/sde"
	"github.com/pdediff/pdediff/lib/train"
)

// net is one of the paper's networks.
type net struct {
	name string
	cfg  scorenet.Config
}

var nets = []net{
	{"2×256 (x 1, y 1; §6.1)", scorenet.Config{XDim: 1, YDim: 1, HiddenLayers: 2, Width: 256}},
	{"4×256 (x 30, y 30, mask 30; §6.2)", scorenet.Config{XDim: 30, YDim: 30, MaskDim: 30, HiddenLayers: 4, Width: 256}},
}

// row is one line of the result table: the values of both sides per repetition.
type row struct {
	what, unit  string
	higherWins  bool // steps/s and throughputs: higher is better; times: lower
	torch, ours []float64
	note        string
}

func main() {
	reps := flag.Int("reps", 2, "repetitions (each runs both sides, alternating which goes first)")
	tasks := flag.String("tasks", "train,forward,sample", "comma-separated tasks: train, forward, sample")
	threads := flag.Int("threads", runtime.GOMAXPROCS(0), "threads for both sides")
	python := flag.String("python", defaultPython(), "python interpreter with torch")
	modelDir := flag.String("model", "figures/flux-standard/models/ve-0.05", "trained VE flux model for the sample task")
	obs := flag.Int("obs", 10, "sample task: observations (one conditioning row each)")
	draws := flag.Int("draws", 1000, "sample task: draws per observation")
	trainSteps := flag.Int("train-steps", 200, "train task: timed optimiser steps per side")
	md := flag.String("md", "", "also write the table (Markdown) to this file")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (both sides' waits included) to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/peer:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*reps, strings.Split(*tasks, ","), *threads, *python, *modelDir, *obs, *draws, *trainSteps, *md); err != nil {
		fmt.Fprintln(os.Stderr, "bench/peer:", err)
		var pe peerMissing
		if errors.As(err, &pe) {
			pprof.StopCPUProfile()
			os.Exit(2)
		}
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func defaultPython() string {
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3" // Debian's, where python3-torch installs
	}
	return "python3"
}

type peerMissing struct{ msg string }

func (p peerMissing) Error() string { return p.msg }

func run(reps int, tasks []string, threads int, python, modelDir string, obs, draws, trainSteps int, md string) error {
	for _, t := range tasks {
		if !slices.Contains([]string{"train", "forward", "sample"}, t) {
			return fmt.Errorf("unknown task %q (want train, forward, sample)", t)
		}
	}
	switch {
	case reps < 1:
		return fmt.Errorf("-reps must be ≥ 1, got %d", reps)
	case threads < 1:
		return fmt.Errorf("-threads must be ≥ 1, got %d", threads)
	case obs < 1 || draws < 1:
		return fmt.Errorf("-obs and -draws must be ≥ 1")
	case trainSteps < 10:
		return fmt.Errorf("-train-steps must be ≥ 10, got %d", trainSteps)
	}
	peer := &peerRunner{python: python, threads: threads}
	if err := peer.check(slices.Contains(tasks, "sample")); err != nil {
		return err
	}
	if slices.Contains(tasks, "sample") {
		if err := model.CheckDir(modelDir); err != nil {
			return fmt.Errorf("-model: %w", err)
		}
	}
	runtime.GOMAXPROCS(threads)
	be, err := backend.New()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "pdediff-peer-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	var rows []*row
	get := func(what, unit string, higher bool) *row {
		for _, r := range rows {
			if r.what == what {
				return r
			}
		}
		r := &row{what: what, unit: unit, higherWins: higher}
		rows = append(rows, r)
		return r
	}
	started := time.Now()
	for rep := range reps {
		torchFirst := rep%2 == 1
		for _, task := range tasks {
			switch task {
			case "train":
				for _, nt := range nets {
					r := get("train step, "+nt.name+", batch 1000", "steps/s", true)
					err := both(torchFirst, func() error {
						v, err := oursTrain(be, nt.cfg, trainSteps)
						r.ours = append(r.ours, v)
						return err
					}, func() error {
						out, err := peer.run(map[string]any{"task": "train", "x_dim": nt.cfg.XDim, "cond_dim": nt.cfg.CondDim(),
							"width": nt.cfg.Width, "layers": nt.cfg.HiddenLayers, "rows": 10000, "batch": 1000,
							"warmup": 20, "steps": trainSteps, "sigma_max": 12.0})
						r.torch = append(r.torch, out["steps_per_s"])
						return err
					})
					if err != nil {
						return err
					}
					progress(started, r)
				}
			case "forward":
				for _, nt := range nets {
					r := get("forward, "+nt.name+", 10,000 rows", "ms", false)
					err := both(torchFirst, func() error {
						v, err := oursForward(be, nt.cfg, 10000, 20)
						r.ours = append(r.ours, v)
						return err
					}, func() error {
						out, err := peer.run(map[string]any{"task": "forward", "x_dim": nt.cfg.XDim, "cond_dim": nt.cfg.CondDim(),
							"width": nt.cfg.Width, "layers": nt.cfg.HiddenLayers, "rows": 10000, "warmup": 3, "reps": 20})
						r.torch = append(r.torch, out["ms"])
						return err
					})
					if err != nil {
						return err
					}
					progress(started, r)
				}
			case "sample":
				dir := filepath.Join(tmp, "sample")
				m, err := prepareSample(be, modelDir, dir, obs, draws)
				if err != nil {
					return err
				}
				r := get(fmt.Sprintf("PF-ODE, DoPri5 vs scipy RK45 at 1e-5, 4×256 VE flux model, %d rows", obs*draws), "rows·NFE/s", true)
				var res sampleResult
				torchNFE := 0
				err = both(torchFirst, func() error {
					var err error
					res, err = oursSample(m, dir)
					r.ours = append(r.ours, res.throughput)
					return err
				}, func() error {
					out, err := peer.run(map[string]any{"task": "sample", "dir": dir})
					r.torch = append(r.torch, out["rows_nfe_per_s"])
					torchNFE = int(out["nfe"])
					return err
				})
				if err != nil {
					return err
				}
				diff, err := compareSamples(dir, res.x)
				if err != nil {
					return err
				}
				r.note = fmt.Sprintf("NFE %d (pdediff) vs %d (scipy); samples differ by ≤ %.2g × their std", res.nfe, torchNFE, diff)
				progress(started, r)
			}
		}
	}
	table := render(rows, reps, threads, peer.version)
	fmt.Print(table)
	if md != "" {
		return os.WriteFile(md, []byte(table), 0o644)
	}
	return nil
}

// both runs the two sides in the requested order.
func both(torchFirst bool, ours, torch func() error) error {
	first, second := ours, torch
	if torchFirst {
		first, second = torch, ours
	}
	if err := first(); err != nil {
		return err
	}
	return second()
}

func progress(started time.Time, r *row) {
	fmt.Fprintf(os.Stderr, "[%5.0f s] %s: pdediff %.4g, PyTorch %.4g %s\n", time.Since(started).Seconds(), r.what,
		r.ours[len(r.ours)-1], r.torch[len(r.torch)-1], r.unit)
}

// peerRunner runs torch_peer.py.
type peerRunner struct {
	python  string
	threads int
	version string
	script  string
}

func (p *peerRunner) check(needScipy bool) error {
	_, self, _, _ := runtime.Caller(0)
	p.script = filepath.Join(filepath.Dir(self), "torch_peer.py")
	if _, err := os.Stat(p.script); err != nil {
		if _, err2 := os.Stat("bench/peer/torch_peer.py"); err2 != nil {
			return fmt.Errorf("cannot find torch_peer.py (run from the repository root): %w", err)
		}
		p.script = "bench/peer/torch_peer.py"
	}
	imports := "import torch; print(torch.__version__)"
	if needScipy {
		imports = "import scipy, torch; print(torch.__version__)"
	}
	out, err := exec.Command(p.python, "-c", imports).CombinedOutput()
	if err != nil {
		need, pkgs := "torch", "python3-torch libopenblas0-pthread"
		if needScipy {
			need, pkgs = "torch and scipy", pkgs+" python3-scipy"
		}
		return peerMissing{fmt.Sprintf("the PyTorch peer needs %s with %s (Debian: apt-get install %s): %v: %s",
			p.python, need, pkgs, err, strings.TrimSpace(string(out)))}
	}
	p.version = strings.TrimSpace(string(out))
	return nil
}

func (p *peerRunner) run(spec map[string]any) (map[string]float64, error) {
	spec["threads"] = p.threads
	js, _ := json.Marshal(spec)
	cmd := exec.Command(p.python, p.script, string(js))
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS="+fmt.Sprint(p.threads))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("torch_peer.py %s: %w", spec["task"], err)
	}
	res := map[string]any{}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("torch_peer.py %s: unreadable output %q: %w", spec["task"], out, err)
	}
	vals := map[string]float64{}
	for k, v := range res {
		if f, ok := v.(float64); ok {
			vals[k] = f
		}
	}
	return vals, nil
}

// benchData is N(0, 1) training rows, as in lib/train's benchmarks.
func benchData(cfg scorenet.Config, n int) train.Data {
	rng := rand.New(rand.NewPCG(1, 1))
	d := train.Data{X: make([]float64, n*cfg.XDim), Cond: make([]float64, n*cfg.CondDim()), N: n}
	for i := range d.X {
		d.X[i] = rng.NormFloat64()
	}
	for i := range d.Cond {
		d.Cond[i] = rng.NormFloat64()
	}
	return d
}

// oursTrain returns pdediff's optimiser steps per second: two fresh trainings
// of 20 and 20+steps steps (10,000 rows, batch 1000, VE), timed whole; the
// difference removes graph compilation and set-up.
func oursTrain(be compute.Backend, cfg scorenet.Config, steps int) (float64, error) {
	proc, err := sde.NewVE(12, 1)
	if err != nil {
		return 0, err
	}
	data := benchData(cfg, 10000)
	timeRun := func(epochs int) (time.Duration, error) {
		n, err := scorenet.New(be, cfg, 1)
		if err != nil {
			return 0, err
		}
		start := time.Now()
		_, err = train.Train(context.Background(), n, proc, data, train.Config{Epochs: epochs, BatchSize: 1000, Seed: 1})
		return time.Since(start), err
	}
	short, err := timeRun(2)
	if err != nil {
		return 0, err
	}
	epochs := 2 + (steps+9)/10
	long, err := timeRun(epochs)
	if err != nil {
		return 0, err
	}
	return float64((epochs-2)*10) / (long - short).Seconds(), nil
}

// oursForward returns the median wall time in ms of one Net.Score over rows rows.
func oursForward(be compute.Backend, cfg scorenet.Config, rows, reps int) (float64, error) {
	n, err := scorenet.New(be, cfg, 1)
	if err != nil {
		return 0, err
	}
	d := benchData(cfg, rows)
	out := make([]float64, rows*cfg.XDim)
	var times []float64
	for i := range reps + 3 {
		start := time.Now()
		if err := n.Score(0.5, d.X, rows, d.Cond, out); err != nil {
			return 0, err
		}
		if i >= 3 {
			times = append(times, 1e3*time.Since(start).Seconds())
		}
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}

// sampleTask is the prepared sampling problem.
type sampleTask struct {
	m    *model.Model
	xT   []float64
	cond []float64
	rows int
	eps  float64
}

type sampleResult struct {
	x          []float64
	nfe        int
	throughput float64
}

// prepareSample loads the model and writes, for the PyTorch side, its weights
// (w<l>.npy [out, in], b<l>.npy), net.json, the starting state xT.npy and the
// conditioning rows cond.npy (obs rows of N(0, 1) values, each repeated draws times).
func prepareSample(be compute.Backend, modelDir, dir string, obs, draws int) (*sampleTask, error) {
	m, err := model.Load(be, modelDir)
	if err != nil {
		return nil, err
	}
	ve, ok := m.Process.(*sde.VE)
	if !ok {
		return nil, fmt.Errorf("-model %s: the sample task needs a VE model, this one is %s", modelDir, m.Process.Name())
	}
	c := m.Net.Config()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	params, err := m.Net.ParamValues(scorenet.ParamScope)
	if m.Net.UseEMA() {
		params, err = m.Net.ParamValues(scorenet.EMAScope)
	}
	if err != nil {
		return nil, err
	}
	in := c.InputDim()
	for l := range c.HiddenLayers + 1 {
		out := c.Width
		if l == c.HiddenLayers {
			out = c.XDim
		}
		if err := arrayio.WriteNPY(filepath.Join(dir, fmt.Sprintf("w%d.npy", l)), arrayio.Matrix(out, in, f64(params[2*l]))); err != nil {
			return nil, err
		}
		if err := arrayio.WriteNPY(filepath.Join(dir, fmt.Sprintf("b%d.npy", l)), arrayio.Vector(f64(params[2*l+1]))); err != nil {
			return nil, err
		}
		in = out
	}
	rows := obs * draws
	rng := rand.New(rand.NewPCG(7, 7))
	t := &sampleTask{m: m, rows: rows, eps: sample.DefaultEps, xT: make([]float64, rows*c.XDim), cond: make([]float64, rows*c.CondDim())}
	for i := range t.xT {
		t.xT[i] = ve.PriorStd() * rng.NormFloat64()
	}
	one := make([]float64, c.CondDim())
	for o := range obs {
		for j := range one {
			one[j] = rng.NormFloat64()
		}
		for k := range draws {
			copy(t.cond[(o*draws+k)*c.CondDim():], one)
		}
	}
	meta := map[string]any{"x_dim": c.XDim, "cond_dim": c.CondDim(), "width": c.Width, "layers": c.HiddenLayers,
		"output":    map[bool]string{true: "noise", false: "score"}[c.NoiseOutput()],
		"sigma_max": ve.SigmaMax(), "T": ve.T(), "eps": t.eps, "rtol": 1e-5, "atol": 1e-5}
	if err := arrayio.WriteJSON(filepath.Join(dir, "net.json"), meta); err != nil {
		return nil, err
	}
	if err := arrayio.WriteNPY(filepath.Join(dir, "xT.npy"), arrayio.Matrix(rows, c.XDim, t.xT)); err != nil {
		return nil, err
	}
	return t, arrayio.WriteNPY(filepath.Join(dir, "cond.npy"), arrayio.Matrix(rows, c.CondDim(), t.cond))
}

func f64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// oursSample runs DoPri5 at rtol = atol = 1e-5 from the prepared state.
func oursSample(t *sampleTask, dir string) (sampleResult, error) {
	score, err := t.m.ScoreFunc(t.cond)
	if err != nil {
		return sampleResult{}, err
	}
	d := t.m.Net.Config().XDim
	start := time.Now()
	res, err := sample.DoPri5(t.m.Process, score, sample.Options{D: d, XT: t.xT, Eps: t.eps, Rtol: 1e-5, Atol: 1e-5})
	if err != nil {
		return sampleResult{}, err
	}
	wall := time.Since(start).Seconds()
	return sampleResult{x: res.X, nfe: res.NFE, throughput: float64(t.rows*res.NFE) / wall}, nil
}

// compareSamples returns max |x_pdediff − x_torch| over the per-component
// standard deviation of the samples.
func compareSamples(dir string, x []float64) (float64, error) {
	a, err := arrayio.ReadNPY(filepath.Join(dir, "x_torch.npy"))
	if err != nil {
		return 0, err
	}
	if len(a.Data) != len(x) {
		return 0, fmt.Errorf("x_torch.npy has %d values, want %d", len(a.Data), len(x))
	}
	var mean, m2, worst float64
	for i, v := range x {
		worst = math.Max(worst, math.Abs(v-a.Data[i]))
		dm := v - mean
		mean += dm / float64(i+1)
		m2 += dm * (v - mean)
	}
	return worst / math.Sqrt(m2/float64(len(x))), nil
}

func render(rows []*row, reps, threads int, torchVersion string) string {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "pdediff vs PyTorch %s, %d threads each, %d alternating repetitions, %s, %s, load before: %s\n\n",
		torchVersion, threads, reps, time.Now().UTC().Format("2006-01-02 15:04 UTC"), host, loadavg())
	b.WriteString("| what | unit | PyTorch | pdediff | pdediff / PyTorch (speed) |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		var ratios []float64
		for i := range min(len(r.ours), len(r.torch)) {
			q := r.ours[i] / r.torch[i]
			if !r.higherWins {
				q = r.torch[i] / r.ours[i]
			}
			ratios = append(ratios, q)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | **%s** |\n", r.what, r.unit, span(r.torch), span(r.ours), span(ratios))
	}
	for _, r := range rows {
		if r.note != "" {
			fmt.Fprintf(&b, "\n%s: %s\n", r.what, r.note)
		}
	}
	return b.String()
}

// span formats the range of the values, "a–b" (or one value).
func span(v []float64) string {
	if len(v) == 0 {
		return "—"
	}
	lo, hi := slices.Min(v), slices.Max(v)
	if fmt.Sprintf("%.3g", lo) == fmt.Sprintf("%.3g", hi) {
		return fmt.Sprintf("%.3g", lo)
	}
	return fmt.Sprintf("%.3g–%.3g", lo, hi)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
