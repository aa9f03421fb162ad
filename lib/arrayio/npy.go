package arrayio

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/sbinet/npyio"
)

// npyDtype describes an element type that ReadNPY converts to float64.
type npyDtype struct {
	kind  byte // 'f' float, 'i' signed, 'u' unsigned, 'b' bool
	size  int  // bytes per element
	order binary.ByteOrder
	name  string // numpy name, for messages
}

// parseDtype parses a numpy dtype string such as "<f8", ">i4", "|u1", "|b1".
func parseDtype(descr string) (npyDtype, error) {
	s := strings.TrimSpace(descr)
	var order binary.ByteOrder = binary.LittleEndian
	if s != "" {
		switch s[0] {
		case '<', '|', '=':
			s = s[1:]
		case '>':
			order, s = binary.BigEndian, s[1:]
		}
	}
	if len(s) < 2 {
		return npyDtype{}, fmt.Errorf("unsupported dtype %q", descr)
	}
	kind := s[0]
	var size int
	if _, err := fmt.Sscanf(s[1:], "%d", &size); err != nil || fmt.Sprint(size) != s[1:] {
		return npyDtype{}, fmt.Errorf("unsupported dtype %q", descr)
	}
	names := map[string]string{"f4": "float32", "f8": "float64", "i1": "int8", "i2": "int16", "i4": "int32", "i8": "int64",
		"u1": "uint8", "u2": "uint16", "u4": "uint32", "u8": "uint64", "b1": "bool"}
	name, ok := names[s]
	if !ok {
		what := map[byte]string{'f': "float", 'c': "complex", 'U': "unicode string", 'S': "byte string", 'O': "Python object",
			'M': "datetime", 'm': "timedelta", 'V': "void/record"}[kind]
		if what == "" {
			what = "unknown"
		}
		return npyDtype{}, fmt.Errorf("unsupported dtype %q (%s%d): want float64, float32, int8..int64, uint8..uint64 or bool",
			descr, what, size*8)
	}
	return npyDtype{kind: kind, size: size, order: order, name: name}, nil
}

// decode converts raw little/big-endian elements to float64.
func (dt npyDtype) decode(raw []byte, out []float64) {
	o := dt.order
	for i := range out {
		b := raw[i*dt.size : (i+1)*dt.size]
		var v float64
		switch dt.kind {
		case 'f':
			if dt.size == 4 {
				v = float64(math.Float32frombits(o.Uint32(b)))
			} else {
				v = math.Float64frombits(o.Uint64(b))
			}
		case 'i':
			switch dt.size {
			case 1:
				v = float64(int8(b[0]))
			case 2:
				v = float64(int16(o.Uint16(b)))
			case 4:
				v = float64(int32(o.Uint32(b)))
			default:
				v = float64(int64(o.Uint64(b)))
			}
		case 'u':
			switch dt.size {
			case 1:
				v = float64(b[0])
			case 2:
				v = float64(o.Uint16(b))
			case 4:
				v = float64(o.Uint32(b))
			default:
				v = float64(o.Uint64(b))
			}
		case 'b':
			if b[0] != 0 {
				v = 1
			}
		}
		out[i] = v
	}
}

// decodeNPY reads one .npy stream (header and data) of rank 1 or 2 and
// converts its elements to float64. left, called after the header is read,
// bounds the data bytes available; a header whose shape needs more is rejected
// before anything large is allocated.
func decodeNPY(r io.Reader, left func() int64) (Array, error) {
	nr, err := npyio.NewReader(r)
	if err != nil {
		return Array{}, fmt.Errorf("not a valid .npy file: %w", err)
	}
	limit := left()
	d := nr.Header.Descr
	dt, err := parseDtype(d.Type)
	if err != nil {
		return Array{}, err
	}
	shape := append([]int(nil), d.Shape...)
	if len(shape) < 1 || len(shape) > 2 {
		return Array{}, fmt.Errorf("array of rank %d (shape %v, dtype %s): want rank 1 or 2", len(shape), shape, dt.name)
	}
	count := int64(1)
	for _, s := range shape {
		if s <= 0 {
			return Array{}, fmt.Errorf("empty array of shape %v (dtype %s)", shape, dt.name)
		}
		if count > math.MaxInt64/int64(s)/int64(dt.size) {
			return Array{}, fmt.Errorf("shape %v (dtype %s) is too large", shape, dt.name)
		}
		count *= int64(s)
	}
	need := count * int64(dt.size)
	if need > limit {
		return Array{}, fmt.Errorf("truncated: shape %v of %s needs %d data bytes, the file has %d", shape, dt.name, need, limit)
	}
	if err := CheckMemory(fmt.Sprintf("reading an array of shape %v", shape), float64(need)+8*float64(count), ""); err != nil {
		return Array{}, err
	}
	raw := make([]byte, need)
	if _, err := io.ReadFull(r, raw); err != nil {
		return Array{}, fmt.Errorf("truncated data for shape %v of %s: %w", shape, dt.name, err)
	}
	data := make([]float64, count)
	dt.decode(raw, data)
	if len(shape) == 2 && d.Fortran {
		rows, cols := shape[0], shape[1]
		c := make([]float64, len(data))
		for j := 0; j < cols; j++ {
			for i := 0; i < rows; i++ {
				c[i*cols+j] = data[j*rows+i]
			}
		}
		data = c
	}
	if dt.kind == 'i' || dt.kind == 'u' {
		if dt.size == 8 {
			for i, v := range data {
				if math.Abs(v) > 1<<53 {
					return Array{}, fmt.Errorf("%s value %.17g at flat index %d is not exactly representable as float64", dt.name, v, i)
				}
			}
		}
	}
	return Array{Shape: shape, Data: data}, nil
}

func readNPYFile(path string) (Array, error) {
	if info, err := os.Stat(path); err == nil {
		// The file's bytes; decodeNPY checks the float64 values once the header is read.
		if err := CheckMemory("reading "+path, float64(info.Size()), ""); err != nil {
			return Array{}, err
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return Array{}, fmt.Errorf("read %s: %w", path, err)
	}
	br := bytes.NewReader(raw)
	a, err := decodeNPY(br, func() int64 { return int64(br.Len()) })
	if err != nil {
		return Array{}, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

func readNPZFile(path string) (map[string]Array, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer zr.Close()
	out := map[string]Array{}
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".npy") {
			continue
		}
		name := strings.TrimSuffix(f.Name, ".npy")
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s[%s]: %w", path, name, err)
		}
		a, err := decodeNPY(rc, func() int64 { return int64(min(f.UncompressedSize64, math.MaxInt64)) })
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s[%s]: %w", path, name, err)
		}
		if err := a.Validate(path + "[" + name + "]"); err != nil {
			return nil, err
		}
		out[name] = a
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no .npy arrays in the archive", path)
	}
	return out, nil
}
