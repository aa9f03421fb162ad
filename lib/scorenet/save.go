package scorenet

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/buildinfo"
)

// MetaFile is the JSON sidecar inside a model folder; it names the GoMLX
// checkpoint sub-folder holding the variables.
const MetaFile = "pdediff-model.json"

// Format identifies the model-folder layout written by Save. Version 2 stores
// weights as [out, in]; version 1 (weights [in, out]) is no longer read.
const Format = "pdediff-scorenet/2"

// Meta is the JSON sidecar of a saved model: everything needed to rebuild the
// network and to know how it was made.
type Meta struct {
	// Format is the folder layout version (Format).
	Format string `json:"format"`
	// ScoreNet is the network configuration.
	ScoreNet Config `json:"scorenet"`
	// UseEMA says whether sampling uses the EMA weights (EMAScope).
	UseEMA bool `json:"use_ema"`
	// Step is the number of optimiser steps taken so far.
	Step int64 `json:"step"`
	// Seed is the seed of the run that produced the weights.
	Seed uint64 `json:"seed"`
	// SDE is the forward-process configuration, opaque to this package.
	SDE json.RawMessage `json:"sde,omitempty"`
	// Training is the training configuration, opaque to this package.
	Training json.RawMessage `json:"training,omitempty"`
	// Extra holds any other run information (data set name, sizes, …).
	Extra json.RawMessage `json:"extra,omitempty"`
	// Checkpoint is the GoMLX checkpoint sub-folder (relative to the model folder).
	Checkpoint string `json:"checkpoint"`
	// Versions records pdediff, GoMLX and Go versions and the backend used.
	Versions map[string]string `json:"versions"`
	// WeightsOnly marks a folder written by SaveWeights: the sampling weights
	// without optimiser state (it samples like the original but cannot resume
	// training).
	WeightsOnly bool `json:"weights_only,omitempty"`
}

// SaveWeights writes only the weights the network samples with (the EMA
// weights when UseEMA is on, else the parameters) into the model folder dir,
// as the parameters of a network without optimiser state or EMA copy, with
// meta.WeightsOnly set. Load reads it as any model folder; its Score equals
// this network's bit for bit. dir must not hold a model already.
func (n *Net) SaveWeights(dir string, meta Meta) error {
	if Exists(dir) {
		return fmt.Errorf("scorenet: %s already holds a model", dir)
	}
	scope := ParamScope
	if n.UseEMA() {
		scope = EMAScope
	}
	vals, err := n.ParamValues(scope)
	if err != nil {
		return err
	}
	// A fresh network of the same shape (New's layers), its parameters
	// overwritten with the sampling weights.
	w, err := New(n.backend, n.cfg, 0)
	if err != nil {
		return err
	}
	dst, err := w.Vars(ParamScope)
	if err != nil {
		return err
	}
	for i, v := range dst {
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(vals[i], v.Shape().Dimensions...)); err != nil {
			return fmt.Errorf("scorenet: %w", err)
		}
	}
	meta.UseEMA, meta.WeightsOnly = false, true
	return w.Save(dir, meta)
}

// Versions returns the versions recorded in every sidecar: pdediff, the Go
// toolchain, gomlx and compute module versions (when known) and the backend.
func Versions(backend compute.Backend) map[string]string {
	v := map[string]string{"pdediff": buildinfo.Version, "go": runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/gomlx/gomlx":
				v["gomlx"] = d.Version
			case "github.com/gomlx/compute":
				v["compute"] = d.Version
			}
		}
	}
	if backend != nil {
		v["backend"] = backend.Name()
	}
	return v
}

