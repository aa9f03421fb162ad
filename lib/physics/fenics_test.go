package physics

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// Sensor readings computed independently with FEniCS 2019 (Debian python3-dolfin) by testdata/fenics_sensors.py
// on the 255×60 "right" mesh (segment ends fall on nodes there), for q_k = 2 + 1.5 sin(0.9 (k mod 15) + 0.4 (k div 15)).
var fenicsGolden = map[string]string{
	ProblemLinear: "18.8518670948 43.0467559834 62.9980119459 74.7411674053 81.1989864594 89.7124273184 105.819560034 " +
		"128.525213977 151.157462499 167.074708891 175.25490562 180.700091834 188.387213023 194.868989025 195.766462688 " +
		"20.4053844058 43.8421394051 60.9061769858 70.4765088982 77.6788247087 89.4535258822 108.698594647 131.831932351 " +
		"151.888984037 164.492582575 171.500381172 178.927450714 189.989213958 198.21729042 198.626303236",
	ProblemNonlinear: "0.329096502679 0.800390798798 1.22204416345 1.51786017212 1.7049849379 1.83837236813 1.95661256617 " +
		"2.05969678063 2.12597000684 2.14239199746 2.1212509918 2.0953233786 2.09072334963 2.08622329457 2.05688248432 " +
		"0.349531919003 0.817458640648 1.21665920044 1.49750306758 1.6892652044 1.84008238002 1.97182979784 " +
		"2.07365119946 2.12676427426 2.12968262587 2.10587082067 2.09071404293 2.10085428575 2.10106767952 2.06583522395",
}

func TestAgainstFEniCS(t *testing.T) {
	q := make([]float64, NumSegments)
	for k := range q {
		q[k] = 2 + 1.5*math.Sin(0.9*float64(k%15)+0.4*float64(k/15))
	}
	for _, problem := range []string{ProblemLinear, ProblemNonlinear} {
		cfg := smallCfg(t, problem, 255, 60)
		m, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float64, NumSensors)
		if err := m.Readings(q, got); err != nil {
			t.Fatal(err)
		}
		for s, f := range strings.Fields(fenicsGolden[problem]) {
			want, _ := strconv.ParseFloat(f, 64)
			if math.Abs(got[s]-want) > 1e-9*math.Abs(want) {
				t.Errorf("%s sensor %d: %.12g, FEniCS %.12g", problem, s, got[s], want)
			}
		}
	}
}
