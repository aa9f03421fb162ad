package arrayio

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// npyBytes builds a .npy (format 1.0) file by hand.
func npyBytes(descr string, fortran bool, shape []int, data []byte) []byte {
	sh := ""
	for _, s := range shape {
		sh += fmt.Sprintf("%d, ", s)
	}
	if len(shape) > 1 {
		sh = strings.TrimSuffix(sh, ", ")
	} else if len(shape) == 1 {
		sh = strings.TrimSuffix(sh, " ")
	}
	f := "False"
	if fortran {
		f = "True"
	}
	hdr := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }", descr, f, sh)
	for (10+len(hdr)+1)%64 != 0 {
		hdr += " "
	}
	hdr += "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(hdr)))
	b.WriteString(hdr)
	b.Write(data)
	return b.Bytes()
}

func enc(order binary.ByteOrder, vs ...any) []byte {
	var b bytes.Buffer
	for _, v := range vs {
		binary.Write(&b, order, v)
	}
	return b.Bytes()
}

// TestReadNPYConvertsDtypes: float32, signed and unsigned integers and bool
// (either byte order, C or Fortran order) are converted to float64.
func TestReadNPYConvertsDtypes(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	cases := []struct {
		descr   string
		fortran bool
		shape   []int
		data    []byte
		want    []float64
	}{
		{"<f4", false, []int{3}, enc(le, float32(1.5), float32(-2), float32(0.25)), []float64{1.5, -2, 0.25}},
		{">f4", false, []int{2}, enc(be, float32(3), float32(-0.5)), []float64{3, -0.5}},
		{">f8", false, []int{2}, enc(be, 1e10, -7.25), []float64{1e10, -7.25}},
		{"|i1", false, []int{3}, enc(le, int8(-128), int8(0), int8(127)), []float64{-128, 0, 127}},
		{"<i2", false, []int{2}, enc(le, int16(-300), int16(300)), []float64{-300, 300}},
		{"<i4", false, []int{2}, enc(le, int32(-70000), int32(5)), []float64{-70000, 5}},
		{"<i8", false, []int{2, 1}, enc(le, int64(-1)<<40, int64(9)), []float64{-(1 << 40), 9}},
		{"|u1", false, []int{2}, enc(le, uint8(255), uint8(1)), []float64{255, 1}},
		{"<u2", false, []int{1}, enc(le, uint16(65535)), []float64{65535}},
		{"<u4", false, []int{1}, enc(le, uint32(4000000000)), []float64{4e9}},
		{">u8", false, []int{1}, enc(be, uint64(1)<<52), []float64{1 << 52}},
		{"|b1", false, []int{3}, []byte{1, 0, 1}, []float64{1, 0, 1}},
		// Fortran order: column-major on disk, row-major in the Array.
		{"<i4", true, []int{2, 3}, enc(le, int32(1), int32(4), int32(2), int32(5), int32(3), int32(6)), []float64{1, 2, 3, 4, 5, 6}},
		{"<f8", true, []int{2, 2}, enc(le, 1.0, 3.0, 2.0, 4.0), []float64{1, 2, 3, 4}},
	}
	dir := t.TempDir()
	for i, c := range cases {
		p := filepath.Join(dir, fmt.Sprintf("a%d.npy", i))
		if err := os.WriteFile(p, npyBytes(c.descr, c.fortran, c.shape, c.data), 0o644); err != nil {
			t.Fatal(err)
		}
		a, err := ReadNPY(p)
		if err != nil {
			t.Errorf("%s %v: %v", c.descr, c.shape, err)
			continue
		}
		if !slices.Equal(a.Shape, c.shape) || !slices.Equal(a.Data, c.want) {
			t.Errorf("%s %v fortran=%v: got shape %v data %v, want %v", c.descr, c.shape, c.fortran, a.Shape, a.Data, c.want)
		}
	}
	// The same conversions inside an .npz archive.
	var zbuf bytes.Buffer
	zw := newTestZip(&zbuf)
	zw.add("x.npy", npyBytes("<f4", false, []int{2}, enc(le, float32(1), float32(2))))
	zw.add("m.npy", npyBytes("|u1", false, []int{1, 2}, []byte{7, 8}))
	zw.close()
	zp := filepath.Join(dir, "z.npz")
	os.WriteFile(zp, zbuf.Bytes(), 0o644)
	m, err := ReadNPZ(zp)
	if err != nil || !slices.Equal(m["x"].Data, []float64{1, 2}) || !slices.Equal(m["m"].Data, []float64{7, 8}) || m["m"].Cols() != 2 {
		t.Errorf("npz conversions: %+v %v", m, err)
	}
}

