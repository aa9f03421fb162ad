package arrayio

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// MemoryLimitEnv names an environment variable that, when set (bytes, or a
// size such as "512MiB", "2GB", "1.5GiB"), replaces the memory the machine
// reports as available, for CheckMemory.
const MemoryLimitEnv = "PDEDIFF_MEMORY_LIMIT"

// FallbackMemory is the memory CheckMemory assumes available when neither
// /proc/meminfo nor a cgroup limit can be read (4 GiB).
const FallbackMemory = 4 << 30

// ErrNotEnoughMemory is wrapped by the *MemoryError CheckMemory returns.
var ErrNotEnoughMemory = errors.New("not enough memory")

// MemoryError is a run refused before it starts because its estimated memory
// need exceeds what is available.
type MemoryError struct {
	What      string  // the run, e.g. "toy data with --n 1000000000000"
	Need      float64 // estimated peak bytes
	Available float64 // bytes available
	Source    string  // where Available came from
	Hint      string  // what to change, e.g. "lower --n"
}

func (e *MemoryError) Error() string {
	s := fmt.Sprintf("%s needs about %s of memory, but only %s is available (%s)",
		e.What, FormatBytes(e.Need), FormatBytes(e.Available), e.Source)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

func (e *MemoryError) Unwrap() error { return ErrNotEnoughMemory }

// CheckMemory returns a *MemoryError when need (estimated peak bytes of a run
// described by what) exceeds AvailableMemory, and nil otherwise. Call it
// before allocating: a Go program that asks for more memory than the machine
// has dies with "fatal error: runtime: out of memory", which cannot be
// recovered. need is a float64 so that estimates of absurd sizes (1e12
// samples × 1e3 bytes) do not overflow; NaN or +Inf is always refused.
func CheckMemory(what string, need float64, hint string) error {
	avail, src := AvailableMemory()
	if need <= avail && !math.IsNaN(need) {
		return nil
	}
	return &MemoryError{What: what, Need: need, Available: avail, Source: src, Hint: hint}
}

// AvailableMemory returns the bytes a new allocation can use and where the
// figure comes from: $PDEDIFF_MEMORY_LIMIT if set, otherwise the smaller of
// MemAvailable in /proc/meminfo and the free part of a cgroup (v2 or v1)
// memory limit, otherwise FallbackMemory.
func AvailableMemory() (float64, string) {
	if v := os.Getenv(MemoryLimitEnv); v != "" {
		if b, err := ParseBytes(v); err == nil {
			return b, "$" + MemoryLimitEnv
		}
	}
	avail, src := math.Inf(1), ""
	if kb, ok := meminfoField("/proc/meminfo", "MemAvailable"); ok {
		avail, src = kb*1024, "MemAvailable in /proc/meminfo"
	}
	if free, ok := cgroupFree(); ok && free < avail {
		avail, src = free, "free part of the cgroup memory limit"
	}
	if math.IsInf(avail, 1) {
		return FallbackMemory, "fixed fallback: /proc/meminfo unreadable"
	}
	return avail, src
}

// meminfoField returns a "Name: N kB" field of a meminfo-style file, in kB.
func meminfoField(path, name string) (float64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != name {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			return 0, false
		}
		n, err := strconv.ParseFloat(fs[0], 64)
		return n, err == nil
	}
	return 0, false
}

func readNumber(path string) (float64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
	return n, err == nil
}

// statField returns "name N" from a cgroup memory.stat file.
func statField(path, name string) float64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == name {
			n, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return n
		}
	}
	return 0
}

// cgroupFree returns limit − (usage − inactive page cache) of the process's
// cgroup when it has a memory limit.
func cgroupFree() (float64, bool) {
	const unlimited = 1 << 60
	if lim, ok := readNumber("/sys/fs/cgroup/memory.max"); ok && lim < unlimited { // v2 ("max" fails to parse)
		use, _ := readNumber("/sys/fs/cgroup/memory.current")
		use -= statField("/sys/fs/cgroup/memory.stat", "inactive_file")
		return max(0, lim-max(use, 0)), true
	}
	if lim, ok := readNumber("/sys/fs/cgroup/memory/memory.limit_in_bytes"); ok && lim < unlimited { // v1
		use, _ := readNumber("/sys/fs/cgroup/memory/memory.usage_in_bytes")
		use -= statField("/sys/fs/cgroup/memory/memory.stat", "total_inactive_file")
		return max(0, lim-max(use, 0)), true
	}
	return 0, false
}

// FormatBytes formats a byte count in binary units: "512 B", "1.5 KiB",
// "3.2 GiB", "8.0 PiB"; beyond EiB it uses an exponent ("8.0e+21 B").
func FormatBytes(b float64) string {
	if math.IsNaN(b) || math.IsInf(b, 0) {
		return fmt.Sprint(b) + " B"
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := 0
	v := b
	for math.Abs(v) >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if math.Abs(v) >= 1024 {
		return fmt.Sprintf("%.1e B", b)
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", v)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// ParseBytes parses a size: a plain number of bytes ("1e9") or a number with
// a unit B, kB/KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers
// of 1024); case-insensitive, spaces allowed.
func ParseBytes(s string) (float64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := 1.0
	for _, u := range []struct {
		suf string
		m   float64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
		{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12}, {"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40}, {"b", 1}} {
		if strings.HasSuffix(t, u.suf) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suf)), u.m
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v >= 0) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("invalid size %q (want e.g. 2GiB, 500MB or a number of bytes)", s)
	}
	return v * mult, nil
}
