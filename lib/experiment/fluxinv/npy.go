package fluxinv

// A small .npy/.npz codec for what lib/arrayio does not cover: arrays of rank
// 3 (posterior draws, k × N × 30) and readings that may hold NaN (an off
// sensor). Files are float64, C order, version 1.0, as numpy.save writes them.

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// NDArray is a row-major float64 array of any rank.
type NDArray struct {
	// Shape lists the dimensions (each ≥ 1).
	Shape []int
	// Data holds prod(Shape) values in C order.
	Data []float64
}

// size is the product of the dimensions (-1 if one is negative).
func (a NDArray) size() int {
	n := 1
	for _, s := range a.Shape {
		if s < 0 {
			return -1
		}
		n *= s
	}
	return n
}

// npyMagic starts every .npy file.
const npyMagic = "\x93NUMPY"

// writeNPY writes a as a version-1.0 .npy stream of '<f8' in C order.
func writeNPY(w io.Writer, a NDArray) error {
	if len(a.Shape) == 0 || a.size() != len(a.Data) {
		return fmt.Errorf("npy: shape %v does not hold %d values", a.Shape, len(a.Data))
	}
	dims := make([]string, len(a.Shape))
	for i, s := range a.Shape {
		dims[i] = strconv.Itoa(s)
	}
	shape := strings.Join(dims, ", ")
	if len(a.Shape) == 1 {
		shape += ","
	}
	hdr := fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': (%s), }", shape)
	// Pad with spaces so that magic + version + length + header (+ "\n") is a multiple of 64.
	total := len(npyMagic) + 2 + 2 + len(hdr) + 1
	hdr += strings.Repeat(" ", (64-total%64)%64) + "\n"
	if len(hdr) > math.MaxUint16 {
		return fmt.Errorf("npy: header too long")
	}
	var b bytes.Buffer
	b.WriteString(npyMagic)
	b.Write([]byte{1, 0})
	var l [2]byte
	binary.LittleEndian.PutUint16(l[:], uint16(len(hdr)))
	b.Write(l[:])
	b.WriteString(hdr)
	if _, err := w.Write(b.Bytes()); err != nil {
		return err
	}
	buf := make([]byte, 0, 64*1024)
	var v [8]byte
	for _, x := range a.Data {
		binary.LittleEndian.PutUint64(v[:], math.Float64bits(x))
		buf = append(buf, v[:]...)
		if len(buf) == cap(buf) {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err := w.Write(buf)
	return err
}

// readNPY reads a .npy stream of float64 or float32 (either byte order, C or
// Fortran order for rank ≤ 2) of any rank. NaN and Inf values are kept: the
// caller checks them. limit bounds the data bytes the stream can hold.
func readNPY(r io.Reader, limit int64) (NDArray, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil || string(pre[:6]) != npyMagic {
		return NDArray{}, fmt.Errorf("not a .npy file")
	}
	var hlen int
	switch pre[6] {
	case 1:
		var l [2]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return NDArray{}, fmt.Errorf("truncated .npy header")
		}
		hlen = int(binary.LittleEndian.Uint16(l[:]))
	case 2, 3:
		var l [4]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return NDArray{}, fmt.Errorf("truncated .npy header")
		}
		hlen = int(binary.LittleEndian.Uint32(l[:]))
		if hlen > 1<<20 {
			return NDArray{}, fmt.Errorf(".npy header of %d bytes is too long", hlen)
		}
	default:
		return NDArray{}, fmt.Errorf("unsupported .npy version %d.%d", pre[6], pre[7])
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return NDArray{}, fmt.Errorf("truncated .npy header")
	}
	descr, fortran, shape, err := parseNPYHeader(string(hdr))
	if err != nil {
		return NDArray{}, err
	}
	var order binary.ByteOrder = binary.LittleEndian
	if strings.HasPrefix(descr, ">") {
		order = binary.BigEndian
	}
	size := 0
	switch strings.TrimLeft(descr, "<>=|") {
	case "f8":
		size = 8
	case "f4":
		size = 4
	default:
		return NDArray{}, fmt.Errorf("dtype %q: want float64 (or float32)", descr)
	}
	a := NDArray{Shape: shape}
	n := a.size()
	if n < 0 {
		return NDArray{}, fmt.Errorf("bad shape %v", shape)
	}
	if n == 0 {
		return NDArray{Shape: shape, Data: []float64{}}, nil // empty: the caller says what that means
	}
	if int64(n) > limit/int64(size) {
		return NDArray{}, fmt.Errorf("shape %v needs %d bytes of data, the file has %d", shape, int64(n)*int64(size), limit)
	}
	raw := make([]byte, n*size)
	if _, err := io.ReadFull(r, raw); err != nil {
		return NDArray{}, fmt.Errorf("truncated data for shape %v", shape)
	}
	a.Data = make([]float64, n)
	for i := range a.Data {
		if size == 8 {
			a.Data[i] = math.Float64frombits(order.Uint64(raw[8*i:]))
		} else {
			a.Data[i] = float64(math.Float32frombits(order.Uint32(raw[4*i:])))
		}
	}
	if fortran && len(shape) == 2 {
		rows, cols := shape[0], shape[1]
		c := make([]float64, n)
		for j := 0; j < cols; j++ {
			for i := 0; i < rows; i++ {
				c[i*cols+j] = a.Data[j*rows+i]
			}
		}
		a.Data = c
	} else if fortran && len(shape) > 2 {
		return NDArray{}, fmt.Errorf("Fortran-ordered array of rank %d is not supported", len(shape))
	}
	return a, nil
}