// TestReadNPYErrorsNameDtype: unsupported dtypes, lossy int64 values and
// truncated data are refused with the dtype found in the message.
func TestReadNPYErrorsNameDtype(t *testing.T) {
	le := binary.LittleEndian
	cases := []struct {
		descr string
		shape []int
		data  []byte
		want  string
	}{
		{"<c16", []int{1}, make([]byte, 16), `"<c16" (complex128)`},
		{"<U3", []int{1}, make([]byte, 12), `"<U3" (unicode string`},
		{"<f2", []int{1}, make([]byte, 2), `"<f2" (float16)`},
		{"<i8", []int{1}, enc(le, int64(1)<<60), "int64 value"},
		{"<f4", []int{4}, enc(le, float32(1)), "needs 16 data bytes"},
		{"<f8", []int{2, 2, 2}, make([]byte, 64), "rank 3"},
		{"<f4", []int{2}, enc(le, float32(1), float32(math.NaN())), "non-finite"},
	}
	dir := t.TempDir()
	for i, c := range cases {
		p := filepath.Join(dir, fmt.Sprintf("b%d.npy", i))
		os.WriteFile(p, npyBytes(c.descr, false, c.shape, c.data), 0o644)
		_, err := ReadNPY(p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: got %v, want an error containing %q", c.descr, c.shape, err, c.want)
		}
	}
	// A header claiming a huge shape is refused before allocating.
	p := filepath.Join(dir, "huge.npy")
	os.WriteFile(p, npyBytes("<f8", false, []int{1 << 40}, make([]byte, 8)), 0o644)
	if _, err := ReadNPY(p); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("huge header: %v", err)
	}
}

// deadPID returns the PID of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	c := exec.Command("true")
	if err := c.Run(); err != nil {
		t.Skip("cannot run true:", err)
	}
	return c.Process.Pid
}

