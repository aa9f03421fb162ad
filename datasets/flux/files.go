package flux

import (
	"fmt"
	"path/filepath"

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

// Save writes dir/train.npz, dir/test.npz and dir/data.json, each atomically;
// data.json (written last) records buildinfo.Version.
func Save(dir string, ds *Dataset) error {
	ds.Meta.Version = buildinfo.Version
	if err := arrayio.WriteNPZ(filepath.Join(dir, TrainFile), ds.Train.arrays()); err != nil {
		return err
	}
	if err := arrayio.WriteNPZ(filepath.Join(dir, TestFile), ds.Test.arrays()); err != nil {
		return err
	}
	return arrayio.WriteJSON(filepath.Join(dir, MetaFile), ds.Meta)
}

// Load reads a data folder written by Save and checks the array shapes.
func Load(dir string) (*Dataset, error) {
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
