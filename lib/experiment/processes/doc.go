// Package processes makes the figures of the forward and reverse processes
// with exact scores (theory §1–§4): Figure 1 (the VP family's s(t) for
// several kappa) and the forward/reverse demonstrations on a bimodal 1-D
// mixture. Figures() is its figure registry.
package processes