func touch(t *testing.T, p string, dir bool, age time.Duration) {
	t.Helper()
	var err error
	if dir {
		err = os.MkdirAll(filepath.Join(p, "inner"), 0o755)
	} else {
		err = os.WriteFile(p, []byte("partial"), 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	if age > 0 {
		tm := time.Now().Add(-age)
		os.Chtimes(p, tm, tm)
	}
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

// TestCleanStale: temporaries of dead writers (and old PID-less ones) go;
// those of live writers, fresh PID-less ones and other files stay; a folder
// set aside by a killed ReplaceDir is restored when its destination is
// missing.
func TestCleanStale(t *testing.T) {
	dir := t.TempDir()
	dead, self, parent := deadPID(t), os.Getpid(), os.Getppid()
	stale := []string{
		fmt.Sprintf(".train.npz.tmp-%d-0123abcd", dead),
		fmt.Sprintf(".ckpt.tmp-%d-deadbeef", dead), // a folder
		fmt.Sprintf(".losses.npy.tmp-%d-00000000", self),
		".train.npz.tmp-123456789", // legacy, old
		".tmp-ckpt-987654321",      // legacy checkpoint folder, old
		fmt.Sprintf(".data.old-%d-0badf00d", dead),
	}
	keep := []string{
		fmt.Sprintf(".live.npz.tmp-%d-11111111", self),
		fmt.Sprintf(".live.json.tmp-%d-22222222", parent),
		".fresh.npz.tmp-55555", // legacy, fresh
		"train.npz", ".hidden", "x.tmp-1-2", fmt.Sprintf(".y.tmp-%d-XYZ", dead),
	}
	touch(t, filepath.Join(dir, stale[0]), false, 0)
	touch(t, filepath.Join(dir, stale[1]), true, 0)
	touch(t, filepath.Join(dir, stale[2]), false, time.Hour) // our PID, but older than this process: a reused PID
	touch(t, filepath.Join(dir, stale[3]), false, time.Hour)
	touch(t, filepath.Join(dir, stale[4]), true, time.Hour)
	touch(t, filepath.Join(dir, stale[5]), true, 0) // "data" is missing: restored
	for _, k := range keep {
		touch(t, filepath.Join(dir, k), false, 0)
	}
	done, err := CleanStale(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stale {
		if exists(filepath.Join(dir, s)) {
			t.Errorf("stale %s kept", s)
		}
	}
	for _, k := range keep {
		if !exists(filepath.Join(dir, k)) {
			t.Errorf("%s removed", k)
		}
	}
	if !exists(filepath.Join(dir, "data", "inner")) {
		t.Error("set-aside folder not restored to data")
	}
	if len(done) != len(stale) {
		t.Errorf("reported %d paths, want %d: %v", len(done), len(stale), done)
	}
	// With the destination present, a stale set-aside folder is removed.
	old := filepath.Join(dir, fmt.Sprintf(".data.old-%d-0badf00d", dead))
	touch(t, old, true, 0)
	CleanStale(dir)
	if exists(old) || !exists(filepath.Join(dir, "data", "inner")) {
		t.Error("stale set-aside folder beside its destination not removed")
	}
}

// TestWriteCleansStaleTemporaries: the next write into a folder removes the
// temporaries a killed writer left there, and its own temporary carries the
// PID.
func TestWriteCleansStaleTemporaries(t *testing.T) {
	dir := t.TempDir()
	left := filepath.Join(dir, fmt.Sprintf(".train.npz.tmp-%d-abcdef01", deadPID(t)))
	touch(t, left, false, 0)
	var tmpName string
	err := WriteAtomic(filepath.Join(dir, "a.json"), func(w io.Writer) error {
		f := w.(*os.File)
		tmpName = filepath.Base(f.Name())
		_, err := w.Write([]byte("{}\n"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if exists(left) {
		t.Error("stale temporary survived the next write")
	}
	if !strings.HasPrefix(tmpName, fmt.Sprintf(".a.json.tmp-%d-", os.Getpid())) || !IsTemp(tmpName) {
		t.Errorf("temporary name %q does not carry the PID", tmpName)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("entries %v", entries)
	}
}

// TestWriteFilesAllOrNothing: a failing file of a group leaves every file of
// the group as it was.
func TestWriteFilesAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.npz"), filepath.Join(dir, "a.json")
	if err := WriteFiles(NPZFile(a, map[string]Array{"x": Vector([]float64{1})}), JSONFile(b, 1)); err != nil {
		t.Fatal(err)
	}
	err := WriteFiles(NPZFile(a, map[string]Array{"x": Vector([]float64{2})}),
		File{Path: b, Fill: func(io.Writer) error { return errors.New("disk full") }})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("got %v", err)
	}
	if m, err := ReadNPZ(a); err != nil || m["x"].Data[0] != 1 {
		t.Errorf("first file of a failed group replaced: %v %v", m, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporaries left: %v", entries)
	}
}

// TestReplaceDir: the folder is replaced whole; a failing fill keeps the old
// one; no temporaries are left.
func TestReplaceDir(t *testing.T) {
	root := t.TempDir()
	d := filepath.Join(root, "set")
	fill := func(v string) func(string) error {
		return func(tmp string) error { return os.WriteFile(filepath.Join(tmp, "f"), []byte(v), 0o644) }
	}
	if err := ReplaceDir(d, fill("1")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(d, "stray"), nil, 0o644)
	if err := ReplaceDir(d, fill("2")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(d, "f")); string(b) != "2" || exists(filepath.Join(d, "stray")) {
		t.Errorf("not replaced whole: %q", b)
	}
	if err := ReplaceDir(d, func(tmp string) error { fill("3")(tmp); return errors.New("boom") }); err == nil {
		t.Fatal("fill error lost")
	}
	if b, _ := os.ReadFile(filepath.Join(d, "f")); string(b) != "2" {
		t.Errorf("failed replace changed the folder: %q", b)
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 {
		t.Errorf("temporaries left: %v", entries)
	}
	// A file in the way is refused.
	f := filepath.Join(root, "file")
	os.WriteFile(f, nil, 0o644)
	if err := ReplaceDir(f, fill("x")); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("file destination: %v", err)
	}
}

func TestCheckMemory(t *testing.T) {
	t.Setenv(MemoryLimitEnv, "1GiB")
	if avail, src := AvailableMemory(); avail != 1<<30 || !strings.Contains(src, MemoryLimitEnv) {
		t.Errorf("override: %v %s", avail, src)
	}
	if err := CheckMemory("small", 1e6, "lower --n"); err != nil {
		t.Error(err)
	}
	err := CheckMemory("toy data with --n 1e12", 3.2e13, "lower --n")
	var me *MemoryError
	if !errors.Is(err, ErrNotEnoughMemory) || !errors.As(err, &me) ||
		!strings.Contains(err.Error(), "29.1 TiB") || !strings.Contains(err.Error(), "1.0 GiB") || !strings.Contains(err.Error(), "lower --n") {
		t.Errorf("refusal: %v", err)
	}
	if CheckMemory("nan", math.NaN(), "") == nil || CheckMemory("inf", math.Inf(1), "") == nil {
		t.Error("NaN/Inf need accepted")
	}
	t.Setenv(MemoryLimitEnv, "")
	if avail, src := AvailableMemory(); !(avail > 0) || src == "" {
		t.Errorf("machine: %v %q", avail, src)
	}
	for s, want := range map[string]float64{"512": 512, "2KiB": 2048, "1.5 GB": 1.5e9, "3g": 3 << 30, "7 B": 7} {
		if got, err := ParseBytes(s); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	if _, err := ParseBytes("lots"); err == nil {
		t.Error("bad size parsed")
	}
	for b, want := range map[float64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 8e12: "7.3 TiB", 1e30: "1.0e+30 B"} {
		if got := FormatBytes(b); got != want {
			t.Errorf("FormatBytes(%v) = %q, want %q", b, got, want)
		}
	}
}

func TestCheckOutput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	for _, c := range []struct {
		err  error
		want string
	}{
		{CheckOutputDir(file), "is an existing file, not a folder"},
		{CheckOutputDir(filepath.Join(file, "sub", "deeper")), "is a file, not a folder"},
		{CheckOutputFile(dir), "is an existing folder, not a file"},
		{CheckOutputFile(filepath.Join(file, "x.npz")), "not a folder"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("got %v, want %q", c.err, c.want)
		}
	}
	for _, err := range []error{CheckOutputDir(dir), CheckOutputDir(filepath.Join(dir, "new", "deeper")),
		CheckOutputFile(file), CheckOutputFile(filepath.Join(dir, "new", "x.npz"))} {
		if err != nil {
			t.Error(err)
		}
	}
	if exists(filepath.Join(dir, "new")) {
		t.Error("a check created a folder")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("probe left behind: %v", entries)
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o555)
		if err := CheckOutputDir(filepath.Join(ro, "sub")); err == nil || !strings.Contains(err.Error(), "not writable") {
			t.Errorf("read-only parent: %v", err)
		}
	}
}

type testZip struct{ zw *zip.Writer }

func newTestZip(w io.Writer) testZip { return testZip{zip.NewWriter(w)} }

func (z testZip) add(name string, b []byte) {
	f, _ := z.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
	f.Write(b)
}

func (z testZip) close() { z.zw.Close() }
