// Package sde defines the forward (noising) processes that all follow from one
// PDE (theory eq. 27):
//
//	∂p/∂t = β(t)/2 ∇·(x p) + g²(t)/2 Δp,
//
// whose Green's function is a Gaussian with mean m(t)·x0 and standard deviation
// s(t) (theory eq. 29). Variance exploding (VE), variance preserving (VP) and the
// paper's one-parameter VP family are members. One Process value serves the
// training loss (m, s), the reverse-time samplers (β, g²) and the plots.
package sde

// Process is a forward diffusion process on t ∈ [0, T].
//
// All methods take forward time t in [0, T]; callers validate t with
// CheckTime when it comes from user input.
type Process interface {
	// Name is a short identifier such as "ve", "vp" or "vpfamily".
	Name() string
	// T is the final forward time (1 in the paper).
	T() float64
	// Mean is the kernel mean factor m(t): E[x_t | x_0] = m(t) x_0 (theory eq. 29, Table 1).
	Mean(t float64) float64
	// Std is the kernel standard deviation s(t) (theory eq. 29, Table 1).
	Std(t float64) float64
	// Beta is the drift coefficient β(t) of theory eq. 27 (0 for VE).
	Beta(t float64) float64
	// G2 is the diffusion coefficient g²(t) of theory eq. 27.
	G2(t float64) float64
	// PriorStd is the standard deviation of the Gaussian the reverse process starts
	// from at t = T (s(T) for VE, 1 for VP-type processes; theory eq. 66).
	PriorStd() float64
}
