package flux

import (
	"fmt"
	"math"
)

// MinMax is a per-feature min–max map v ↦ 2(v − Min)/(Max − Min) − 1 onto
// [−1, 1] (theory eq. 98: normalisation from the paper, per-feature granularity our choice).
// A feature with Max == Min maps to 0 and back to Min.
type MinMax struct {
	Min []float64 `json:"min"`
	Max []float64 `json:"max"`
}

// FitMinMax fits a MinMax on the rows of data (row-major, d columns).
func FitMinMax(data []float64, d int) (MinMax, error) {
	if d <= 0 || len(data) == 0 || len(data)%d != 0 {
		return MinMax{}, fmt.Errorf("min-max fit: %d values do not form rows of %d features", len(data), d)
	}
	m := MinMax{Min: make([]float64, d), Max: make([]float64, d)}
	for j := 0; j < d; j++ {
		m.Min[j], m.Max[j] = math.Inf(1), math.Inf(-1)
	}
	for i, v := range data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return MinMax{}, fmt.Errorf("min-max fit: non-finite value %v at row %d, feature %d", v, i/d, i%d)
		}
		j := i % d
		m.Min[j] = math.Min(m.Min[j], v)
		m.Max[j] = math.Max(m.Max[j], v)
	}
	return m, nil
}

func (m MinMax) check(n int) error {
	d := len(m.Min)
	if d == 0 || len(m.Max) != d {
		return fmt.Errorf("min-max: invalid scaling with %d minima and %d maxima", len(m.Min), len(m.Max))
	}
	if n%d != 0 {
		return fmt.Errorf("min-max: %d values do not form rows of %d features", n, d)
	}
	return nil
}

// Apply writes the scaled rows of v into out (may alias v).
func (m MinMax) Apply(v, out []float64) error {
	if err := m.check(len(v)); err != nil {
		return err
	}
	if len(out) != len(v) {
		return fmt.Errorf("min-max: output length %d, want %d", len(out), len(v))
	}
	d := len(m.Min)
	for i, x := range v {
		j := i % d
		if r := m.Max[j] - m.Min[j]; r > 0 {
			out[i] = 2*(x-m.Min[j])/r - 1
		} else {
			out[i] = 0
		}
	}
	return nil
}

// Invert writes the unscaled rows of s into out (may alias s).
func (m MinMax) Invert(s, out []float64) error {
	if err := m.check(len(s)); err != nil {
		return err
	}
	if len(out) != len(s) {
		return fmt.Errorf("min-max: output length %d, want %d", len(out), len(s))
	}
	d := len(m.Min)
	for i, x := range s {
		j := i % d
		out[i] = m.Min[j] + (x+1)/2*(m.Max[j]-m.Min[j])
	}
	return nil
}

// Scaling holds the min–max maps of the flux q and of the (noisy) readings,
// both fitted on the training split.
type Scaling struct {
	Q        MinMax `json:"q"`
	Readings MinMax `json:"readings"`
}
