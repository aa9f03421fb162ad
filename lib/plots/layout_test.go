package plots

import (
	"bytes"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// spiralGrids are an exact-like smooth density with a ring and a noisy
// 2-D histogram: many contour pieces and loops, the case where
// plotter.Contour's map order made fig2 differ between runs.
func spiralGrids(t *testing.T) []ToyGrid {
	t.Helper()
	ring := func(x, y float64) (float64, error) {
		r := math.Hypot(x, y)
		return math.Exp(-20*(r-1)*(r-1)) * (1 + 0.5*math.Cos(3*math.Atan2(y, x))), nil
	}
	g1, err := ToyEvalGrid(ring, -1.6, 1.6, -1.6, 1.6, 60, 60)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var xs, ys []float64
	for range 4000 {
		a := rng.Float64() * 2 * math.Pi
		r := 1 + 0.15*rng.NormFloat64()
		xs, ys = append(xs, r*math.Cos(a)), append(ys, r*math.Sin(a))
	}
	g2, err := ToyHist2D(xs, ys, -1.6, 1.6, -1.6, 1.6, 30, 30)
	if err != nil {
		t.Fatal(err)
	}
	return []ToyGrid{g1, g2}
}

func TestFiguresAreDeterministic(t *testing.T) {
	grids := spiralGrids(t)
	build := func() Figure {
		fig, err := ToyJointFigure([]string{"ring: exact density", "ring: histogram of 4000 samples"}, grids)
		if err != nil {
			t.Fatal(err)
		}
		return fig
	}
	for _, kind := range []struct {
		name   string
		render func(Figure, vg.Length, vg.Length) ([]byte, error)
	}{{"PNG", PNG}, {"SVG", SVG}} {
		a, err := kind.render(build(), 7*vg.Inch, 3*vg.Inch)
		if err != nil {
			t.Fatal(err)
		}
		b, err := kind.render(build(), 7*vg.Inch, 3*vg.Inch)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two renders of the same density figure differ (%d vs %d bytes)", kind.name, len(a), len(b))
		}
		// The same figure value drawn twice is also identical (Draw does
		// not change the plots).
		f := build()
		c, _ := kind.render(f, 7*vg.Inch, 3*vg.Inch)
		d, _ := kind.render(f, 7*vg.Inch, 3*vg.Inch)
		if !bytes.Equal(c, d) || !bytes.Equal(a, c) {
			t.Errorf("%s: re-rendering one figure changes its bytes", kind.name)
		}
	}
}

func TestContourLines(t *testing.T) {
	// A cone: {z = 0.5} is one closed circle of radius 0.5.
	cone, err := ToyEvalGrid(func(x, y float64) (float64, error) { return 1 - math.Hypot(x, y), nil }, -1, 1, -1, 1, 41, 41)
	if err != nil {
		t.Fatal(err)
	}
	lines := contourLines(cone, 0.5)
	if len(lines) != 1 {
		t.Fatalf("cone: %d lines, want 1", len(lines))
	}
	l := lines[0]
	if l[0] != l[len(l)-1] || len(l) < 20 {
		t.Errorf("cone: line of %d points is not closed (%v … %v)", len(l), l[0], l[len(l)-1])
	}
	for _, p := range l {
		if r := math.Hypot(p.X, p.Y); math.Abs(r-0.5) > 0.01 {
			t.Errorf("cone: contour point %v at radius %v, want 0.5", p, r)
			break
		}
	}
	// Two bumps: two loops; a level above both: none; a plane: one open
	// line from border to border.
	bumps, _ := ToyEvalGrid(func(x, y float64) (float64, error) {
		return math.Exp(-8*((x-0.5)*(x-0.5)+y*y)) + math.Exp(-8*((x+0.5)*(x+0.5)+y*y)), nil
	}, -1.5, 1.5, -1, 1, 60, 40)
	if n := len(contourLines(bumps, 0.5)); n != 2 {
		t.Errorf("bumps: %d lines, want 2", n)
	}
	if n := len(contourLines(bumps, 5)); n != 0 {
		t.Errorf("above the maximum: %d lines", n)
	}
	plane, _ := ToyEvalGrid(func(x, y float64) (float64, error) { return x + 0.3*y, nil }, -1, 1, -1, 1, 10, 10)
	pl := contourLines(plane, 0.1)
	if len(pl) != 1 || pl[0][0] == pl[0][len(pl[0])-1] || len(pl[0]) < 10 {
		t.Errorf("plane: %d lines (want 1 open line across the grid)", len(pl))
	}
	for _, p := range pl[0] {
		if math.Abs(p.X+0.3*p.Y-0.1) > 1e-12 {
			t.Errorf("plane: point %v off the level line", p)
			break
		}
	}
	// Saddle cells (a checkerboard) are resolved without panics and the
	// result is the same every time.
	sad := ToyGrid{Xs: []float64{0, 1, 2}, Ys: []float64{0, 1, 2}, Zs: []float64{1, 0, 1, 0, 1, 0, 1, 0, 1}}
	a := contourLines(sad, 0.5)
	for range 20 {
		if !reflect.DeepEqual(a, contourLines(sad, 0.5)) {
			t.Fatal("saddle contours differ between calls")
		}
	}
	if len(a) == 0 {
		t.Error("saddle: no contour")
	}
	grids := spiralGrids(t)
	h1, h2 := contourLines(grids[1], 0.3*grids[1].Max()), contourLines(grids[1], 0.3*grids[1].Max())
	if !reflect.DeepEqual(h1, h2) || len(h1) < 2 {
		t.Errorf("histogram contours: %d lines, differ between calls: %v", len(h1), !reflect.DeepEqual(h1, h2))
	}
}

func TestNiceTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   string
	}{
		{0, 267, "0 50 100 150 200 250"},
		{0, 428, "0 100 200 300 400"},
		{0, 1, "0.0 0.2 0.4 0.6 0.8 1.0"},
		{0, 0.37, "0.0 0.1 0.2 0.3"},
		{0, 2.32, "0.0 0.5 1.0 1.5 2.0"},
		{-3, 3, "-2 0 2"}, // no 1-2-5 step gives 4 to 6 ticks: 3 rather than 7
		{-1.8, 1.8, "-1 0 1"},
		{-0.3, 2.3, "0.0 0.5 1.0 1.5 2.0"},
		{0.012, 0.061, "0.02 0.03 0.04 0.05 0.06"},
		{-2.5e-5, 2.5e-5, "-2e-05 -1e-05 0e+00 1e-05 2e-05"},
	} {
		var got []string
		for _, tk := range NiceTicks(c.lo, c.hi, -1) {
			got = append(got, tk.Label)
			if tk.Value < c.lo || tk.Value > c.hi {
				t.Errorf("[%v, %v]: tick %v outside", c.lo, c.hi, tk.Value)
			}
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("NiceTicks(%v, %v) = %q, want %q", c.lo, c.hi, g, c.want)
		}
	}
	// Forced decimals, and every range gets 3 to 7 labelled ticks with one
	// decimal count.
	if got := NiceTicks(0, 428, 1)[1].Label; got != "100.0" {
		t.Errorf("decimals 1: %q", got)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 2000 {
		lo := (rng.Float64() - 0.5) * math.Pow(10, rng.Float64()*8-4)
		hi := lo + math.Pow(10, rng.Float64()*8-4)
		ticks := NiceTicks(lo, hi, -1)
		if len(ticks) < 3 || len(ticks) > 7 {
			t.Fatalf("[%v, %v]: %d ticks", lo, hi, len(ticks))
		}
		dec := func(s string) int {
			if i := strings.IndexAny(s, ".e"); i >= 0 && s[i] == '.' {
				return len(strings.SplitN(s[i+1:], "e", 2)[0])
			}
			return 0
		}
		for _, tk := range ticks[1:] {
			if dec(tk.Label) != dec(ticks[0].Label) {
				t.Fatalf("[%v, %v]: labels %q and %q have different decimals", lo, hi, ticks[0].Label, tk.Label)
			}
		}
	}
}

