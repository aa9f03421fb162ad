package flux

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/buildinfo"
)

// File names inside a data folder.
const (
	TrainFile = "train.npz"
	TestFile  = "test.npz"
	MetaFile  = "data.json"
)

// ArrayNames lists the arrays of train.npz and test.npz, each (n, 30) float64.
func ArrayNames() []string {
	return []string{"q", "readings_clean", "readings_noisy", "readings", "q_scaled", "mask"}
}

func (s Split) arrays() map[string]arrayio.Array {
	m := func(d []float64) arrayio.Array { return arrayio.Matrix(s.N, N, d) }
	return map[string]arrayio.Array{
		"q": m(s.Q), "readings_clean": m(s.ReadingsClean), "readings_noisy": m(s.ReadingsNoisy),
		"readings": m(s.Readings), "q_scaled": m(s.QScaled), "mask": m(s.Mask),
	}
}

// IsDataFile reports whether name (a base name) belongs in a data folder:
// one of the three files or a temporary of lib/arrayio.
func IsDataFile(name string) bool {
	return name == TrainFile || name == TestFile || name == MetaFile || arrayio.IsTemp(name)
}

// CheckOutDir checks, before any work, that dir can receive a data set: it
// can be created, or it is a writable folder holding nothing but a data set
// (Save replaces the whole folder, so other files would be lost).
func CheckOutDir(dir string) error {
	if err := arrayio.CheckOutputDir(dir); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	var other []string
	for _, e := range entries {
		if !IsDataFile(e.Name()) {
			other = append(other, e.Name())
		}
	}
	if len(other) > 0 {
		if len(other) > 5 {
			other = append(other[:5], "…")
		}
		return fmt.Errorf("%s holds files that are not part of a flux data set (%s); the data set replaces the whole folder: choose a new or empty folder",
			dir, strings.Join(other, ", "))
	}
	return nil
}

// Save writes dir/train.npz, dir/test.npz and dir/data.json as one set: into
// a temporary sibling folder first, which then replaces dir whole
// (arrayio.ReplaceDir), so that a kill at any point leaves either the old or
// the new set. Every file records the same run id (a content hash, in
// data.json's run_id and each archive's run_id array), which Load checks;
// data.json also records buildinfo.Version. dir must not hold other files
// (see CheckOutDir).
func Save(dir string, ds *Dataset) error {
	if err := CheckOutDir(dir); err != nil {
		return err
	}
	ds.Meta.Version = buildinfo.Version
	ds.Meta.RunID = ""
	train, test := ds.Train.arrays(), ds.Test.arrays()
	id, err := arrayio.ContentRunID(ds.Meta, train, test)
	if err != nil {
		return err
	}
	ds.Meta.RunID = id
	ida, _ := arrayio.RunIDArray(id)
	train[arrayio.RunIDKey], test[arrayio.RunIDKey] = ida, ida
	return arrayio.ReplaceDir(dir, func(tmp string) error {
		return arrayio.WriteFiles(
			arrayio.NPZFile(filepath.Join(tmp, TrainFile), train),
			arrayio.NPZFile(filepath.Join(tmp, TestFile), test),
			arrayio.JSONFile(filepath.Join(tmp, MetaFile), ds.Meta))
	})
}

// Load reads a data folder written by Save, checks the array shapes and that
// all three files come from the same run (same run id; folders written before
// run ids, with none in any file, are accepted). If dir is missing because a
// Save was killed while swapping folders, the old set is restored first.
func Load(dir string) (*Dataset, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		arrayio.CleanStale(filepath.Dir(filepath.Clean(dir)))
	}
	ds := &Dataset{}
	if err := arrayio.ReadJSON(filepath.Join(dir, MetaFile), &ds.Meta); err != nil {
		return nil, err
	}
	for _, part := range []struct {
		file string
		n    int
		s    *Split
	}{{TrainFile, ds.Meta.NTrain, &ds.Train}, {TestFile, ds.Meta.NTest, &ds.Test}} {
		path := filepath.Join(dir, part.file)
		arrs, err := arrayio.ReadNPZ(path)
		if err != nil {
			return nil, err
		}
		id, err := arrayio.ArrayRunID(arrs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if id != ds.Meta.RunID {
			return nil, fmt.Errorf("%s is from run %s but %s is from run %s: the folder mixes files of two `flux data` runs (an interrupted write by an older version?); regenerate it",
				path, runName(id), filepath.Join(dir, MetaFile), runName(ds.Meta.RunID))
		}
		get := func(name string) ([]float64, error) {
			a, ok := arrs[name]
			if !ok {
				return nil, fmt.Errorf("%s: missing array %q", path, name)
			}
			if len(a.Shape) != 2 || a.Shape[0] != part.n || a.Shape[1] != N {
				return nil, fmt.Errorf("%s: array %q has shape %v, want (%d, %d)", path, name, a.Shape, part.n, N)
			}
			return a.Data, nil
		}
		s := part.s
		s.N = part.n
		for _, f := range []struct {
			name string
			dst  *[]float64
		}{{"q", &s.Q}, {"readings_clean", &s.ReadingsClean}, {"readings_noisy", &s.ReadingsNoisy},
			{"readings", &s.Readings}, {"q_scaled", &s.QScaled}, {"mask", &s.Mask}} {
			if *f.dst, err = get(f.name); err != nil {
				return nil, err
			}
		}
	}
	return ds, nil
}

func runName(id string) string {
	if id == "" {
		return "<none recorded>"
	}
	return id
}
