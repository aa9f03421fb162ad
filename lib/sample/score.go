// Package sample integrates the reverse-time process of a forward process
// (lib/sde) from t = T down to t = eps, given the score ∇x log p_t(x | y) as a
// function. The same ScoreFunc type serves exact analytic scores (tests) and
// trained networks (one graph execution per call over the whole batch).
package sample

// ScoreFunc evaluates the score at forward time t for a batch of n points of
// dimension d stored row-major in x (len n*d), writing the result into out
// (len n*d). Implementations must not retain x or out. Conditioning inputs
// (y, sensor masks) are captured by the closure, one row per point.
type ScoreFunc func(t float64, x []float64, n, d int, out []float64) error
