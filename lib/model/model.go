package model

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/gomlx/compute"

	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/sample"
	"github.com/pdediff/pdediff/lib/scorenet"
	"github.com/pdediff/pdediff/lib/sde"
	"github.com/pdediff/pdediff/lib/train"
)

// Data describes what a model was trained on.
type Data struct {
	// Name identifies the data set, e.g. "toy/tanh" or "flux/linear".
	Name string `json:"name"`
	// XDim, YDim and MaskDim are the dimensions of x, of the measurement y and
	// of the sensor mask (0 = none).
	XDim    int `json:"x_dim"`
	YDim    int `json:"y_dim"`
	MaskDim int `json:"mask_dim"`
	// Rows is the number of training pairs.
	Rows int `json:"rows"`
	// Fingerprint is Fingerprint(x, cond) of the training rows.
	Fingerprint string `json:"fingerprint"`
	// Info holds anything else a user of the model needs without the data
	// folder (scaling, noise std, problem, data seed), opaque here.
	Info json.RawMessage `json:"info,omitempty"`
}

// Fingerprint returns a short hex digest of the training rows (the float64
// bit patterns of x, then cond): equal data give equal fingerprints.
func Fingerprint(x, cond []float64) string {
	h := fnv.New64a()
	var b [8]byte
	for _, part := range [][]float64{x, cond} {
		binary.LittleEndian.PutUint64(b[:], uint64(len(part)))
		h.Write(b[:])
		for _, v := range part {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
			h.Write(b[:])
		}
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// Model is a trained network with its process and data description.
type Model struct {
	// Net is the score network S(x_t, y, mask, t).
	Net *scorenet.Net
	// Process is the forward process the network was trained under, and
	// ProcessConfig its recorded configuration.
	Process       sde.Process
	ProcessConfig sde.Config
	// Data describes the training data.
	Data Data
	// Dir is the model folder (empty for a model never saved).
	Dir string
}

// extra is what the model layer stores in the scorenet sidecar's Extra field.
type extra struct {
	Data  Data            `json:"data"`
	Run   json.RawMessage `json:"run,omitempty"`
	Model string          `json:"model"`
}

// layout names the sidecar layout of this package inside scorenet's Extra.
const layout = "pdediff-model/1"

// Load reads a model folder written by TrainOrResume: network, process and
// data description, for any x, y and mask dimensions.
func Load(backend compute.Backend, dir string) (*Model, error) {
	net, err := scorenet.Load(backend, dir)
	if err != nil {
		return nil, err
	}
	return fromNet(net, dir)
}

func fromNet(net *scorenet.Net, dir string) (*Model, error) {
	meta := net.Meta()
	var cfg sde.Config
	if err := json.Unmarshal(meta.SDE, &cfg); err != nil || cfg.Process == "" {
		return nil, fmt.Errorf("model: %s records no forward process (not a pdediff model folder, or an older one: retrain it)", dir)
	}
	proc, err := sde.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", dir, err)
	}
	var ex extra
	if len(meta.Extra) > 0 {
		_ = json.Unmarshal(meta.Extra, &ex)
	}
	if ex.Model != layout {
		return nil, fmt.Errorf("model: %s records no training-data description (made by an older pdediff: retrain it)", dir)
	}
	c := net.Config()
	if c.XDim != ex.Data.XDim || c.YDim != ex.Data.YDim || c.MaskDim != ex.Data.MaskDim {
		return nil, fmt.Errorf("model: %s: network dimensions (x %d, y %d, mask %d) disagree with its data description (x %d, y %d, mask %d)",
			dir, c.XDim, c.YDim, c.MaskDim, ex.Data.XDim, ex.Data.YDim, ex.Data.MaskDim)
	}
	net.SetStd(proc.Std)
	return &Model{Net: net, Process: proc, ProcessConfig: cfg, Data: ex.Data, Dir: dir}, nil
}

// Run returns the run information recorded with the model (the Spec.Run of
// its training), or nil.
func (m *Model) Run() json.RawMessage {
	var ex extra
	if meta := m.Net.Meta(); meta != nil && len(meta.Extra) > 0 {
		_ = json.Unmarshal(meta.Extra, &ex)
	}
	return ex.Run
}

// ScoreFunc returns the network's score with the conditioning row cond (y
// followed by the mask) shared by every point, or one row per point (see
// scorenet.Net.ScoreFunc).
func (m *Model) ScoreFunc(cond []float64) (sample.ScoreFunc, error) {
	return m.Net.ScoreFunc(cond)
}

// Spec is everything that defines a training run.
type Spec struct {
	// Process is the forward process.
	Process sde.Config
	// Net is the architecture; its XDim, YDim and MaskDim are taken from Data.
	Net scorenet.Config
	// Train is the optimiser configuration (CheckpointDir, SDE and Extra are
	// set by TrainOrResume).
	Train train.Config
	// Data describes the rows passed to TrainOrResume (Rows and Fingerprint
	// are filled in from them).
	Data Data
	// InitSeed seeds the initial weights.
	InitSeed uint64
	// Run is recorded with the model (e.g. the experiment preset).
	Run json.RawMessage
}

// Info summarises one TrainOrResume call.
type Info struct {
	Dir       string  `json:"dir"`
	Steps     int64   `json:"steps"`
	FinalLoss float64 `json:"final_loss"`
	Resumed   bool    `json:"resumed"`
	// Seconds is the wall time of this call (not recorded in committed files).
	Seconds float64 `json:"-"`
}

// CheckDir reports whether dir can hold a model: absent (to be created), an
// empty folder or a model folder. A regular file or a folder with other
// content is refused before any work starts.
func CheckDir(dir string) error {
	if dir == "" {
		return errors.New("model: no model folder given")
	}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("model: %w", err)
	case !st.IsDir():
		return fmt.Errorf("model: %s is a file, not a model folder", dir)
	}
	if scorenet.Exists(dir) {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("model: %w", err)
	}
	for _, e := range entries {
		if len(e.Name()) > 0 && e.Name()[0] != '.' {
			return fmt.Errorf("model: %s is not empty and holds no model (found %s): choose another folder", dir, e.Name())
		}
	}
	return nil
}

