//go:build xla

package backend

// With -tags xla the XLA/PJRT backend ("xla:cpu", "xla:cuda") is registered.
// The PJRT plugin must be installed on the machine (or downloadable by
// go-xla's installer); without it New returns an error for "xla:…".
import _ "github.com/gomlx/go-xla/compute/xla"
