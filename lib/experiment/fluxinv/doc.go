// Package fluxinv runs the paper's central inverse problem (Section 6.2,
// theory §6–7): given the readings of 30 sensors in a channel, which boundary
// flux on its walls produced them, and how sure are we? A conditional score
// model trained on (flux, noisy readings) pairs draws posterior samples of
// the flux for new readings; for the linear problem they are judged against
// the exact posterior, Gaussian (theory eqs. 106–111) or, for the clipped
// prior the data come from, elliptical slice sampling (theory eqs. 112–115).
//
// The parts, each usable alone:
//
//   - Info records in a model folder (model.Data.Info) everything needed
//     without the data folder: forward model, noise level and std, prior,
//     the min–max scalings of flux and readings (theory eq. 98) and whether
//     the model takes sensor masks (theory §6.6). Train trains or resumes a
//     model on a datasets/flux data set; LoadModel and ReadModelInfo read it
//     back (ReadModelInfo without loading the network).
//   - NewObservations validates physical readings (NaN = sensor off, only
//     for masked models) and Info.Conditioning turns them into the network's
//     conditioning rows (scaled readings, then the mask).
//   - SamplePosterior draws posterior samples with any registered sampler
//     (lib/sample), each observation seeded by ObservationSeed so that
//     results do not depend on batching; Exact draws from the exact
//     posterior (ExactGauss, ExactESS).
//   - Evaluate computes the metrics of lib/posterior (normalised error per
//     segment, mean posterior std, coverage, SBC) and a coverage curve;
//     posterior files (.npz with q of shape (k, n, 30) and a JSON sidecar)
//     are written by WritePosteriorFile and read by ReadPosteriorFile.
//   - Run is the experiment: per noise level of a Preset (quick, standard,
//     paper) a data set, a model per process (VE, VP), the posteriors of the
//     test cases per sampler (ODE, SDE), the exact posteriors, metrics,
//     tables (results.md, .csv, .json; wall times in timing.json) and
//     figures. Every cell (level × process × sampler) can run alone (Options.
//     Only), products are reused only when the whole recorded preset, seed,
//     version and inputs match, and cells of separate runs are merged.
//   - Figures is the figure registry of the linear problem: Fig. 7 (posteriors of three test
//     cases), Figs. 8–9 (normalised error per segment, VE and VP), Figs.
//     10–11 (posterior std per segment) and calibration figures, each with
//     the exact posterior on it.
//
// Three problems (Preset.Problem, Problems): the linear one (paper 6.2),
// the masked one (paper 6.2.1, theory §6.6: one model for every sensor
// mask, each test case against the exact posterior of its own mask) and the
// nonlinear advection–diffusion–reaction problem (paper 6.3, theory §6.7),
// which has no exact posterior: NonlinearReference samples it by ESS with
// the nonlinear likelihood, preconditioned on a linearisation
// (LinearisedGaussian) and with chord solves (physics.Linearization), for
// the first RefCases test cases at RefLevel (theory §7.7). That reference is
// keyed by the data and its own settings only, so a committed one serves
// later runs (Options.Reference); Figs. 16–20 are the nonlinear problem's
// Figs. 7–11.
package fluxinv
