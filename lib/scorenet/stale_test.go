package scorenet

import (
	"os"
	"path/filepath"
	"testing"
)

// A checkpoint folder left by a killed writer (its PID is dead) is removed
// by the next Save into the model folder.
func TestSaveRemovesStaleCheckpointTemporaries(t *testing.T) {
	n, err := New(testBackend(t), Config{XDim: 1, HiddenLayers: 1, Width: 4}, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	stale := filepath.Join(dir, ".ckpt.tmp-999999999-deadbeef")
	if err := os.MkdirAll(filepath.Join(stale, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := n.Save(dir, Meta{Step: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale checkpoint temporary survived a save: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != MetaFile && e.Name() != "ckpt-000000001" {
			t.Errorf("unexpected entry %s after save", e.Name())
		}
	}
}
