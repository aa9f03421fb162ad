package physics

import "errors"

// newModel is replaced by the finite-element implementation in the next commit.
func newModel(cfg Config) (SensorModel, error) {
	return nil, errors.New("physics: forward models not implemented yet (interface-only commit)")
}
