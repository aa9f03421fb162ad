package buildinfo

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestWarnMatchesBuild(t *testing.T) {
	var b bytes.Buffer
	WarnIfSlow(&b)
	if SIMD() != (b.Len() == 0) {
		t.Fatalf("SIMD()=%v but warning %q", SIMD(), b.String())
	}
	// The project's build paths all set GOEXPERIMENT=simd; the test binary must have it.
	if strings.Contains(os.Getenv("GOEXPERIMENT"), "simd") && !SIMD() {
		t.Fatal("GOEXPERIMENT=simd in the environment but the binary was built without it")
	}
}
