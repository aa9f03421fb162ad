package train

import (
	"math"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/lib/scorenet"
)

// Data the float32 network cannot represent is refused with a message that
// says to scale it, before any step (not as a "diverged" loss later).
func TestDataValidateMagnitude(t *testing.T) {
	cfg := scorenet.Config{XDim: 1, YDim: 1}
	for _, c := range []struct {
		x, y float64
		want string
	}{
		{1e300, 0, "scale the data"},
		{0, -1e200, "scale the data"},
		{math.NaN(), 0, "NaN"},
		{0, math.Inf(1), "+Inf"},
	} {
		err := Data{X: []float64{0.5, c.x}, Cond: []float64{0.1, c.y}, N: 2}.Validate(cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("x %v y %v: %v, want an error containing %q", c.x, c.y, err, c.want)
		}
	}
	if err := (Data{X: []float64{0.5, 1e14}, Cond: []float64{0.1, 2}, N: 2}).Validate(cfg); err != nil {
		t.Errorf("large but representable data refused: %v", err)
	}
}
