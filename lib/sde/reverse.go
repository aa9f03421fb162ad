package sde

// ReverseDrift writes into out the forward-time drift of the reverse process
// with noise parameter alpha (theory eq. 47):
//
//	dx = [−β(t)/2 · x − (1+α)/2 · g²(t) · S(x, t)] dt + sqrt(α g²(t)) dw̄,
//
// integrated from t = T down to t = eps (dt < 0). alpha = 0 gives the
// probability-flow ODE, alpha = 1 Song et al.'s reverse SDE. x, score and out
// have equal length; out may alias score. This is the one place the reverse
// drift is written: every sampler and path recorder calls it.
func ReverseDrift(p Process, t, alpha float64, x, score, out []float64) {
	hb := 0.5 * p.Beta(t)
	hg := 0.5 * (1 + alpha) * p.G2(t)
	for i, xi := range x {
		out[i] = -hb*xi - hg*score[i]
	}
}