// ExportWeights writes the model folder src's sampling weights (its EMA
// weights when it samples with them) into the new folder dst, with the same
// process, data description and run record but without optimiser state, EMA
// copy or loss history, and without the training folder's path: a folder to
// commit or ship, which Load and every sampler read as src (same scores, bit
// for bit) and TrainOrResume refuses to continue. dst must be absent or an
// empty folder; it appears whole or not at all.
func ExportWeights(backend compute.Backend, src, dst string) error {
	m, err := Load(backend, src)
	if err != nil {
		return err
	}
	if err := CheckNewDir(dst); err != nil {
		return err
	}
	meta := *m.Net.Meta()
	var tc map[string]any
	if len(meta.Training) > 0 {
		if err := json.Unmarshal(meta.Training, &tc); err != nil {
			return fmt.Errorf("model: %s: training record: %w", src, err)
		}
		delete(tc, "checkpoint_dir")
		if meta.Training, err = json.Marshal(tc); err != nil {
			return err
		}
	}
	parent := filepath.Dir(filepath.Clean(dst))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("model: %w", err)
	}
	tmp, err := arrayio.MkdirTemp(parent, "export")
	if err != nil {
		return fmt.Errorf("model: %w", err)
	}
	defer os.RemoveAll(tmp) // no-op after the rename
	if err := m.Net.SaveWeights(tmp, meta); err != nil {
		return fmt.Errorf("model: exporting %s: %w", src, err)
	}
	_ = os.Remove(dst) // an empty folder (CheckDir let nothing else through)
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("model: %w", err)
	}
	return nil
}

// CheckNewDir reports whether dir can receive a new model: absent or an
// empty folder (CheckDir, without accepting an existing model).
func CheckNewDir(dir string) error {
	if err := CheckDir(dir); err != nil {
		return err
	}
	if scorenet.Exists(dir) {
		return fmt.Errorf("model: %s already holds a model: choose another folder", dir)
	}
	return nil
}

