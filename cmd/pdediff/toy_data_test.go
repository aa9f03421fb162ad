package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pdediff/pdediff/datasets/toy"
	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/buildinfo"
)

func TestToyData(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "b.npz")
	var out, errb bytes.Buffer
	if code := run([]string{"toy", "data", "--case", "bimodal", "--n", "500", "--seed", "9", "--out", path}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	arrs, err := arrayio.ReadNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	wx, wy, _ := toy.Sample(toy.Bimodal, 500, 9)
	if !slices.Equal(arrs["x"].Shape, []int{500, 1}) || !slices.Equal(arrs["x"].Data, wx) || !slices.Equal(arrs["y"].Data, wy) {
		t.Errorf("npz arrays differ from toy.Sample: shapes %v %v", arrs["x"].Shape, arrs["y"].Shape)
	}
	b, err := os.ReadFile(filepath.Join(dir, "b.json"))
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	if meta["case"] != "bimodal" || meta["n"] != 500.0 || meta["seed"] != 9.0 || meta["version"] != buildinfo.Version {
		t.Errorf("sidecar %v", meta)
	}
	for _, bad := range [][]string{
		{"toy", "data", "--case", "moon", "--out", path},
		{"toy", "data", "--out", path},
		{"toy", "data", "--case", "tanh", "--n", "0", "--out", path},
		{"toy", "data", "--case", "tanh", "--out", filepath.Join(dir, "x.txt")},
		{"toy", "data", "--case", "tanh", "--bogus", "--out", path},
	} {
		errb.Reset()
		if code := run(bad, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", bad, code, errb.String())
		}
	}
}
