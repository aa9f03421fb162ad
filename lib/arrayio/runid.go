package arrayio

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// RunIDKey is the name of the array that records the run id in every .npz of
// a multi-file data set (a (1,) float64 array holding the id as an integer
// below 2^52, so that numpy reads it exactly: int(npz["run_id"][0]) ==
// int(meta["run_id"], 16)).
const RunIDKey = "run_id"

// ContentRunID returns a run id for a set of files: 13 hex digits (52 bits) of
// the SHA-256 of meta's JSON and of every array (names sorted within each map,
// shapes, float64 bits, maps in order). It is a content hash, so the same run
// (same seed and options) gets the same id and writes identical bytes, while
// files of runs with different content can be told apart.
func ContentRunID(meta any, arrays ...map[string]Array) (string, error) {
	h := sha256.New()
	b, err := json.Marshal(meta)
	if err != nil {
		return "", err
	}
	h.Write(b)
	var buf [8]byte
	for k, m := range arrays {
		names := make([]string, 0, len(m))
		for name := range m {
			names = append(names, name)
		}
		sort.Strings(names)
		fmt.Fprintf(h, "\x00map %d\x00", k)
		for _, name := range names {
			a := m[name]
			fmt.Fprintf(h, "%s %v\x00", name, a.Shape)
			chunk := make([]byte, 0, 8*1024)
			for _, v := range a.Data {
				binary.LittleEndian.PutUint64(buf[:], math.Float64bits(v))
				chunk = append(chunk, buf[:]...)
				if len(chunk) == cap(chunk) {
					h.Write(chunk)
					chunk = chunk[:0]
				}
			}
			h.Write(chunk)
		}
	}
	sum := h.Sum(nil)
	id := binary.BigEndian.Uint64(sum[:8]) >> 12
	return fmt.Sprintf("%013x", id), nil
}

// RunIDArray returns the RunIDKey array for a run id from ContentRunID.
func RunIDArray(id string) (Array, error) {
	v, err := strconv.ParseUint(id, 16, 64)
	if err != nil || v >= 1<<52 {
		return Array{}, fmt.Errorf("invalid run id %q (want at most 13 hex digits)", id)
	}
	return Vector([]float64{float64(v)}), nil
}

// ArrayRunID returns the run id recorded in arrays[RunIDKey], or "" when the
// arrays hold none (files written before run ids).
func ArrayRunID(arrays map[string]Array) (string, error) {
	a, ok := arrays[RunIDKey]
	if !ok {
		return "", nil
	}
	if len(a.Data) != 1 || a.Data[0] < 0 || a.Data[0] >= 1<<52 || a.Data[0] != math.Trunc(a.Data[0]) {
		return "", fmt.Errorf("array %q is not a run id (want one integer below 2^52), got shape %v", RunIDKey, a.Shape)
	}
	return fmt.Sprintf("%013x", uint64(a.Data[0])), nil
}
