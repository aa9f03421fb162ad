// Package buildinfo reports the pdediff version and whether the binary was
// built with GOEXPERIMENT=simd, without which GoMLX's pure-Go backend and
// go-highway run several times slower.
package buildinfo

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"sync"
)

// Version is the version of the pdediff data formats and outputs, recorded in
// every JSON sidecar.
const Version = "0.2.0"

// SIMD reports whether the running binary was built with GOEXPERIMENT=simd.
func SIMD() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "GOEXPERIMENT" {
			for _, e := range strings.Split(s.Value, ",") {
				if e == "simd" {
					return true
				}
			}
		}
	}
	return false
}

var warnOnce sync.Once

// WarnIfSlow prints a one-line warning to w (once per process) when the binary
// was built without GOEXPERIMENT=simd.
func WarnIfSlow(w io.Writer) {
	warnOnce.Do(func() {
		if !SIMD() {
			fmt.Fprintln(w, "pdediff: warning: built without GOEXPERIMENT=simd; numerics run several times slower (rebuild with GOEXPERIMENT=simd)")
		}
	})
}
