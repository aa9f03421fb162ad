package arrayio

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTripNPZAndNPY(t *testing.T) {
	dir := t.TempDir()
	x := Matrix(3, 2, []float64{1, 2, 3, 4, 5, 6})
	y := Vector([]float64{-1.5, 0, 2.25})
	p := filepath.Join(dir, "d.npz")
	if err := WriteNPZ(p, map[string]Array{"x": x, "y": y}); err != nil {
		t.Fatal(err)
	}
	got, err := ReadNPZ(p)
	if err != nil {
		t.Fatal(err)
	}
	if g := got["x"]; g.Rows() != 3 || g.Cols() != 2 || g.Data[3] != 4 || g.Data[5] != 6 {
		t.Errorf("x round trip: %+v", g)
	}
	if g := got["y"]; len(g.Shape) != 1 || g.Data[2] != 2.25 {
		t.Errorf("y round trip: %+v", g)
	}
	q := filepath.Join(dir, "q.npy")
	if err := WriteNPY(q, x); err != nil {
		t.Fatal(err)
	}
	a, err := ReadNPY(q)
	if err != nil || a.Rows() != 3 || a.Cols() != 2 || a.Data[1] != 2 {
		t.Fatalf("npy round trip: %+v %v", a, err)
	}
}

func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "keep.npy")
	if err := WriteNPY(p, Vector([]float64{1, 2})); err != nil {
		t.Fatal(err)
	}
	// A failing write must leave the old file intact and no temporary behind.
	err := WriteNPY(p, Vector([]float64{1, math.NaN()}))
	if err == nil || !strings.Contains(err.Error(), "non-finite") {
		t.Fatalf("NaN write: got %v", err)
	}
	if a, err := ReadNPY(p); err != nil || a.Data[1] != 2 {
		t.Fatalf("old file damaged: %v %v", a, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if err := WriteNPY(p, Array{Shape: []int{3}, Data: []float64{1}}); err == nil {
		t.Error("shape mismatch accepted")
	}
	bad := filepath.Join(dir, "bad.npy")
	os.WriteFile(bad, []byte("not numpy"), 0o644)
	if _, err := ReadNPY(bad); err == nil {
		t.Error("garbage .npy accepted")
	}
	if _, err := ReadNPY(filepath.Join(dir, "missing.npy")); err == nil {
		t.Error("missing file accepted")
	}
}
