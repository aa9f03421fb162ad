// Package posterior gives reference posteriors and posterior diagnostics for the
// flux-inversion problems of the paper (Sec. 6.2–6.3): readings y = G q + noise
// with 30 flux segments and 30 sensors, and a Gaussian-process prior on the
// fluxes that is shifted and clipped at zero.
//
// It has three parts.
//
//   - LinearGaussian: the exact Gaussian posterior of a linear model y = G q + ε,
//     ε ~ N(0, diag(σ²)), under a Gaussian prior q ~ N(μ, C), with a sensor
//     mask (off sensors are dropped). It uses the Cholesky form
//     K = G_on C G_onᵀ + diag(σ²) = L Lᵀ, A = L⁻¹ G_on C,
//     mean = μ + Aᵀ L⁻¹ (y_on − G_on μ), covariance = C − Aᵀ A,
//     and draws with the Cholesky factor of the covariance.
//
//   - ESS: elliptical slice sampling (Murray, Adams & MacKay 2010) of the
//     latent f of a clipped prior q = max(0, f), f ~ N(μ, C) (the flux prior of
//     datasets/flux), with the Gaussian likelihood or any log-likelihood of q,
//     preconditioned on the Gaussian posterior of the unclipped linear problem
//     (optionally inflated and re-fitted to pilot draws); several chains,
//     burn-in, thinning, split-R̂ per coordinate (SplitRHat) and a count of
//     likelihood evaluations; optionally an independence Metropolis–Hastings
//     jump from a multivariate t of the adapted ellipse after every slice move
//     (ESSOptions.Independence).
//
//   - Evaluate: metrics of posterior samples (cases × samples × dim, physical
//     units) against the true fluxes: the paper's normalised error of the
//     posterior mean, the mean posterior std, central-interval coverage,
//     simulation-based-calibration (SBC) rank histograms with a χ² uniformity
//     test, and ratios of error and std against a reference posterior.
//
// FluxPrior and FluxLinear build the Gaussian prior and the linear model of the
// flux problem from datasets/flux and lib/physics.
package posterior