// Save writes the network into the folder dir: a GoMLX checkpoint sub-folder
// with every variable of the store (parameters, and optimiser state and EMA
// weights if present) plus the sidecar MetaFile. The write is crash-safe: the
// checkpoint goes to a fresh sub-folder, then the sidecar is atomically
// replaced to point at it, then older checkpoint sub-folders are removed; an
// interrupted Save leaves the previous model intact. meta's ScoreNet,
// Checkpoint, Format and Versions fields are filled in by Save.
func (n *Net) Save(dir string, meta Meta) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("scorenet: save: %w", err)
	}
	// Named for arrayio.CleanStale: a checkpoint folder left by a killed
	// writer is removed by the next save into dir.
	tmp, err := arrayio.MkdirTemp(dir, "ckpt")
	if err != nil {
		return fmt.Errorf("scorenet: save: %w", err)
	}
	defer os.RemoveAll(tmp) // no-op after the rename
	if err := optimizer.GetGlobalStepVar(n.store).SetValue(tensors.FromValue(meta.Step)); err != nil {
		return fmt.Errorf("scorenet: save: %w", err)
	}
	h, err := checkpoint.Build(n.store).Dir(tmp).Done()
	if err != nil {
		return fmt.Errorf("scorenet: save: %w", err)
	}
	if err := h.Save(); err != nil {
		return fmt.Errorf("scorenet: save: %w", err)
	}
	name := fmt.Sprintf("ckpt-%09d", meta.Step)
	final := filepath.Join(dir, name)
	if _, err := os.Stat(final); err == nil {
		// Same step saved before: keep it if the sidecar points at it.
		name = fmt.Sprintf("ckpt-%09d-%s", meta.Step, strings.TrimPrefix(filepath.Base(tmp), ".ckpt.tmp-"))
		final = filepath.Join(dir, name)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("scorenet: save: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("scorenet: save: %w", err)
	}
	meta.Format = Format
	meta.ScoreNet = n.cfg
	meta.Checkpoint = name
	meta.UseEMA = meta.UseEMA || n.UseEMA()
	meta.Versions = Versions(n.backend)
	if err := arrayio.WriteJSON(filepath.Join(dir, MetaFile), meta); err != nil {
		return fmt.Errorf("scorenet: save: %w", err)
	}
	// Remove checkpoints no longer referenced.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() && e.Name() != name && strings.HasPrefix(e.Name(), "ckpt-") {
			_ = os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// ReadMeta reads the sidecar of the model folder dir.
func ReadMeta(dir string) (Meta, error) {
	var m Meta
	if err := arrayio.ReadJSON(filepath.Join(dir, MetaFile), &m); err != nil {
		return m, fmt.Errorf("scorenet: %s is not a model folder: %w", dir, err)
	}
	if m.Format == "pdediff-scorenet/1" {
		return m, fmt.Errorf("scorenet: %s was saved in the older format %q (weights [in, out]); retrain it (this version reads %q)", dir, m.Format, Format)
	}
	if m.Format != Format {
		return m, fmt.Errorf("scorenet: %s: unknown model format %q (want %q)", dir, m.Format, Format)
	}
	if m.Checkpoint == "" || strings.ContainsAny(m.Checkpoint, `/\`) {
		return m, fmt.Errorf("scorenet: %s: invalid checkpoint name %q in %s", dir, m.Checkpoint, MetaFile)
	}
	return m, nil
}

// Exists reports whether dir holds a saved model (a readable sidecar).
func Exists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, MetaFile))
	return err == nil
}

// Load reads a model folder written by Save: the network, with every saved
// variable (optimiser state and EMA weights included) in its store, and Score
// set to use the EMA weights when the sidecar says so.
func Load(backend compute.Backend, dir string) (*Net, error) {
	if backend == nil {
		return nil, errors.New("scorenet: nil backend")
	}
	meta, err := ReadMeta(dir)
	if err != nil {
		return nil, err
	}
	cfg := meta.ScoreNet.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("scorenet: %s: %w", dir, err)
	}
	store := model.NewStore()
	ck := filepath.Join(dir, meta.Checkpoint)
	if _, err := checkpoint.Load(store).Dir(ck).Immediate().Done(); err != nil {
		return nil, fmt.Errorf("scorenet: loading checkpoint %s: %w", ck, err)
	}
	n := &Net{cfg: cfg, backend: backend, store: store, meta: &meta}
	if _, err := n.Vars(ParamScope); err != nil {
		return nil, fmt.Errorf("scorenet: %s: %w", dir, err)
	}
	if meta.UseEMA {
		if err := n.SetUseEMA(true); err != nil {
			return nil, fmt.Errorf("scorenet: %s: %w", dir, err)
		}
	}
	return n, nil
}