// parseNPYHeader reads the descr, fortran_order and shape of a header dict.
func parseNPYHeader(h string) (descr string, fortran bool, shape []int, err error) {
	get := func(key string) (string, bool) {
		i := strings.Index(h, "'"+key+"'")
		if i < 0 {
			return "", false
		}
		rest := strings.TrimSpace(h[i+len(key)+2:])
		if !strings.HasPrefix(rest, ":") {
			return "", false
		}
		return strings.TrimSpace(rest[1:]), true
	}
	d, ok := get("descr")
	if !ok || len(d) < 2 || d[0] != '\'' {
		return "", false, nil, fmt.Errorf("bad .npy header %q", h)
	}
	end := strings.IndexByte(d[1:], '\'')
	if end < 0 {
		return "", false, nil, fmt.Errorf("bad .npy header %q", h)
	}
	descr = d[1 : 1+end]
	if f, ok := get("fortran_order"); ok {
		fortran = strings.HasPrefix(f, "True")
	}
	s, ok := get("shape")
	if !ok || !strings.HasPrefix(s, "(") || !strings.Contains(s, ")") {
		return "", false, nil, fmt.Errorf("bad .npy header %q", h)
	}
	for _, part := range strings.Split(s[1:strings.IndexByte(s, ')')], ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		v, err := strconv.Atoi(part)
		if err != nil || v < 0 {
			return "", false, nil, fmt.Errorf("bad shape in .npy header %q", h)
		}
		shape = append(shape, v)
	}
	if len(shape) == 0 {
		return "", false, nil, fmt.Errorf("scalar .npy arrays are not supported")
	}
	return descr, fortran, shape, nil
}

// ReadNPYFile reads a float64 (or float32) .npy file of any rank, keeping NaN
// and Inf values (ReadReadings gives them their meaning).
func ReadNPYFile(path string) (NDArray, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return NDArray{}, err
	}
	a, err := readNPY(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		return NDArray{}, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// npzFill returns a writer of an uncompressed .npz archive of arrays (names
// sorted, members "<name>.npy"), for arrayio.WriteFiles.
func npzFill(arrays map[string]NDArray) func(w io.Writer) error {
	return func(w io.Writer) error {
		names := make([]string, 0, len(arrays))
		for k := range arrays {
			names = append(names, k)
		}
		sort.Strings(names)
		zw := zip.NewWriter(w)
		for _, k := range names {
			f, err := zw.CreateHeader(&zip.FileHeader{Name: k + ".npy", Method: zip.Store})
			if err != nil {
				return err
			}
			if err := writeNPY(f, arrays[k]); err != nil {
				return fmt.Errorf("array %q: %w", k, err)
			}
		}
		return zw.Close()
	}
}

// ReadNPZFile reads every float array of an .npz archive, of any rank.
func ReadNPZFile(path string) (map[string]NDArray, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer zr.Close()
	out := map[string]NDArray{}
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".npy") {
			continue
		}
		name := strings.TrimSuffix(f.Name, ".npy")
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s[%s]: %w", path, name, err)
		}
		a, err := readNPY(rc, int64(min(f.UncompressedSize64, math.MaxInt64)))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s[%s]: %w", path, name, err)
		}
		out[name] = a
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no .npy arrays in the archive", path)
	}
	return out, nil
}
