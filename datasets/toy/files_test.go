package toy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/lib/arrayio"
)

func TestSaveLoadDataRunID(t *testing.T) {
	dir := t.TempDir()
	x, y, _ := Sample(Tanh, 50, 1)
	p := filepath.Join(dir, "d.npz")
	if err := SaveData(p, DataMeta{Case: "tanh", Seed: 1}, x, y); err != nil {
		t.Fatal(err)
	}
	gx, gy, m, err := LoadData(p)
	if err != nil || m == nil || m.N != 50 || len(m.RunID) != 13 || gx[7] != x[7] || gy[49] != y[49] {
		t.Fatalf("round trip: %+v %v", m, err)
	}
	// A pair from two runs is refused.
	x2, y2, _ := Sample(Tanh, 50, 2)
	q := filepath.Join(dir, "e.npz")
	if err := SaveData(q, DataMeta{Case: "tanh", Seed: 2}, x2, y2); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(SidecarPath(q))
	os.WriteFile(SidecarPath(p), b, 0o644)
	if _, _, _, err := LoadData(p); err == nil || !strings.Contains(err.Error(), "different `toy data` runs") {
		t.Errorf("mixed pair: %v", err)
	}
	// Without a sidecar the archive alone is accepted.
	os.Remove(SidecarPath(p))
	if _, _, m, err := LoadData(p); err != nil || m != nil {
		t.Errorf("no sidecar: %v %v", m, err)
	}
	// A failing group write leaves nothing (the sidecar cannot be written: a folder is in its way).
	r := filepath.Join(dir, "f.npz")
	os.Mkdir(SidecarPath(r), 0o755)
	if err := SaveData(r, DataMeta{Case: "tanh"}, x, y); err == nil {
		t.Error("sidecar failure not reported")
	}
	if _, err := os.Stat(r); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the .npz was left behind when its sidecar failed: %v", err)
	}
}

func TestAbsurdSizesRefused(t *testing.T) {
	t.Setenv(arrayio.MemoryLimitEnv, "1GiB")
	if _, _, err := Sample(Tanh, 1e12, 1); !errors.Is(err, arrayio.ErrNotEnoughMemory) {
		t.Errorf("Sample: %v", err)
	}
	if _, err := Reference(Tanh, []float64{0}, ReferenceOptions{Size: 1e12}, 1); !errors.Is(err, arrayio.ErrNotEnoughMemory) {
		t.Errorf("Reference: %v", err)
	}
	if _, err := ExactConditional(Tanh, 0, 1e12, 1); !errors.Is(err, arrayio.ErrNotEnoughMemory) {
		t.Errorf("ExactConditional: %v", err)
	}
}
