package main

// Guards shared by the commands, run before any work: memory estimates
// against what the machine has, and output locations. See docs/reliability.md.

import (
	"fmt"

	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/physics"
)

// checkMemory refuses a run whose estimated peak memory need (bytes; a
// float64 so that absurd sizes do not overflow) exceeds the memory available
// (MemAvailable in /proc/meminfo, a cgroup limit, or $PDEDIFF_MEMORY_LIMIT;
// see arrayio.AvailableMemory). what describes the run ("toy data with --n
// 1000000000000") and hint says what to change ("lower --n"). The error is a
// usage error (exit 2) that wraps arrayio.ErrNotEnoughMemory, and reads like
//
//	toy data with --n 1000000000000 needs about 21.8 TiB of memory, but only
//	22.9 GiB is available (MemAvailable in /proc/meminfo); lower --n
//
// Call it after the flags are validated and before allocating: Go cannot
// recover from "fatal error: runtime: out of memory".
func checkMemory(what string, need float64, hint string) error {
	if err := arrayio.CheckMemory(what, need, hint); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	return nil
}

// checkOutDir checks, before any work, that the folder named by flag (for
// example "--out") can receive output: it is an existing writable folder, or
// it does not exist and can be created (its nearest existing ancestor is a
// writable folder). It fails for an existing regular file. The error is a
// usage error naming the flag.
func checkOutDir(flag, dir string) error {
	if dir == "" {
		return usageErrorf("%s is required (a folder)", flag)
	}
	if err := arrayio.CheckOutputDir(dir); err != nil {
		return usageErrorf("%s: %v", flag, err)
	}
	return nil
}

// checkOutFile checks, before any work, that the file named by flag can be
// written: it is not an existing folder or special file, and its folder passes
// checkOutDir. The error is a usage error naming the flag.
func checkOutFile(flag, path string) error {
	if path == "" {
		return usageErrorf("%s is required (a file)", flag)
	}
	if err := arrayio.CheckOutputFile(path); err != nil {
		return usageErrorf("%s: %v", flag, err)
	}
	return nil
}

// physicsModelBytes estimates the peak memory of building and using the
// forward model of cfg with workers concurrent solves (lib/physics
// allocations: the 7-point operator, the streamed band LU of the response
// matrix for the linear problem; per nonlinear solve a full band matrix of
// half-bandwidth NY+2 plus Newton vectors).
func physicsModelBytes(cfg physics.Config, workers int) float64 {
	n := float64(cfg.NX+1) * float64(cfg.NY+1) // nodes
	bw := float64(cfg.NY + 2)                  // half bandwidth
	w := 2*bw + 1                              // band row width
	base := 8 * n * (7 + 4)                    // operator + load vectors
	if cfg.Problem == physics.ProblemLinear {
		// Streamed response: a ring of bw+1 band rows, n×32 right-hand sides, ring buffers.
		return base + 8*n*(32+1) + 8*(bw+1)*(w+2*32)
	}
	perSolve := 8*n*w + 8*n*(7+6)                             // band LU + Jacobian + Newton vectors
	return base + 8*n*2 + perSolve*float64(max(1, workers+1)) // +1: the warm-start solve and the field kept
}

// meshWhat describes a mesh for memory messages.
func meshWhat(cfg physics.Config) string {
	return fmt.Sprintf("the %s model on a %dx%d mesh", cfg.Problem, cfg.NX, cfg.NY)
}