func TestLogDecades(t *testing.T) {
	for _, c := range []struct{ lo, hi, wlo, whi float64 }{
		{5, 200, 1, 200},             // three decades for 0.7 decade of widening
		{0.02, 0.3, 0.01, 1},         // 0.82 decade
		{0.02, 0.08, 0.01, 0.1},      // three would cost 1.4 decades: two, with 2× and 5× labels
		{1.2e-6, 0.27, 1.2e-6, 0.27}, // already five decades inside
	} {
		lo, hi := logDecadeRange(c.lo, c.hi)
		if math.Abs(lo/c.wlo-1) > 1e-12 || math.Abs(hi/c.whi-1) > 1e-12 {
			t.Errorf("logDecadeRange(%v, %v) = %v, %v, want %v, %v", c.lo, c.hi, lo, hi, c.wlo, c.whi)
		}
	}
	labels := func(lo, hi float64) string {
		var s []string
		for _, tk := range (log10Ticks{}).Ticks(math.Log10(lo), math.Log10(hi)) {
			if !tk.IsMinor() {
				s = append(s, tk.Label)
			}
		}
		return strings.Join(s, " ")
	}
	if got, want := labels(1, 200), "10^0 10^1 10^2"; got != want {
		t.Errorf("labels on [1, 200]: %q, want %q", got, want)
	}
	if got, want := labels(0.01, 0.1), "10^−2 2×10^−2 5×10^−2 10^−1"; got != want {
		t.Errorf("labels on [0.01, 0.1]: %q, want %q", got, want)
	}
	// The NFE panel: at least three labels on both axes, every decade
	// labelled.
	p, err := NFEPlot("t", "err", []NFESeries{{Name: "a", NFE: []float64{5, 20, 200}, Err: []float64{0.08, 0.03, 0.02}}}, 0.025, "ref")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []plot.Axis{p.X, p.Y} {
		n := 0
		for _, tk := range a.Tick.Marker.Ticks(a.Min, a.Max) {
			if !tk.IsMinor() {
				n++
			}
		}
		if n < 3 {
			t.Errorf("NFE axis [%v, %v] (log10): %d labels", a.Min, a.Max, n)
		}
	}
}

func TestColorBar(t *testing.T) {
	p := newPlot("field", "x", "y")
	cb := AddColorBar(p, palette.Heat(16, 1), 0, 267, "concentration c (nondim.)")
	var labels []string
	for _, tk := range cb.Ticks() {
		labels = append(labels, tk.Label)
	}
	if got := strings.Join(labels, " "); got != "0 50 100 150 200 250" {
		t.Errorf("ticks of [0, 267]: %q", got)
	}
	// Sibling bars share the largest decimal count.
	a, b := &ColorBar{Min: 0, Max: 2.32, Decimals: -1}, &ColorBar{Min: 0, Max: 250, Decimals: -1}
	shareDecimals([]*ColorBar{a, b})
	if a.Ticks()[1].Label != "0.5" || b.Ticks()[1].Label != "50.0" {
		t.Errorf("shared decimals: %q, %q", a.Ticks()[1].Label, b.Ticks()[1].Label)
	}
	// The bar reserves its width right of the data area: the data canvas
	// of a plot with a bar is narrower by at least the bar's width.
	dc := draw.New(vgimg.New(6*vg.Inch, 3*vg.Inch))
	plain := newPlot("field", "x", "y")
	for _, q := range []*plot.Plot{p, plain} {
		s, _ := plotter.NewScatter(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
		q.Add(s)
	}
	wBar := p.DataCanvas(dc).Max.X
	wPlain := plain.DataCanvas(dc).Max.X
	if dc.Max.X-wBar < cb.width() || wBar >= wPlain || cb.width() < vg.Points(40) {
		t.Errorf("colour bar: %v right of the data area (%v without), bar width %v", dc.Max.X-wBar, dc.Max.X-wPlain, cb.width())
	}
	// Drawn: both end colours of the palette appear right of the data area,
	// and the contour marks in their colours.
	cm := moreland.ExtendedBlackBody()
	cm.SetMin(0)
	cm.SetMax(1)
	pal := cm.Palette(8)
	g := ToyGrid{Xs: []float64{0, 1}, Ys: []float64{0, 1}, Zs: []float64{0, 1, 2, 3}}
	q := newPlot("t", "x", "y")
	hm := plotter.NewHeatMap(g, pal)
	q.Add(hm)
	bar := AddColorBar(q, pal, hm.Min, hm.Max, "z")
	bar.Marks, bar.MarkColors = []float64{1.5}, []color.Color{color.RGBA{G: 255, A: 255}}
	img, err := PNG(q, 4*vg.Inch, 3*vg.Inch)
	if err != nil {
		t.Fatal(err)
	}
	m, err := png.Decode(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	data := q.DataCanvas(draw.New(vgimg.NewWith(vgimg.UseWH(4*vg.Inch, 3*vg.Inch), vgimg.UseDPI(DPI))))
	x0 := int(float64(data.Max.X/vg.Inch)*DPI) + 2
	found := map[string]bool{}
	want := map[string]color.Color{"low": pal.Colors()[0], "high": pal.Colors()[7], "mark": color.RGBA{G: 255, A: 255}}
	for y := m.Bounds().Min.Y; y < m.Bounds().Max.Y; y++ {
		for x := x0; x < m.Bounds().Max.X; x++ {
			r, gg, bb, _ := m.At(x, y).RGBA()
			for k, c := range want {
				cr, cg, cbb, _ := c.RGBA()
				if absDiff(r, cr) < 0x800 && absDiff(gg, cg) < 0x800 && absDiff(bb, cbb) < 0x800 {
					found[k] = true
				}
			}
		}
	}
	for k := range want {
		if !found[k] {
			t.Errorf("colour bar: %s colour not drawn right of the data area", k)
		}
	}
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestGridSharesFormatsAndTitle(t *testing.T) {
	mk := func(title string, hi float64) *plot.Plot {
		p := newPlot(title, "x", "density")
		l, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: hi, Y: hi}})
		p.Add(l)
		return p
	}
	a, b := mk("same", 3), mk("same", 0.9)
	g := Grid{Plots: [][]*plot.Plot{{a, b}}}
	out, title := g.prepared()
	if title != "same" || out[0][0].Title.Text != "" || a.Title.Text != "same" {
		t.Errorf("shared title %q, panel title %q, caller's title %q", title, out[0][0].Title.Text, a.Title.Text)
	}
	la := out[0][0].X.Tick.Marker.Ticks(a.X.Min, a.X.Max)[0].Label
	lb := out[0][1].X.Tick.Marker.Ticks(b.X.Min, b.X.Max)[0].Label
	if la != "0.0" || lb != "0.0" {
		t.Errorf("sibling x axes labelled %q and %q, want one format (0.0)", la, lb)
	}
	if _, ok := a.X.Tick.Marker.(linearTicks); !ok || a.X.Tick.Marker.(linearTicks).decimals != -1 {
		t.Error("Grid.Draw changed the caller's plot")
	}
	// Different titles stay on the panels.
	if _, title := (Grid{Plots: [][]*plot.Plot{{mk("a", 1), mk("b", 1)}}}).prepared(); title != "" {
		t.Errorf("distinct titles hoisted as %q", title)
	}
}

