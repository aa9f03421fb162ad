// Package arrayio reads and writes float64 arrays as NumPy .npy / .npz files
// (readable by numpy.load) and JSON sidecars, always atomically: data is written
// to a temporary file in the destination folder and renamed into place, so an
// interrupted or failed write never leaves a half-written file or destroys an
// existing one. Temporaries carry the writer's PID in their name, and every
// write first removes the stale ones of killed writers (CleanStale). Groups of
// files (WriteFiles) and whole folders (ReplaceDir) are written the same way.
//
// It also holds the guards run before any work: CheckMemory (estimated need
// against the memory available) and CheckOutputDir / CheckOutputFile.
package arrayio

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/sbinet/npyio"
	"gonum.org/v1/gonum/mat"
)

// Array is a row-major float64 array of rank 1 or 2.
type Array struct {
	// Shape is (n,) or (n, d).
	Shape []int
	// Data holds prod(Shape) values in row-major order.
	Data []float64
}

// Vector returns a rank-1 array sharing data.
func Vector(data []float64) Array { return Array{Shape: []int{len(data)}, Data: data} }

// Matrix returns an (n, d) array sharing data; len(data) must be n*d.
func Matrix(n, d int, data []float64) Array { return Array{Shape: []int{n, d}, Data: data} }

// Rows is the first dimension.
func (a Array) Rows() int {
	if len(a.Shape) == 0 {
		return 0
	}
	return a.Shape[0]
}

// Cols is the second dimension, or 1 for a rank-1 array.
func (a Array) Cols() int {
	if len(a.Shape) < 2 {
		return 1
	}
	return a.Shape[1]
}

// Validate checks that the shape is rank 1 or 2, non-empty, matches len(Data),
// and that every value is finite.
func (a Array) Validate(name string) error {
	if len(a.Shape) < 1 || len(a.Shape) > 2 {
		return fmt.Errorf("array %q: rank %d, want 1 or 2", name, len(a.Shape))
	}
	n := 1
	for _, s := range a.Shape {
		if s <= 0 {
			return fmt.Errorf("array %q: empty or negative dimension in shape %v", name, a.Shape)
		}
		n *= s
	}
	if n != len(a.Data) {
		return fmt.Errorf("array %q: shape %v needs %d values, has %d", name, a.Shape, n, len(a.Data))
	}
	for i, v := range a.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("array %q: non-finite value %v at flat index %d", name, v, i)
		}
	}
	return nil
}

func (a Array) value() any {
	if len(a.Shape) == 2 {
		return mat.NewDense(a.Shape[0], a.Shape[1], a.Data)
	}
	return a.Data
}

// WriteAtomic writes the bytes produced by fill to path through a temporary
// file in the same folder (.<name>.tmp-<pid>-<random>), renamed into place
// only if fill succeeds. Stale temporaries left in that folder by killed
// writers are removed first (CleanStale).
func WriteAtomic(path string, fill func(w io.Writer) error) error {
	return WriteFiles(File{Path: path, Fill: fill})
}

// WriteNPY writes one array as a .npy file (float64, C order), atomically.
func WriteNPY(path string, a Array) error {
	if err := a.Validate(filepath.Base(path)); err != nil {
		return err
	}
	return WriteAtomic(path, func(w io.Writer) error { return npyio.Write(w, a.value()) })
}

// ReadNPY reads a .npy file of rank 1 or 2 and checks that every value is
// finite. Elements of dtype float64, float32, int8..int64, uint8..uint64 or
// bool (either byte order, C or Fortran order) are converted to float64;
// int64/uint64 values beyond 2^53 and any other dtype are rejected with an
// error that names the dtype found.
func ReadNPY(path string) (Array, error) {
	a, err := readNPYFile(path)
	if err != nil {
		return Array{}, err
	}
	if err := a.Validate(path); err != nil {
		return Array{}, err
	}
	return a, nil
}

// WriteNPZ writes named arrays to an uncompressed .npz archive, atomically.
// Keys are array names without the ".npy" suffix (numpy.load(path)["x"]).
func WriteNPZ(path string, arrays map[string]Array) error {
	names := make([]string, 0, len(arrays))
	for k := range arrays {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := arrays[k].Validate(k); err != nil {
			return err
		}
	}
	return WriteFiles(NPZFile(path, arrays))
}

// ReadNPZ reads every array of an .npz archive (keys without ".npy").
// Elements are converted to float64 like ReadNPY's; members that are not
// .npy arrays are skipped.
func ReadNPZ(path string) (map[string]Array, error) {
	return readNPZFile(path)
}

// WriteJSON writes v as indented JSON, atomically.
func WriteJSON(path string, v any) error {
	if _, err := json.Marshal(v); err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return WriteFiles(JSONFile(path, v))
}

// ReadJSON decodes the JSON file at path into v, rejecting unknown fields.
func ReadJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s is not valid JSON for this file: %w", path, err)
	}
	return nil
}
