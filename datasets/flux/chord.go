package flux

import "github.com/pdediff/pdediff/lib/physics"

// ChordModel returns the nonlinear forward model of cfg linearised at the
// prior mean q ≡ DefaultPriorOptions().Shift: a SensorModel whose Readings
// are chord solves from that linearisation, equal to Newton to its
// tolerance and several times faster for prior draws (physics.Linearization).
// It is the model of the nonlinear data sets of `flux data` and of
// `flux experiment`.
func ChordModel(cfg physics.Config) (*physics.Linearization, error) {
	nm, err := physics.NewNonlinearModel(cfg)
	if err != nil {
		return nil, err
	}
	q0 := make([]float64, N)
	for i := range q0 {
		q0[i] = DefaultPriorOptions().Shift
	}
	return nm.Linearize(q0)
}