// TrainOrResume trains the model of spec on data into dir, or resumes the
// model saved there (a finished one is returned as it is). It refuses, before
// any training, a folder whose model has another process, another network or
// was trained on other data, naming the difference.
func TrainOrResume(ctx context.Context, backend compute.Backend, dir string, spec Spec, data train.Data, progress io.Writer) (*Model, Info, error) {
	info := Info{Dir: dir}
	if err := CheckDir(dir); err != nil {
		return nil, info, err
	}
	if _, err := sde.New(spec.Process); err != nil {
		return nil, info, fmt.Errorf("model: %w", err)
	}
	d := spec.Data
	d.Rows = data.N
	d.Fingerprint = Fingerprint(data.X, data.Cond)
	ncfg := spec.Net
	ncfg.XDim, ncfg.YDim, ncfg.MaskDim = d.XDim, d.YDim, d.MaskDim
	ncfg = ncfg.WithDefaults()
	if err := ncfg.Validate(); err != nil {
		return nil, info, fmt.Errorf("model: %w", err)
	}
	if err := data.Validate(ncfg); err != nil {
		return nil, info, fmt.Errorf("model: %w", err)
	}
	var net *scorenet.Net
	var err error
	if scorenet.Exists(dir) {
		if net, err = scorenet.Load(backend, dir); err != nil {
			return nil, info, fmt.Errorf("model: resume from %s: %w (delete the folder to start over)", dir, err)
		}
		if m := net.Meta(); m != nil && m.WeightsOnly {
			return nil, info, fmt.Errorf("model: %s holds exported weights only (no optimiser state): it samples but cannot be trained further; train into another folder", dir)
		}
		old, err := fromNet(net, dir)
		if err != nil {
			return nil, info, err
		}
		if err := sameRun(dir, old, spec.Process, ncfg, d); err != nil {
			return nil, info, err
		}
		info.Resumed = true
	} else if net, err = scorenet.New(backend, ncfg, spec.InitSeed); err != nil {
		return nil, info, err
	}
	sdeJSON, _ := json.Marshal(spec.Process)
	exJSON, _ := json.Marshal(extra{Data: d, Run: spec.Run, Model: layout})
	tc := spec.Train
	tc.CheckpointDir, tc.SDE, tc.Extra, tc.Progress = dir, sdeJSON, exJSON, progress
	if tc.CheckpointEvery == 0 {
		tc.CheckpointEvery = 5000
	}
	proc, _ := sde.New(spec.Process)
	net.SetStd(proc.Std)
	start := time.Now()
	res, err := train.Train(ctx, net, proc, data, tc)
	info.Seconds = time.Since(start).Seconds()
	if res != nil {
		info.Steps = res.Steps
		if n := len(res.Losses); n > 0 {
			info.FinalLoss = res.Losses[n-1]
		}
	}
	if err != nil {
		return nil, info, fmt.Errorf("model: training into %s: %w", dir, err)
	}
	// Sample as a loaded copy of this folder would: with the EMA weights when
	// training kept them.
	if tc.EMADecay > 0 {
		if err := net.SetUseEMA(true); err != nil {
			return nil, info, fmt.Errorf("model: %s: %w", dir, err)
		}
	}
	// A finished model returned as it is ran no step in this call: its final
	// loss is the last entry of the saved history, so the value does not
	// depend on whether this call trained or reused the model.
	if res == nil || len(res.Losses) == 0 {
		if h, err := arrayio.ReadNPY(filepath.Join(dir, train.LossFile)); err == nil && len(h.Data) > 0 {
			info.FinalLoss = h.Data[len(h.Data)-1]
		}
	}
	return &Model{Net: net, Process: proc, ProcessConfig: spec.Process, Data: d, Dir: dir}, info, nil
}

// sameRun names the first difference between a saved model and a request.
func sameRun(dir string, old *Model, proc sde.Config, net scorenet.Config, d Data) error {
	switch oc := old.Net.Config(); {
	case old.ProcessConfig != proc:
		return fmt.Errorf("model: %s holds a model of process %s; this run asks for process %s (use another folder or delete it)",
			dir, describe(old.ProcessConfig), describe(proc))
	case oc != net:
		return fmt.Errorf("model: %s holds a network %+v; this run needs %+v (use another folder or delete it)", dir, oc, net)
	case old.Data.Name != d.Name || old.Data.Rows != d.Rows || old.Data.Fingerprint != d.Fingerprint:
		return fmt.Errorf("model: %s was trained on other data (%s, %d rows, fingerprint %s); this run has %s, %d rows, fingerprint %s (use another folder or delete it)",
			dir, old.Data.Name, old.Data.Rows, old.Data.Fingerprint, d.Name, d.Rows, d.Fingerprint)
	case !reflect.DeepEqual(jsonNorm(old.Data.Info), jsonNorm(d.Info)):
		return fmt.Errorf("model: %s was trained with other data settings (%s); this run has %s", dir, old.Data.Info, d.Info)
	}
	return nil
}

func jsonNorm(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	return v
}

func describe(c sde.Config) string {
	switch c.Process {
	case "ve":
		return fmt.Sprintf("ve (sigma_max %g, T %g)", c.SigmaMax, c.T)
	case "vpfamily":
		return fmt.Sprintf("vpfamily (kappa %g, %s, beta %g–%g, T %g)", c.Kappa, c.Variant, c.BetaMin, c.BetaMax, c.T)
	default:
		return fmt.Sprintf("%s (beta %g–%g, T %g)", c.Process, c.BetaMin, c.BetaMax, c.T)
	}
}
