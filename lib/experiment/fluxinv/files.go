package fluxinv

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strings"

	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/buildinfo"
	"github.com/pdediff/pdediff/lib/sample"
)

// Kinds of posterior files.
const (
	// KindModel marks draws of a learnt (score-model) posterior.
	KindModel = "model"
	// KindExact marks draws of the exact posterior.
	KindExact = "exact"
)

// PosteriorLayout describes the arrays of a posterior file.
const PosteriorLayout = "q: (k, n, 30) physical flux draws (bottom segments 1-15 left to right, then top 1-15); " +
	"mean, std: (k, 30); nfe: (k,); readings: (k, 30) physical readings (NaN = sensor off); mask: (k, 30) 1 = on (masked models)"

// PosteriorMeta is the JSON sidecar of a posterior file (P.npz → P.json).
type PosteriorMeta struct {
	// Kind is KindModel or KindExact.
	Kind string `json:"kind"`
	// Model is the model folder as given, Data its data name and
	// Fingerprint the fingerprint of its training rows.
	Model       string `json:"model"`
	Data        string `json:"data"`
	Fingerprint string `json:"fingerprint"`
	// Process is the model's forward process (learnt posteriors).
	Process string `json:"process,omitempty"`
	// Sampler is the reverse sampler (learnt posteriors).
	Sampler *sample.Spec `json:"sampler,omitempty"`
	// Method is ExactGauss or ExactESS (exact posteriors), with the ESS settings.
	Method string       `json:"method,omitempty"`
	ESS    *ESSSettings `json:"ess,omitempty"`
	// Seed is the run's seed; ObservationSeeds says how each observation's is derived.
	Seed             uint64 `json:"seed"`
	ObservationSeeds string `json:"observation_seeds"`
	// K and N are the numbers of observations and of draws per observation.
	K int `json:"k"`
	N int `json:"n"`
	// NoiseLevel, NoiseStd and Masks repeat the model's Info.
	NoiseLevel float64 `json:"noise_level"`
	NoiseStd   float64 `json:"noise_std"`
	Masks      bool    `json:"masks"`
	// NFEMean is the mean of the nfe array.
	NFEMean float64 `json:"nfe_mean"`
	// RHatMax is the largest split-R̂ of an ESS run (0 otherwise).
	RHatMax float64 `json:"rhat_max,omitempty"`
	Layout  string  `json:"layout"`
	Version string  `json:"version"`
	// RunID is a content hash also stored as the run_id array of the .npz.
	RunID string `json:"run_id"`
}

// SidecarPath returns the JSON sidecar of a posterior file: P.npz → P.json.
func SidecarPath(path string) string { return strings.TrimSuffix(path, ".npz") + ".json" }

// PosteriorFile is a posterior file's content.
type PosteriorFile struct {
	// Meta is the sidecar (zero for a file without one).
	Meta PosteriorMeta
	// Post holds the draws and their moments.
	Post *Posterior
	// Obs are the observations (physical readings, NaN where off, and masks).
	Obs Observations
}

func (f *PosteriorFile) arrays() (map[string]NDArray, map[string]arrayio.Array) {
	p := f.Post
	nfe := make([]float64, p.K)
	for j, v := range p.NFE {
		nfe[j] = float64(v)
	}
	rd := append([]float64(nil), f.Obs.Readings...)
	if f.Obs.Mask != nil {
		for i, m := range f.Obs.Mask {
			if m == 0 {
				rd[i] = math.NaN()
			}
		}
	}
	nd := map[string]NDArray{
		"q":        {Shape: []int{p.K, p.N, D}, Data: p.Q},
		"mean":     {Shape: []int{p.K, D}, Data: p.Mean},
		"std":      {Shape: []int{p.K, D}, Data: p.Std},
		"nfe":      {Shape: []int{p.K}, Data: nfe},
		"readings": {Shape: []int{p.K, D}, Data: rd},
	}
	if f.Obs.Mask != nil {
		nd["mask"] = NDArray{Shape: []int{p.K, D}, Data: f.Obs.Mask}
	}
	if p.RHat != nil {
		nd["rhat"] = NDArray{Shape: []int{p.K}, Data: p.RHat}
	}
	hash := map[string]arrayio.Array{}
	for k, a := range nd {
		hash[k] = arrayio.Array{Shape: a.Shape, Data: a.Data}
	}
	return nd, hash
}

