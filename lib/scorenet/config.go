// Package scorenet implements the paper's MLP score network S_θ(x_t, y, η, t)
// (theory §4.1) on GoMLX: input concat(x_t, y, η, e(t)) with the time embedding of
// theory eq. 64, ReLU hidden layers of equal width and a linear output of the
// dimension of x. Parameters live in a GoMLX model.Store so that training
// (lib/train) updates them inside compiled graphs and GoMLX checkpoints save
// them; Score evaluates a whole batch in one graph execution on the host.
package scorenet

import (
	"fmt"
	"math"
)

// Activation names accepted in Config.Activation.
const (
	// ActivationReLU is max(x, 0), the paper's activation (theory §4.1).
	ActivationReLU = "relu"
)

// Output parameterisations accepted in Config.Output.
const (
	// OutputScore: the network output is the score S_θ itself (theory eq. 65,
	// the paper's). "" means the same.
	OutputScore = "score"
	// OutputNoise: the network output is a prediction ε̂ of the unit noise of
	// the transition kernel and the score is −ε̂ / s(t) (theory eq. 120), as in
	// score_sde's noise-conditional models; the loss (61) is then ‖z − ε̂‖².
	// Evaluating the score needs s(t): lib/model sets it from the process.
	OutputNoise = "noise"
)

// Defaults used by Config.WithDefaults.
const (
	DefaultHiddenLayers = 2
	DefaultWidth        = 256
	DefaultActivation   = ActivationReLU
)

// EmbedDim is the length of the time embedding e(t) (theory eq. 64).
const EmbedDim = 4

// Config describes the network. The conditioning row passed to the network is
// y (YDim values) followed by the sensor mask η (MaskDim values).
type Config struct {
	// XDim is the dimension of x (and of the output score). Required, ≥ 1.
	XDim int `json:"x_dim"`
	// YDim is the dimension of the measurement y; 0 = unconditional.
	YDim int `json:"y_dim"`
	// MaskDim is the dimension of the measurement-operator mask η; 0 = none.
	MaskDim int `json:"mask_dim"`
	// HiddenLayers is the number of hidden layers (0 in a literal means the default 2).
	HiddenLayers int `json:"hidden_layers"`
	// Width is the width of every hidden layer (0 in a literal means the default 256).
	Width int `json:"width"`
	// Activation of the hidden layers ("" means "relu"; only "relu" is supported).
	Activation string `json:"activation"`
	// Output is the output parameterisation: "" or OutputScore (the paper's)
	// or OutputNoise.
	Output string `json:"output,omitempty"`
}

// NoiseOutput reports whether the network predicts the noise (OutputNoise).
func (c Config) NoiseOutput() bool { return c.Output == OutputNoise }

// WithDefaults returns c with zero HiddenLayers, Width and Activation replaced
// by their defaults (2, 256, "relu").
func (c Config) WithDefaults() Config {
	if c.HiddenLayers == 0 {
		c.HiddenLayers = DefaultHiddenLayers
	}
	if c.Width == 0 {
		c.Width = DefaultWidth
	}
	if c.Activation == "" {
		c.Activation = DefaultActivation
	}
	return c
}

// Validate reports the first invalid field of c (after defaults are applied).
func (c Config) Validate() error {
	c = c.WithDefaults()
	switch {
	case c.XDim < 1:
		return fmt.Errorf("scorenet: x_dim must be ≥ 1, got %d", c.XDim)
	case c.YDim < 0:
		return fmt.Errorf("scorenet: y_dim must be ≥ 0, got %d", c.YDim)
	case c.MaskDim < 0:
		return fmt.Errorf("scorenet: mask_dim must be ≥ 0, got %d", c.MaskDim)
	case c.HiddenLayers < 1:
		return fmt.Errorf("scorenet: hidden_layers must be ≥ 1, got %d", c.HiddenLayers)
	case c.Width < 1:
		return fmt.Errorf("scorenet: width must be ≥ 1, got %d", c.Width)
	case c.Activation != ActivationReLU:
		return fmt.Errorf("scorenet: unknown activation %q (supported: %q)", c.Activation, ActivationReLU)
	case c.Output != "" && c.Output != OutputScore && c.Output != OutputNoise:
		return fmt.Errorf("scorenet: unknown output %q (want %q or %q)", c.Output, OutputScore, OutputNoise)
	}
	return nil
}

// CondDim is the length of one conditioning row: YDim + MaskDim.
func (c Config) CondDim() int { return c.YDim + c.MaskDim }

// InputDim is the width of the first layer's input: XDim + CondDim + EmbedDim.
func (c Config) InputDim() int { return c.XDim + c.CondDim() + EmbedDim }

// NumParams is the number of trainable scalars of the network.
func (c Config) NumParams() int {
	c = c.WithDefaults()
	n, in := 0, c.InputDim()
	for range c.HiddenLayers {
		n += in*c.Width + c.Width
		in = c.Width
	}
	return n + in*c.XDim + c.XDim
}

// TimeEmbedding is e(t) = [t − 1/2, cos 2πt, sin 2πt, −cos 4πt] (theory eq. 64),
// the host-side twin of the in-graph EmbedTime.
func TimeEmbedding(t float64) [EmbedDim]float64 {
	return [EmbedDim]float64{t - 0.5, math.Cos(2 * math.Pi * t), math.Sin(2 * math.Pi * t), -math.Cos(4 * math.Pi * t)}
}
