// Package fluxdata makes the figures of the flux-inversion forward models and
// their data (theory §6): Figure 5 (the channel, velocity profile, flux
// segments and sensors), Figure 6 (prior draws of the linear problem),
// Figure 12 (masked instances) and Figure 15 (nonlinear instances).
// Figures() is its figure registry.
package fluxdata
