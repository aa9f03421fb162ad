package fluxinv

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/gomlx/compute"

	"github.com/pdediff/pdediff/datasets/flux"
	"github.com/pdediff/pdediff/lib/model"
	"github.com/pdediff/pdediff/lib/physics"
	"github.com/pdediff/pdediff/lib/scorenet"
)

// D is the dimension of the flux and of the readings (30 segments, 30 sensors).
const D = flux.N

// DataNamePrefix starts the model.Data.Name of every flux model
// ("flux/linear", "flux/linear-masked", "flux/nonlinear").
const DataNamePrefix = "flux/"

// InfoLayout names the layout of Info inside model.Data.Info.
const InfoLayout = "pdediff-flux-model/1"

// Info is what a flux model records about its training data (in
// model.Data.Info), so that it can be used without the data folder: the
// forward model, the noise, the prior, the scalings of q and of the readings
// (theory eq. 98) and whether it takes sensor masks (theory §6.6).
type Info struct {
	// Layout is InfoLayout.
	Layout string `json:"layout"`
	// Problem is "linear" or "nonlinear" and Physics its forward-model
	// configuration (mesh, diffusivity, velocity, reaction).
	Problem string         `json:"problem"`
	Physics physics.Config `json:"physics"`
	// NoiseLevel is λ_n and NoiseStd = λ_n · ReadingScale the noise std of
	// the readings in physical units (theory eq. 97).
	NoiseLevel   float64 `json:"noise_level"`
	NoiseStd     float64 `json:"noise_std"`
	ReadingScale float64 `json:"reading_scale"`
	// Masks is true for a model of the multiple-measurement-operator data
	// (conditioning = scaled readings then the 0/1 mask); OffValue is the
	// scaled reading of an off sensor and MaskProb P(sensor on) of the data.
	Masks    bool    `json:"masks"`
	MaskProb float64 `json:"mask_prob"`
	OffValue float64 `json:"off_value"`
	// FixedMask is the one mask of every training pair of a model trained
	// on a single measurement operator (nil: Bernoulli(MaskProb) masks).
	FixedMask []float64 `json:"fixed_mask,omitempty"`
	// Prior and PriorJitter are the flux prior of the data (theory eqs. 93–94).
	Prior       flux.PriorOptions `json:"prior"`
	PriorJitter float64           `json:"prior_jitter"`
	// Scaling holds the min–max maps of q and of the noisy readings fitted on
	// the training split.
	Scaling flux.Scaling `json:"scaling"`
	// DataSeed, DataRunID, NTrain and NTest identify the data set.
	DataSeed  uint64 `json:"data_seed"`
	DataRunID string `json:"data_run_id"`
	NTrain    int    `json:"n_train"`
	NTest     int    `json:"n_test"`
}

