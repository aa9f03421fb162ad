package plots

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"testing"

	"gonum.org/v1/plot/vg"
)

// decodeNonBlank renders f to PNG, decodes it and checks it has the expected
// size and more than a handful of distinct colours (something was drawn).
func decodeNonBlank(t *testing.T, name string, f Figure, w, h vg.Length) image.Image {
	t.Helper()
	b, err := PNG(f, w, h)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: PNG does not decode: %v", name, err)
	}
	if img.Bounds().Dx() != int(float64(w/vg.Inch)*DPI+0.5) {
		t.Errorf("%s: width %d px", name, img.Bounds().Dx())
	}
	colors := map[[4]uint32]bool{}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 3 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 3 {
			r, g, b, a := img.At(x, y).RGBA()
			colors[[4]uint32{r, g, b, a}] = true
		}
	}
	if len(colors) < 20 {
		t.Errorf("%s: only %d distinct colours, looks blank", name, len(colors))
	}
	if _, err := SVG(f, w, h); err != nil {
		t.Errorf("%s: SVG: %v", name, err)
	}
	return img
}

func TestToyHist2D(t *testing.T) {
	x := []float64{0.1, 0.1, 0.9, 5}
	y := []float64{0.1, 0.2, 0.9, 0}
	g, err := ToyHist2D(x, y, 0, 1, 0, 1, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Cell area 0.25, n = 4: each point adds 1/(4·0.25) = 1; (5, 0) is outside.
	if g.Z(0, 0) != 2 || g.Z(1, 1) != 1 || g.Z(1, 0) != 0 || g.Z(0, 1) != 0 || g.X(1) != 0.75 || g.Y(0) != 0.25 {
		t.Errorf("hist = %v", g.Zs)
	}
	for _, bad := range []func() error{
		func() error { _, err := ToyHist2D(x, y[:2], 0, 1, 0, 1, 2, 2); return err },
		func() error { _, err := ToyHist2D(x, y, 1, 0, 0, 1, 2, 2); return err },
		func() error { _, err := ToyHist2D(x, y, 0, 1, 0, math.NaN(), 2, 2); return err },
		func() error { _, err := ToyHist2D(x, y, 0, 1, 0, 1, 1, 2); return err },
	} {
		if bad() == nil {
			t.Error("bad histogram input: no error")
		}
	}
}

func TestToyJointFigureRenders(t *testing.T) {
	gauss := func(x, y float64) (float64, error) { return math.Exp(-(x*x + 4*y*y)), nil }
	g1, err := ToyEvalGrid(gauss, -2, 2, -1, 1, 60, 40)
	if err != nil {
		t.Fatal(err)
	}
	if v := g1.Z(30, 20); math.Abs(v-math.Exp(-(g1.X(30)*g1.X(30)+4*g1.Y(20)*g1.Y(20)))) > 1e-15 {
		t.Errorf("eval grid value %v", v)
	}
	fig, err := ToyJointFigure([]string{"a", "b"}, []ToyGrid{g1, g1})
	if err != nil {
		t.Fatal(err)
	}
	decodeNonBlank(t, "joint", fig, 8*vg.Inch, 3*vg.Inch)
	if _, err := ToyJointFigure([]string{"a"}, []ToyGrid{g1, g1}); err == nil {
		t.Error("mismatched titles: no error")
	}
	zero := ToyGrid{Xs: []float64{0, 1}, Ys: []float64{0, 1}, Zs: make([]float64, 4)}
	if _, err := ToyDensityPlot("z", zero); err == nil {
		t.Error("all-zero density: no error")
	}
}

func testGeometry() FluxGeometry {
	g := FluxGeometry{Length: 8.5, Height: 2, FluxEnd: 7, SegmentsPerWall: 15, UMax: 0.1}
	for row := 0; row < 2; row++ {
		for k := 1; k <= 15; k++ {
			g.SensorX = append(g.SensorX, 0.5*float64(k))
			g.SensorY = append(g.SensorY, 0.5+float64(row))
		}
	}
	return g
}

func TestFluxFiguresRender(t *testing.T) {
	g := testGeometry()
	setup, err := FluxSetupPlot(g)
	if err != nil {
		t.Fatal(err)
	}
	decodeNonBlank(t, "setup", setup, 8*vg.Inch, 3*vg.Inch)

	f := FluxField{NX: 340, NY: 80, Length: 8.5, Height: 2, C: make([]float64, 341*81)}
	for i := 0; i <= 340; i++ {
		for j := 0; j <= 80; j++ {
			f.C[i*81+j] = 2 * (1 - math.Exp(-float64(i)/40)) * (1 + 0.1*math.Sin(float64(j)/10))
		}
	}
	// The subsampled grid reads the right nodes.
	fg := fluxFieldGrid{f: f, sx: 2, sy: 1}
	if c, r := fg.Dims(); c != 171 || r != 81 || fg.Z(3, 5) != f.C[6*81+5] || math.Abs(fg.X(3)-6*8.5/340) > 1e-15 {
		t.Errorf("field grid dims %d×%d", c, r)
	}
	q := make([]float64, 30)
	r := make([]float64, 30)
	mask := make([]float64, 30)
	for i := range q {
		q[i] = 2 + math.Sin(float64(i))
		r[i] = float64(i % 15)
		mask[i] = float64(i % 3 % 2)
	}
	fig, err := FluxInstancesFigure(g, []FluxInstance{{Q: q, Field: &f, Readings: r, Mask: mask}, {Q: q, Field: &f, Readings: r}})
	if err != nil {
		t.Fatal(err)
	}
	if len(fig.Plots) != 2 || len(fig.Plots[0]) != 3 {
		t.Errorf("grid %d rows × %d cols, want 2 × 3", len(fig.Plots), len(fig.Plots[0]))
	}
	img := decodeNonBlank(t, "instances", fig, 10*vg.Inch, 5*vg.Inch)
	// Off sensors are drawn as red crosses: some pure-red-ish pixels exist.
	red := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			rr, gg, bb, _ := img.At(x, y).RGBA()
			if rr > 0xb000 && gg < 0x3000 && bb < 0x3000 {
				red++
			}
		}
	}
	if red < 20 {
		t.Errorf("only %d red pixels: off-sensor crosses missing", red)
	}
	noField, err := FluxInstancesFigure(g, []FluxInstance{{Q: q, Readings: r}})
	if err != nil || len(noField.Plots[0]) != 2 {
		t.Errorf("without field: %v, %d columns", err, len(noField.Plots[0]))
	}
	if _, err := FluxWallPlot(g, q[:29], "x"); err == nil {
		t.Error("29 fluxes: no error")
	}
	if _, err := FluxReadingsPlot(g, r, mask[:3], "x"); err == nil {
		t.Error("short mask: no error")
	}
	bad := f
	bad.C = bad.C[:10]
	if _, err := FluxFieldPlot(g, bad, nil, "x"); err == nil {
		t.Error("short field: no error")
	}
}
