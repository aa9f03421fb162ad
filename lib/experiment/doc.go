// Package experiment holds what every experiment of pdediff shares: the
// preset names (quick, standard, paper), the environment a figure or stage
// runs in (preset, output folder, seed, log, cancellation), the Figure type of
// the figure registries, and seed derivation.
//
// Each experiment is an importable sub-package with one Preset type resolved
// once from a preset name and recorded in every output:
//
//   - processes: the forward and reverse processes on exact scores (Fig. 1, demos)
//   - density: conditional density estimation, Section 6.1 (Table 2, Figs. 2–4, NFE study)
//   - fluxdata: the flux-inversion forward models and data (Figs. 5, 6, 12, 15)
//
// and package figures gathers their Figures() registries. The CLI
// (`pdediff figures`, `pdediff toy ...`) and the notebooks call the same
// exported functions.
package experiment