// InfoFromMeta returns the Info of a data set's metadata (data.json).
func InfoFromMeta(m flux.Meta) (Info, error) {
	cfg, err := physics.DefaultConfig(m.Problem)
	if err != nil {
		return Info{}, fmt.Errorf("fluxinv: data set: %w", err)
	}
	// The recorded description holds the config's fields under their JSON
	// names (and more, which is ignored).
	b, err := json.Marshal(m.Physics)
	if err != nil {
		return Info{}, fmt.Errorf("fluxinv: data set physics: %w", err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return Info{}, fmt.Errorf("fluxinv: data set physics: %w", err)
	}
	cfg.Problem = m.Problem
	if err := cfg.Validate(); err != nil {
		return Info{}, fmt.Errorf("fluxinv: data set physics: %w", err)
	}
	info := Info{Layout: InfoLayout, Problem: m.Problem, Physics: cfg,
		NoiseLevel: m.NoiseLevel, NoiseStd: m.NoiseStd, ReadingScale: m.ReadingScale,
		Masks: m.Masks, MaskProb: m.MaskProb, OffValue: m.OffValue, FixedMask: m.FixedMask,
		Prior: m.Prior, PriorJitter: m.PriorJitter, Scaling: m.Scaling,
		DataSeed: m.Seed, DataRunID: m.RunID, NTrain: m.NTrain, NTest: m.NTest}
	return info, info.Validate()
}

// Validate checks that the Info is complete: a known problem, finite noise,
// scalings of 30 features each.
func (in Info) Validate() error {
	switch {
	case in.Layout != InfoLayout:
		return fmt.Errorf("fluxinv: model info layout %q, want %q", in.Layout, InfoLayout)
	case in.Problem != physics.ProblemLinear && in.Problem != physics.ProblemNonlinear:
		return fmt.Errorf("fluxinv: model info: unknown problem %q", in.Problem)
	case !(in.NoiseStd >= 0) || math.IsInf(in.NoiseStd, 0) || !(in.NoiseLevel >= 0) || math.IsInf(in.NoiseLevel, 0):
		return fmt.Errorf("fluxinv: model info: noise level %v, std %v, want finite values ≥ 0", in.NoiseLevel, in.NoiseStd)
	case math.IsNaN(in.OffValue) || math.IsInf(in.OffValue, 0):
		return fmt.Errorf("fluxinv: model info: off value %v is not finite", in.OffValue)
	}
	for _, s := range []struct {
		name string
		m    flux.MinMax
	}{{"q", in.Scaling.Q}, {"readings", in.Scaling.Readings}} {
		if len(s.m.Min) != D || len(s.m.Max) != D {
			return fmt.Errorf("fluxinv: model info: %s scaling has %d minima and %d maxima, want %d", s.name, len(s.m.Min), len(s.m.Max), D)
		}
	}
	return nil
}

// DataName is the model.Data.Name of a flux model of this Info.
func (in Info) DataName() string {
	if in.Masks {
		return DataNamePrefix + in.Problem + "-masked"
	}
	return DataNamePrefix + in.Problem
}

// MaskDim is the mask dimension of the model's conditioning (30 with masks, else 0).
func (in Info) MaskDim() int {
	if in.Masks {
		return D
	}
	return 0
}

// CondDim is the length of one conditioning row: 30 scaled readings, then
// the 30 mask values for a masked model.
func (in Info) CondDim() int { return D + in.MaskDim() }

// Observations are k sets of physical sensor readings with their masks.
type Observations struct {
	// K is the number of observations.
	K int
	// Readings are physical readings, row-major k×30 (bottom row of sensors
	// left to right, then top). Entries of off sensors are ignored (NaN there
	// is the usual way to mark them).
	Readings []float64
	// Mask is row-major k×30 with 1 = on, 0 = off; nil means every sensor on.
	Mask []float64
}

// NewObservations validates physical readings (row-major k×30) and an
// optional mask (k×30, 0/1) for a model described by in, and returns them as
// Observations. A NaN reading marks an off sensor: it is accepted only by a
// model trained with masks (the mask is then taken from the NaNs unless one is
// given), and otherwise refused naming the first NaN. With a mask, every on
// sensor must be finite. ±Inf is always refused. A model trained on one
// fixed mask (Info.FixedMask) takes only observations with that mask.
func NewObservations(in Info, readings, mask []float64) (Observations, error) {
	if len(readings) == 0 {
		return Observations{}, fmt.Errorf("fluxinv: no readings (k = 0): want at least one row of %d sensors", D)
	}
	if len(readings)%D != 0 {
		return Observations{}, fmt.Errorf("fluxinv: %d reading values do not form rows of %d sensors", len(readings), D)
	}
	k := len(readings) / D
	if mask != nil {
		if !in.Masks {
			return Observations{}, fmt.Errorf("fluxinv: a mask was given but the model was trained without masks (every sensor on); drop the mask")
		}
		if len(mask) != len(readings) {
			return Observations{}, fmt.Errorf("fluxinv: mask has %d values, want %d (k = %d rows of %d)", len(mask), len(readings), k, D)
		}
	}
	obs := Observations{K: k, Readings: append([]float64(nil), readings...)}
	if in.Masks {
		obs.Mask = make([]float64, k*D)
	}
	for i, v := range readings {
		row, s := i/D, i%D
		on := true
		if mask != nil {
			switch mask[i] {
			case 0:
				on = false
			case 1:
			default:
				return Observations{}, fmt.Errorf("fluxinv: mask[%d, %d] = %v, want 0 or 1", row, s, mask[i])
			}
		}
		switch {
		case math.IsInf(v, 0):
			return Observations{}, fmt.Errorf("fluxinv: reading[%d, %d] = %v is infinite", row, s, v)
		case math.IsNaN(v) && !in.Masks:
			return Observations{}, fmt.Errorf("fluxinv: reading[%d, %d] (%s) is NaN, but the model was trained without masks: every reading must be finite (NaN marks an off sensor only for a model trained with --masks data)",
				row, s, SensorName(s))
		case math.IsNaN(v) && mask != nil && on:
			return Observations{}, fmt.Errorf("fluxinv: reading[%d, %d] (%s) is NaN but the mask says the sensor is on", row, s, SensorName(s))
		case math.IsNaN(v):
			on = false
		}
		if obs.Mask != nil && on {
			obs.Mask[i] = 1
		}
	}
	if fm := in.FixedMask; fm != nil {
		for i, v := range obs.Mask {
			if v != fm[i%D] {
				state := map[bool]string{true: "on", false: "off"}
				return Observations{}, fmt.Errorf("fluxinv: observation %d: %s is %s, but the model was trained on one fixed mask (sensors off: %s) and serves only that mask: give NaN readings (or a mask) for exactly those sensors",
					i/D, SensorName(i%D), state[v == 1], SensorList(fm))
			}
		}
	}
	return obs, nil
}

// SensorName names sensor s (0-based) as "bottom sensor 3" or "top sensor 15"
// (1-based along its row).
func SensorName(s int) string {
	if s < physics.SegmentsPerWall {
		return fmt.Sprintf("bottom sensor %d", s+1)
	}
	return fmt.Sprintf("top sensor %d", s-physics.SegmentsPerWall+1)
}

// Conditioning returns the network's conditioning row of each observation:
// the readings scaled with the model's reading scaling (theory eq. 98), off
// sensors set to OffValue, followed by the mask for a masked model (theory
// eq. 100).
func (in Info) Conditioning(obs Observations) ([][]float64, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if len(obs.Readings) != obs.K*D || (obs.Mask != nil && len(obs.Mask) != obs.K*D) {
		return nil, fmt.Errorf("fluxinv: observations of inconsistent shape (k = %d, %d readings, %d mask values)", obs.K, len(obs.Readings), len(obs.Mask))
	}
	if in.Masks != (obs.Mask != nil) {
		return nil, fmt.Errorf("fluxinv: observations with mask %v for a model with masks %v", obs.Mask != nil, in.Masks)
	}
	rows := make([][]float64, obs.K)
	for j := range rows {
		y := obs.Readings[j*D : (j+1)*D]
		row := make([]float64, in.CondDim())
		clean := append([]float64(nil), y...)
		for s := range clean {
			if obs.Mask != nil && obs.Mask[j*D+s] == 0 {
				clean[s] = 0 // replaced below
			}
		}
		if err := in.Scaling.Readings.Apply(clean, row[:D]); err != nil {
			return nil, err
		}
		if obs.Mask != nil {
			for s := 0; s < D; s++ {
				if obs.Mask[j*D+s] == 0 {
					row[s] = in.OffValue
				}
				row[D+s] = obs.Mask[j*D+s]
			}
		}
		rows[j] = row
	}
	return rows, nil
}

// Model is a trained flux model: the score model with its parsed Info.
type Model struct {
	*model.Model
	// Info is the model's flux-data description.
	Info Info

	trainResult *TrainResult // set by the experiment runner
}

// modelExtra mirrors the part of lib/model's sidecar Extra that holds the
// data description, so that a model's Info can be read without a backend.
type modelExtra struct {
	Data model.Data `json:"data"`
}

// ReadModelInfo reads a flux model folder's data description and Info from
// its sidecar alone (no weights, no backend): cheap enough to validate the
// inputs of a command before the model is loaded.
func ReadModelInfo(dir string) (model.Data, Info, error) {
	meta, err := scorenet.ReadMeta(dir)
	if err != nil {
		return model.Data{}, Info{}, err
	}
	var ex modelExtra
	if len(meta.Extra) > 0 {
		_ = json.Unmarshal(meta.Extra, &ex)
	}
	info, err := parseInfo(dir, ex.Data)
	return ex.Data, info, err
}

func parseInfo(dir string, d model.Data) (Info, error) {
	if !strings.HasPrefix(d.Name, DataNamePrefix) {
		name := d.Name
		if name == "" {
			name = "unknown data"
		}
		return Info{}, fmt.Errorf("fluxinv: %s is a model of %s, not of flux-inversion data (train one with `pdediff flux train`)", dir, name)
	}
	var in Info
	if err := json.Unmarshal(d.Info, &in); err != nil {
		return Info{}, fmt.Errorf("fluxinv: %s: its data information is not a flux model's: %w", dir, err)
	}
	if err := in.Validate(); err != nil {
		return Info{}, fmt.Errorf("fluxinv: %s: %w", dir, err)
	}
	if d.XDim != D || d.YDim != D || d.MaskDim != in.MaskDim() {
		return Info{}, fmt.Errorf("fluxinv: %s: dimensions x %d, y %d, mask %d, want %d, %d, %d", dir, d.XDim, d.YDim, d.MaskDim, D, D, in.MaskDim())
	}
	return in, nil
}

// LoadModel loads a flux model folder written by Train.
func LoadModel(backend compute.Backend, dir string) (*Model, error) {
	if _, _, err := ReadModelInfo(dir); err != nil {
		return nil, err
	}
	m, err := model.Load(backend, dir)
	if err != nil {
		return nil, err
	}
	in, err := parseInfo(dir, m.Data)
	if err != nil {
		return nil, err
	}
	return &Model{Model: m, Info: in}, nil
}
