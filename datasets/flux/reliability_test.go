package flux

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/lib/arrayio"
)

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLoadRejectsMixedRuns: every file records the run id; a folder mixing
// files of two runs (same shapes) is refused with a clear message.
func TestLoadRejectsMixedRuns(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	if err := Save(a, gen(t, Options{NTrain: 20, NTest: 5, Seed: 1})); err != nil {
		t.Fatal(err)
	}
	if err := Save(b, gen(t, Options{NTrain: 20, NTest: 5, Seed: 2})); err != nil {
		t.Fatal(err)
	}
	ds, err := Load(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Meta.RunID) != 13 {
		t.Errorf("run id %q", ds.Meta.RunID)
	}
	arrs, _ := arrayio.ReadNPZ(filepath.Join(a, TestFile))
	if id, err := arrayio.ArrayRunID(arrs); err != nil || id != ds.Meta.RunID {
		t.Errorf("test.npz run id %q (%v), data.json %q", id, err, ds.Meta.RunID)
	}
	for _, f := range []string{TrainFile, TestFile, MetaFile} {
		mixed := filepath.Join(root, "mixed-"+f)
		os.MkdirAll(mixed, 0o755)
		for _, g := range []string{TrainFile, TestFile, MetaFile} {
			src := a
			if g == f {
				src = b
			}
			copyFile(t, filepath.Join(src, g), filepath.Join(mixed, g))
		}
		if _, err := Load(mixed); err == nil || !strings.Contains(err.Error(), "mixes files of two") {
			t.Errorf("%s from another run: Load error %v", f, err)
		}
	}
	// Same seed, same options: same run id (a content hash).
	c := filepath.Join(root, "c")
	if err := Save(c, gen(t, Options{NTrain: 20, NTest: 5, Seed: 1})); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{TrainFile, TestFile, MetaFile} {
		x, _ := os.ReadFile(filepath.Join(a, f))
		y, _ := os.ReadFile(filepath.Join(c, f))
		if string(x) != string(y) {
			t.Errorf("%s differs between two runs with the same seed", f)
		}
	}
}

// TestSaveReplacesFolderWhole: Save swaps in a complete new folder, cleans
// temporaries of killed writers, refuses a folder with other files, and Load
// restores a set left aside by a writer killed mid-swap.
func TestSaveReplacesFolderWhole(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "data")
	if err := Save(dir, gen(t, Options{NTrain: 20, NTest: 5, Seed: 1})); err != nil {
		t.Fatal(err)
	}
	c := exec.Command("true")
	c.Run()
	dead := c.Process.Pid
	staleIn := filepath.Join(dir, ".train.npz.tmp-123")
	os.WriteFile(staleIn, nil, 0o644)
	staleBeside := filepath.Join(root, fmt.Sprintf(".data.tmp-%d-0123abcd", dead))
	os.MkdirAll(staleBeside, 0o755)
	ds2 := gen(t, Options{NTrain: 20, NTest: 5, Seed: 2})
	if err := Save(dir, ds2); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil || got.Meta.Seed != 2 || got.Meta.RunID != ds2.Meta.RunID {
		t.Fatalf("after replace: %+v %v", got, err)
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 {
		t.Errorf("temporaries beside the folder: %v", entries)
	}
	entries, _ = os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("folder entries %v", entries)
	}
	// Other files: refused before anything is written.
	os.WriteFile(filepath.Join(dir, "model.bin"), []byte("keep"), 0o644)
	if err := Save(dir, ds2); err == nil || !strings.Contains(err.Error(), "model.bin") {
		t.Errorf("folder with other files: %v", err)
	}
	if err := CheckOutDir(filepath.Join(dir, TrainFile)); err == nil {
		t.Error("a file accepted as data folder")
	}
	os.Remove(filepath.Join(dir, "model.bin"))
	// Killed between setting the old folder aside and renaming the new one in.
	aside := filepath.Join(root, fmt.Sprintf(".data.old-%d-0badf00d", dead))
	if err := os.Rename(dir, aside); err != nil {
		t.Fatal(err)
	}
	if got, err := Load(dir); err != nil || got.Meta.Seed != 2 {
		t.Errorf("set-aside folder not restored: %v", err)
	}
}

func TestGenerateRefusesAbsurdSize(t *testing.T) {
	t.Setenv(arrayio.MemoryLimitEnv, "1GiB")
	_, err := Generate(context.Background(), newFake(), Options{NTrain: 1e11, NTest: 1})
	if !errors.Is(err, arrayio.ErrNotEnoughMemory) || !strings.Contains(err.Error(), "TiB") {
		t.Errorf("got %v", err)
	}
	if b := EstimateBytes(9000, 1000); b < 1.4e7 || b > 2e7 {
		t.Errorf("estimate %v", b)
	}
}