// WritePosteriorFile writes P.npz and its sidecar P.json as one group
// (lib/arrayio.WriteFiles: both complete or neither changed), with a shared
// content run id. The meta's K, N, NFEMean, RHatMax, Layout, Version and
// RunID are filled in.
func WritePosteriorFile(path string, f *PosteriorFile) error {
	p := f.Post
	if p == nil || p.K < 1 || p.N < 1 || len(p.Q) != p.K*p.N*D || len(p.Mean) != p.K*D || len(p.Std) != p.K*D || len(p.NFE) != p.K {
		return fmt.Errorf("fluxinv: inconsistent posterior to write")
	}
	if len(f.Obs.Readings) != p.K*D {
		return fmt.Errorf("fluxinv: posterior of %d observations with %d readings", p.K, len(f.Obs.Readings)/D)
	}
	if !strings.HasSuffix(path, ".npz") {
		return fmt.Errorf("fluxinv: posterior file %s must end in .npz", path)
	}
	m := f.Meta
	m.K, m.N, m.Layout, m.Version, m.RunID = p.K, p.N, PosteriorLayout, buildinfo.Version, ""
	m.NFEMean = 0
	for _, v := range p.NFE {
		m.NFEMean += float64(v) / float64(p.K)
	}
	m.RHatMax = 0
	for _, v := range p.RHat {
		m.RHatMax = math.Max(m.RHatMax, v)
	}
	nd, hash := f.arrays()
	id, err := arrayio.ContentRunID(m, hash)
	if err != nil {
		return err
	}
	m.RunID = id
	ida, _ := arrayio.RunIDArray(id)
	nd[arrayio.RunIDKey] = NDArray{Shape: ida.Shape, Data: ida.Data}
	f.Meta = m
	return arrayio.WriteFiles(arrayio.File{Path: path, Fill: npzFill(nd)}, arrayio.JSONFile(SidecarPath(path), m))
}

// ReadPosteriorFile reads a posterior file written by WritePosteriorFile and
// checks its arrays' shapes and values. The sidecar is read when present and
// must come from the same run; a file without one (made by other tools, with
// at least q) is accepted with a zero Meta.
func ReadPosteriorFile(path string) (*PosteriorFile, error) {
	a, err := ReadNPZFile(path)
	if err != nil {
		return nil, err
	}
	q, ok := a["q"]
	if !ok || len(q.Shape) != 3 || q.Shape[2] != D {
		return nil, fmt.Errorf("%s: need an array q of shape (k, n, %d)", path, D)
	}
	k, n := q.Shape[0], q.Shape[1]
	for i, v := range q.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s: q has a non-finite value %v at observation %d, draw %d, segment %d", path, v, i/(n*D), i/D%n, i%D)
		}
	}
	f := &PosteriorFile{Post: &Posterior{K: k, N: n, Q: q.Data, NFE: make([]int, k)}}
	get := func(name string, shape ...int) ([]float64, error) {
		x, ok := a[name]
		if !ok {
			return nil, nil
		}
		if fmt.Sprint(x.Shape) != fmt.Sprint(shape) {
			return nil, fmt.Errorf("%s: array %s has shape %v, want %v", path, name, x.Shape, shape)
		}
		return x.Data, nil
	}
	var nfe, rd []float64
	for _, g := range []struct {
		name  string
		shape []int
		dst   *[]float64
	}{{"mean", []int{k, D}, &f.Post.Mean}, {"std", []int{k, D}, &f.Post.Std}, {"nfe", []int{k}, &nfe},
		{"readings", []int{k, D}, &rd}, {"mask", []int{k, D}, &f.Obs.Mask}, {"rhat", []int{k}, &f.Post.RHat}} {
		if *g.dst, err = get(g.name, g.shape...); err != nil {
			return nil, err
		}
	}
	for j, v := range nfe {
		f.Post.NFE[j] = int(v)
	}
	if f.Post.Mean == nil || f.Post.Std == nil {
		f.Post.sampleMoments()
	}
	f.Obs.K, f.Obs.Readings = k, rd
	side := SidecarPath(path)
	switch err := arrayio.ReadJSON(side, &f.Meta); {
	case errors.Is(err, fs.ErrNotExist):
		return f, nil
	case err != nil:
		return nil, err
	}
	id, err := ndRunID(a)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if id != f.Meta.RunID {
		return nil, fmt.Errorf("%s is from run %s but its sidecar %s is from run %s: the two files come from different runs (an interrupted write?); write them again",
			path, id, side, f.Meta.RunID)
	}
	if f.Meta.K != k || f.Meta.N != n {
		return nil, fmt.Errorf("%s: sidecar says k = %d, n = %d but q has shape (%d, %d, %d)", path, f.Meta.K, f.Meta.N, k, n, D)
	}
	return f, nil
}

func ndRunID(a map[string]NDArray) (string, error) {
	x, ok := a[arrayio.RunIDKey]
	if !ok {
		return "", nil
	}
	return arrayio.ArrayRunID(map[string]arrayio.Array{arrayio.RunIDKey: {Shape: x.Shape, Data: x.Data}})
}

// ReadRows reads a .npy file of rows of 30 values, shape (k, 30) or (30,)
// (one row), float64 or float32, keeping NaN (for readings, an off sensor);
// what names the array in errors ("readings"). k = 0 is an error.
func ReadRows(path, what string) ([]float64, int, error) {
	a, err := ReadNPYFile(path)
	if err != nil {
		return nil, 0, err
	}
	switch {
	case len(a.Shape) == 1 && a.Shape[0] == D:
		return a.Data, 1, nil
	case len(a.Shape) == 2 && a.Shape[1] == D && a.Shape[0] == 0:
		return nil, 0, fmt.Errorf("%s: the %s array has shape (0, %d): no observations (k = 0)", path, what, D)
	case len(a.Shape) == 2 && a.Shape[1] == D:
		return a.Data, a.Shape[0], nil
	}
	return nil, 0, fmt.Errorf("%s: the %s array has shape %v, want (k, %d) (bottom row of sensors left to right, then top)", path, what, a.Shape, D)
}
