// Package arrayio reads and writes float64 arrays as NumPy .npy / .npz files
// (readable by numpy.load) and JSON sidecars, always atomically: data is written
// to a temporary file in the destination folder and renamed into place, so an
// interrupted or failed write never leaves a half-written file or destroys an
// existing one.
package arrayio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sbinet/npyio"
	"github.com/sbinet/npyio/npz"
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
// file in the same folder, renamed into place only if fill succeeds.
func WriteAtomic(path string, fill func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create folder for %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temporary file for %s: %w", path, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := fill(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename into %s: %w", path, err)
	}
	ok = true
	return nil
}

// WriteNPY writes one array as a .npy file (float64, C order), atomically.
func WriteNPY(path string, a Array) error {
	if err := a.Validate(filepath.Base(path)); err != nil {
		return err
	}
	return WriteAtomic(path, func(w io.Writer) error { return npyio.Write(w, a.value()) })
}

// ReadNPY reads a float64 (or float32/int, converted) .npy file of rank 1 or 2
// and checks that every value is finite.
func ReadNPY(path string) (Array, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Array{}, fmt.Errorf("read %s: %w", path, err)
	}
	r, err := npyio.NewReader(bytes.NewReader(raw))
	if err != nil {
		return Array{}, fmt.Errorf("%s is not a valid .npy file: %w", path, err)
	}
	shape := r.Header.Descr.Shape
	a, err := readShaped(shape, func(ptr any) error { return r.Read(ptr) })
	if err != nil {
		return Array{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := a.Validate(path); err != nil {
		return Array{}, err
	}
	return a, nil
}

func readShaped(shape []int, read func(ptr any) error) (Array, error) {
	switch len(shape) {
	case 1:
		var v []float64
		if err := read(&v); err != nil {
			return Array{}, fmt.Errorf("cannot read as float64: %w", err)
		}
		return Vector(v), nil
	case 2:
		var m mat.Dense
		if shape[0] == 0 || shape[1] == 0 {
			return Array{}, fmt.Errorf("empty array of shape %v", shape)
		}
		if err := read(&m); err != nil {
			return Array{}, fmt.Errorf("cannot read as float64: %w", err)
		}
		r, c := m.Dims()
		data := make([]float64, 0, r*c)
		for i := 0; i < r; i++ {
			data = append(data, m.RawRowView(i)...)
		}
		return Matrix(r, c, data), nil
	default:
		return Array{}, fmt.Errorf("array of rank %d (shape %v): want rank 1 or 2", len(shape), shape)
	}
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
	return WriteAtomic(path, func(w io.Writer) error {
		zw := npz.NewWriter(w)
		for _, k := range names {
			if err := zw.Write(k+".npy", arrays[k].value()); err != nil {
				return err
			}
		}
		return zw.Close()
	})
}

// ReadNPZ reads every array of an .npz archive (keys without ".npy").
func ReadNPZ(path string) (map[string]Array, error) {
	f, err := npz.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	out := map[string]Array{}
	for _, key := range f.Keys() {
		h := f.Header(key)
		name := strings.TrimSuffix(key, ".npy")
		a, err := readShaped(h.Descr.Shape, func(ptr any) error { return f.Read(key, ptr) })
		if err != nil {
			return nil, fmt.Errorf("%s[%s]: %w", path, name, err)
		}
		if err := a.Validate(path + "[" + name + "]"); err != nil {
			return nil, err
		}
		out[name] = a
	}
	return out, nil
}

// WriteJSON writes v as indented JSON, atomically.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	b = append(b, '\n')
	return WriteAtomic(path, func(w io.Writer) error { _, err := w.Write(b); return err })
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
