package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/lib/plots"
)

func TestSDEFiguresQuick(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := run([]string{"figures", "--only", "fig1-vp-family,demo-forward,demo-reverse", "--out", dir, "--seed", "3"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, c := range []struct {
		base string
		w, h int
	}{
		{"fig1-vp-family", 6, 4}, {"fig1-vp-family-alt", 6, 4}, {"demo-forward", 10, 4}, {"demo-reverse", 10, 7},
	} {
		p := filepath.Join(dir, c.base+".png")
		if !strings.Contains(out.String(), p) {
			t.Errorf("%s not listed in output %q", p, out.String())
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if img.Bounds().Dx() != c.w*plots.DPI || img.Bounds().Dy() != c.h*plots.DPI {
			t.Errorf("%s: %v, want %dx%d in", p, img.Bounds(), c.w, c.h)
		}
		if _, err := os.Stat(filepath.Join(dir, c.base+".svg")); err != nil {
			t.Error(err)
		}
	}
}
