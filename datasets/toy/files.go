package toy

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/pdediff/pdediff/lib/arrayio"
)

// DataMeta is the JSON sidecar FILE.json of a toy data file FILE.npz (arrays
// x and y of shape (n, 1), and run_id), written by SaveData.
type DataMeta struct {
	Case    string `json:"case"`
	N       int    `json:"n"`
	Seed    uint64 `json:"seed"`
	Version string `json:"version"`
	Arrays  string `json:"arrays"`
	// RunID is a content hash shared with the .npz's run_id array.
	RunID string `json:"run_id,omitempty"`
}

// SidecarPath returns FILE.json for FILE.npz (or FILE + ".json").
func SidecarPath(npz string) string {
	return strings.TrimSuffix(npz, ".npz") + ".json"
}

// SaveData writes x and y (n values each) to path (.npz, arrays x, y of shape
// (n, 1) and run_id) and meta to SidecarPath(path), as one group: both are
// written to temporaries first and renamed into place only when both are
// complete (arrayio.WriteFiles), so a failure leaves neither changed. Both
// record the same run id (a content hash, set in meta.RunID); LoadData
// rejects a pair from different runs.
func SaveData(path string, meta DataMeta, x, y []float64) error {
	if len(x) != len(y) {
		return fmt.Errorf("toy data: len(x) = %d but len(y) = %d", len(x), len(y))
	}
	n := len(x)
	meta.N = n
	meta.RunID = ""
	arrays := map[string]arrayio.Array{"x": arrayio.Matrix(n, 1, x), "y": arrayio.Matrix(n, 1, y)}
	id, err := arrayio.ContentRunID(meta, arrays)
	if err != nil {
		return err
	}
	meta.RunID = id
	if arrays[arrayio.RunIDKey], err = arrayio.RunIDArray(id); err != nil {
		return err
	}
	return arrayio.WriteFiles(arrayio.NPZFile(path, arrays), arrayio.JSONFile(SidecarPath(path), meta))
}

// LoadData reads a toy data file: arrays x and y of shape (n, 1) (or (n,)).
// When the sidecar FILE.json exists it is returned too and must come from the
// same run as the .npz (same run id); a .npz without a sidecar (made by other
// tools) is accepted with meta nil.
func LoadData(path string) (x, y []float64, meta *DataMeta, err error) {
	a, err := arrayio.ReadNPZ(path)
	if err != nil {
		return nil, nil, nil, err
	}
	xa, okx := a["x"]
	ya, oky := a["y"]
	if !okx || !oky || len(xa.Data) != len(ya.Data) || xa.Cols() != 1 || ya.Cols() != 1 {
		return nil, nil, nil, fmt.Errorf("%s: need arrays x and y of shape (n, 1) with the same n", path)
	}
	id, err := arrayio.ArrayRunID(a)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	side := SidecarPath(path)
	var m DataMeta
	switch err := arrayio.ReadJSON(side, &m); {
	case errors.Is(err, fs.ErrNotExist):
		return xa.Data, ya.Data, nil, nil
	case err != nil:
		return nil, nil, nil, err
	}
	if m.RunID != id {
		return nil, nil, nil, fmt.Errorf("%s (run %s) and its sidecar %s (run %s) come from different `toy data` runs (an interrupted write?); regenerate them",
			path, runName(id), side, runName(m.RunID))
	}
	if m.N != len(xa.Data) {
		return nil, nil, nil, fmt.Errorf("%s has %d samples but its sidecar %s says n = %d", path, len(xa.Data), side, m.N)
	}
	return xa.Data, ya.Data, &m, nil
}

func runName(id string) string {
	if id == "" {
		return "<none recorded>"
	}
	return id
}
