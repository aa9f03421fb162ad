package fluxinv

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/lib/sample"
)

func TestNPYRoundTripRank3AndNaN(t *testing.T) {
	a := NDArray{Shape: []int{2, 3, 4}}
	for i := 0; i < 24; i++ {
		a.Data = append(a.Data, float64(i)*0.5-3)
	}
	a.Data[5] = math.NaN()
	var b bytes.Buffer
	if err := writeNPY(&b, a); err != nil {
		t.Fatal(err)
	}
	if b.Len()%16 != 0 || (b.Len()-24*8)%64 != 0 {
		t.Errorf("header not padded to 64 bytes: file of %d bytes", b.Len())
	}
	got, err := readNPY(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Shape) != 3 || got.Shape[0] != 2 || got.Shape[1] != 3 || got.Shape[2] != 4 {
		t.Fatalf("shape %v", got.Shape)
	}
	for i, v := range got.Data {
		if v != a.Data[i] && !(math.IsNaN(v) && math.IsNaN(a.Data[i])) {
			t.Fatalf("value %d: %v, want %v", i, v, a.Data[i])
		}
	}
	// Truncated data, a bad magic and an unsupported dtype are refused.
	if _, err := readNPY(bytes.NewReader(b.Bytes()[:b.Len()-8]), int64(b.Len()-8)); err == nil {
		t.Error("truncated file accepted")
	}
	if _, err := readNPY(strings.NewReader("not an npy file at all"), 100); err == nil {
		t.Error("bad magic accepted")
	}
	if _, err := readNPY(bytes.NewReader(npyBytes(t, "<i8", false, []int{2}, make([]byte, 16))), 1000); err == nil || !strings.Contains(err.Error(), "float64") {
		t.Errorf("int64 array: err = %v, want a dtype error", err)
	}
}

// npyBytes builds a version-1 .npy stream by hand.
func npyBytes(t *testing.T, descr string, fortran bool, shape []int, data []byte) []byte {
	t.Helper()
	dims := ""
	for _, s := range shape {
		dims += strconv.Itoa(s) + ","
	}
	f := "False"
	if fortran {
		f = "True"
	}
	hdr := "{'descr': '" + descr + "', 'fortran_order': " + f + ", 'shape': (" + dims + "), }\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	var l [2]byte
	binary.LittleEndian.PutUint16(l[:], uint16(len(hdr)))
	b.Write(l[:])
	b.WriteString(hdr)
	b.Write(data)
	return b.Bytes()
}

func TestReadNPYFloat32BigEndianFortran(t *testing.T) {
	// A 2×2 big-endian float32 array in Fortran order: [[1, 2], [3, 4]].
	var data []byte
	for _, v := range []float32{1, 3, 2, 4} {
		var w [4]byte
		binary.BigEndian.PutUint32(w[:], math.Float32bits(v))
		data = append(data, w[:]...)
	}
	a, err := readNPY(bytes.NewReader(npyBytes(t, ">f4", true, []int{2, 2}, data)), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{1, 2, 3, 4}; a.Data[0] != want[0] || a.Data[1] != want[1] || a.Data[2] != want[2] || a.Data[3] != want[3] {
		t.Errorf("data %v, want %v", a.Data, want)
	}
}

func TestReadRows(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, a NDArray) string {
		p := filepath.Join(dir, name)
		var b bytes.Buffer
		if err := writeNPY(&b, a); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	one := write("one.npy", NDArray{Shape: []int{D}, Data: make([]float64, D)})
	if _, k, err := ReadRows(one, "readings"); err != nil || k != 1 {
		t.Errorf("(30,): k = %d, err = %v", k, err)
	}
	four := write("four.npy", NDArray{Shape: []int{4, D}, Data: make([]float64, 4*D)})
	if _, k, err := ReadRows(four, "readings"); err != nil || k != 4 {
		t.Errorf("(4, 30): k = %d, err = %v", k, err)
	}
	zero := write("zero.npy", NDArray{Shape: []int{0, D}, Data: nil})
	if _, _, err := ReadRows(zero, "readings"); err == nil || !strings.Contains(err.Error(), "k = 0") {
		t.Errorf("(0, 30): err = %v, want k = 0", err)
	}
	bad := write("bad.npy", NDArray{Shape: []int{3, 29}, Data: make([]float64, 3*29)})
	if _, _, err := ReadRows(bad, "readings"); err == nil || !strings.Contains(err.Error(), "[3 29]") {
		t.Errorf("(3, 29): err = %v, want the shape named", err)
	}
}

func TestPosteriorFileRoundTripAndRunID(t *testing.T) {
	dir := t.TempDir()
	k, n := 2, 3
	p := &Posterior{K: k, N: n, Q: make([]float64, k*n*D), NFE: []int{10, 12}}
	for i := range p.Q {
		p.Q[i] = float64(i%7) * 0.3
	}
	p.sampleMoments()
	obs := Observations{K: k, Readings: make([]float64, k*D)}
	spec := sample.Spec{Name: "ode"}
	f := &PosteriorFile{Meta: PosteriorMeta{Kind: KindModel, Model: "m", Sampler: &spec, Seed: 4}, Post: p, Obs: obs}
	path := filepath.Join(dir, "p.npz")
	if err := WritePosteriorFile(path, f); err != nil {
		t.Fatal(err)
	}
	g, err := ReadPosteriorFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if g.Post.K != k || g.Post.N != n || g.Post.NFE[1] != 12 || g.Meta.NFEMean != 11 || g.Meta.RunID == "" || g.Meta.Sampler.Name != "ode" {
		t.Errorf("read back %+v / %+v", g.Post, g.Meta)
	}
	for i := range p.Q {
		if g.Post.Q[i] != p.Q[i] {
			t.Fatalf("q[%d] = %v, want %v", i, g.Post.Q[i], p.Q[i])
		}
	}
	// A sidecar of another run is detected.
	other := filepath.Join(dir, "o.npz")
	p.Q[0] = 99
	if err := WritePosteriorFile(other, &PosteriorFile{Meta: f.Meta, Post: p, Obs: obs}); err != nil {
		t.Fatal(err)
	}
	side, _ := os.ReadFile(SidecarPath(other))
	if err := os.WriteFile(SidecarPath(path), side, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPosteriorFile(path); err == nil || !strings.Contains(err.Error(), "different runs") {
		t.Errorf("mixed run ids: err = %v", err)
	}
	if err := WritePosteriorFile(filepath.Join(dir, "p.txt"), f); err == nil {
		t.Error("a posterior file not ending in .npz was written")
	}
}