func TestLegendOutsideData(t *testing.T) {
	// A legend strip sits between the title and the data area.
	p := newPlot("title", "x", "y")
	l, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	p.Add(l)
	leg := addLegend(p, 2)
	leg.add("one", l)
	leg.add("two", l)
	leg.add("three", l)
	dc := draw.New(vgimg.New(5*vg.Inch, 3*vg.Inch))
	data := p.DataCanvas(dc)
	title := p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
	need := 2*legendRowHeight(leg.style) + vg.Points(legendGap)
	if room := dc.Max.Y - title - data.Max.Y; room < need-vg.Points(0.01) {
		t.Errorf("room above the data %v, legend needs %v", room, need)
	}
	// A right legend narrows the data area by its width.
	q := newPlot("", "x", "y")
	q.Add(l)
	r := addRightLegend(q)
	r.add("a long legend label", l)
	if w := q.DataCanvas(dc).Max.X; dc.Max.X-w < entryWidth(r.style, r.entries[0]) {
		t.Errorf("right legend: only %v right of the data", dc.Max.X-w)
	}
}

func TestGridHoistsSharedLegend(t *testing.T) {
	s := []NFESeries{{Name: "euler", NFE: []float64{5, 10, 20}, Err: []float64{0.3, 0.1, 0.05}},
		{Name: "heun", NFE: []float64{10, 20, 40}, Err: []float64{0.1, 0.02, 0.005}}}
	a, err := NFEPlot("left", "err", s, 0.01, "ref")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NFEPlot("right", "rms", s, 0.01, "ref")
	g := Grid{Plots: [][]*plot.Plot{{a, b}}}
	leg := sharedLegend(g.Plots)
	if len(leg) != 3 || leg[0].Label != "euler" || leg[2].Label != "ref" {
		t.Fatalf("shared legend %v", leg)
	}
	// A hidden copy reserves no legend room: its data area is taller.
	dc := draw.New(vgimg.New(5*vg.Inch, 3*vg.Inch))
	q := *a
	hidden.Store(&q, struct{}{})
	hTop := q.DataCanvas(dc).Max.Y
	hidden.Delete(&q)
	if hTop <= a.DataCanvas(dc).Max.Y {
		t.Error("hidden legend still reserves room")
	}
	// Draw leaves no plot in the draw-time maps, and a different legend is
	// not hoisted.
	if _, err := PNG(g, 8*vg.Inch, 3*vg.Inch); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range []*sync.Map{&probes, &hidden} {
		m.Range(func(any, any) bool { n++; return true })
	}
	if n != 0 {
		t.Errorf("%d plots left in the draw-time maps", n)
	}
	c, _ := NFEPlot("other", "rms", s[:1], 0.01, "ref")
	if l := sharedLegend([][]*plot.Plot{{a, c}}); l != nil {
		t.Errorf("different legends hoisted: %v", l)
	}
}
