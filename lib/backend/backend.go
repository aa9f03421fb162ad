// Package backend selects the GoMLX compute backend for every graph built by
// pdediff (score networks, training, samplers).
//
// The pure-Go backend ("go") is always compiled in and is the default. XLA
// ("xla:cpu", "xla:cuda", …) is compiled in only with the build tag `xla`
// (go build -tags xla) and needs its PJRT plugin at run time; no code path of
// pdediff requires it.
//
// The choice is read from the environment variable GOMLX_BACKEND (EnvVar), the
// same variable GoMLX itself reads.
package backend

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // registers the pure-Go backend "go"
)

// EnvVar is the environment variable that names the backend configuration,
// "<name>[:<config>]", e.g. "go" or "xla:cpu".
const EnvVar = compute.ConfigEnvVar

// Default is the backend configuration used when EnvVar is unset or empty.
const Default = "go"

// Available lists the names of the backends compiled into this binary, sorted.
func Available() []string {
	names := compute.List()
	sort.Strings(names)
	return names
}

// Config returns the backend configuration that New would use: the value of
// EnvVar, or Default when it is unset or blank.
func Config() string {
	c := strings.TrimSpace(os.Getenv(EnvVar))
	if c == "" {
		return Default
	}
	return c
}

// New returns a new backend configured from GOMLX_BACKEND (default "go").
// An unknown or unavailable backend gives an error that names the variable and
// lists the backends compiled in.
func New() (compute.Backend, error) {
	return NewWithConfig(Config())
}

// NewWithConfig returns a new backend for the configuration "<name>[:<config>]".
// Unlike compute.NewWithConfig it never panics: unknown names and failing
// constructors (e.g. a missing PJRT plugin) come back as errors.
func NewWithConfig(config string) (b compute.Backend, err error) {
	config = strings.TrimSpace(config)
	if config == "" {
		config = Default
	}
	name, _, _ := strings.Cut(config, ":")
	avail := Available()
	found := false
	for _, n := range avail {
		if n == name {
			found = true
			break
		}
	}
	if !found {
		hint := ""
		if name == "xla" {
			hint = " (XLA is compiled in only with `go build -tags xla`)"
		}
		return nil, fmt.Errorf("backend: %s=%q names backend %q, which is not available in this binary%s; available: %s",
			EnvVar, config, name, hint, strings.Join(avail, ", "))
	}
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("backend: %s=%q: backend %q failed to start: %v", EnvVar, config, name, r)
		}
	}()
	b, err = compute.NewWithConfig(config)
	if err != nil {
		return nil, fmt.Errorf("backend: %s=%q: backend %q failed to start: %w", EnvVar, config, name, err)
	}
	return b, nil
}

var (
	sharedOnce    sync.Once
	sharedBackend compute.Backend
	sharedErr     error
)

// Shared returns one process-wide backend created by New on first use. Graphs
// and tensors built on one backend must be executed on it, so library code that
// is not handed a backend uses this one.
func Shared() (compute.Backend, error) {
	sharedOnce.Do(func() { sharedBackend, sharedErr = New() })
	return sharedBackend, sharedErr
}
