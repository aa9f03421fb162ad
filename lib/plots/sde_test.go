package plots

import (
	"bytes"
	"image/png"
	"testing"

	"github.com/pdediff/pdediff/lib/analytic"
	"github.com/pdediff/pdediff/lib/sde"
	"gonum.org/v1/plot/vg"
)

func TestSDEFiguresRender(t *testing.T) {
	mix, err := analytic.NewMixture([]float64{0.4, 0.6}, [][]float64{{-1}, {1.2}}, [][]float64{{0.3}, {0.4}})
	if err != nil {
		t.Fatal(err)
	}
	ve, _ := sde.New(sde.ToyConfig("ve"))
	vp, _ := sde.New(sde.ToyConfig("vp"))
	fam, err := VPFamily([]float64{0.25, 0.5, 1, 2, 4}, 1, 10, sde.VariantPower)
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := ForwardDemo(mix, []sde.Process{ve, vp}, 8, 40, 1)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := ReverseDemo(mix, []sde.Process{ve, vp}, 1000, 100, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rev.Plots) != 2 || len(rev.Plots[0]) != 2 || len(fwd.Plots[0]) != 2 {
		t.Errorf("grid shapes: reverse %dx%d, forward %d panels", len(rev.Plots), len(rev.Plots[0]), len(fwd.Plots[0]))
	}
	for name, f := range map[string]Figure{"fig1": fam, "forward": fwd, "reverse": rev} {
		b, err := PNG(f, 5*vg.Inch, 3*vg.Inch)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: PNG does not decode: %v", name, err)
		}
		if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != 5*DPI || h != 3*DPI {
			t.Errorf("%s: PNG %dx%d, want %dx%d", name, w, h, 5*DPI, 3*DPI)
		}
	}
	// bad inputs
	if _, err := VPFamily(nil, 1, 10, sde.VariantPower); err == nil {
		t.Error("VPFamily without kappas accepted")
	}
	if _, err := VPFamily([]float64{-1}, 1, 10, sde.VariantPower); err == nil {
		t.Error("negative kappa accepted")
	}
	g2, _ := analytic.NewGaussian([]float64{0, 0}, []float64{1, 1})
	if _, err := ForwardDemo(g2, []sde.Process{ve}, 3, 10, 1); err == nil {
		t.Error("2-D data accepted by ForwardDemo")
	}
	if _, err := ReverseDemo(g2, []sde.Process{ve}, 10, 10, 1, nil); err == nil {
		t.Error("2-D data accepted by ReverseDemo")
	}
}
