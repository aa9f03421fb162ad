package main

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/lib/sde"
)

func TestScheduleJSONMatchesLibrary(t *testing.T) {
	for _, c := range []struct {
		args []string
		cfg  sde.Config
		t    float64
	}{
		{[]string{"--process", "ve", "--t", "0.3"}, sde.ToyConfig("ve"), 0.3},
		{[]string{"--process", "ve", "--sigma-max", "5", "--t", "1"}, sde.FluxConfig("ve"), 1},
		{[]string{"--process", "vp", "--t", "0.5"}, sde.ToyConfig("vp"), 0.5},
		{[]string{"--process", "vp", "--beta-min", "0.1", "--beta-max", "20", "--t", "0.25"},
			sde.Config{Process: "vp", BetaMin: 0.1, BetaMax: 20, T: 1}, 0.25},
		{[]string{"--process", "vpfamily", "--kappa", "2", "--t", "0.1"},
			sde.Config{Process: "vpfamily", Kappa: 2, BetaMin: 0.001, BetaMax: 15, T: 1}, 0.1},
		{[]string{"--process", "vpfamily", "--kappa", "0.5", "--variant", "alt", "--beta-const", "1", "--T", "10", "--t", "3"},
			sde.Config{Process: "vpfamily", Kappa: 0.5, Variant: sde.VariantAlt, BetaConst: 1, T: 10}, 3},
	} {
		var out, errb bytes.Buffer
		if code := run(append([]string{"schedule", "--json"}, c.args...), &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d, stderr %s", c.args, code, errb.String())
		}
		var got map[string]float64
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("%v: bad JSON %q: %v", c.args, out.String(), err)
		}
		if len(got) != 4 {
			t.Errorf("%v: JSON keys %v, want exactly m, s, beta, g2", c.args, got)
		}
		p, err := sde.New(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]float64{"m": p.Mean(c.t), "s": p.Std(c.t), "beta": p.Beta(c.t), "g2": p.G2(c.t)} {
			if v, ok := got[k]; !ok || v != want {
				t.Errorf("%v: %s = %v, library %v", c.args, k, v, want)
			}
		}
	}
	// A value known independently: VP m(1) = exp(-(0.001 + 14.999/2)/2).
	var out, errb bytes.Buffer
	run([]string{"schedule", "--json", "--process", "vp", "--t", "1"}, &out, &errb)
	var got map[string]float64
	_ = json.Unmarshal(out.Bytes(), &got)
	if want := math.Exp(-0.5 * (0.001 + 0.5*14.999)); math.Abs(got["m"]-want) > 1e-15 {
		t.Errorf("vp m(1) = %v, want %v", got["m"], want)
	}
	out.Reset()
	if code := run([]string{"schedule", "--process", "ve", "--t", "1"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "ve t=1: m=1 s=5.364113786") {
		t.Errorf("readable line: code %d, %q", code, out.String())
	}
}

func TestScheduleBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--process", "xx", "--t", "0.5"}, "want one of ve, vp, vpfamily"},
		{[]string{"--process", "ve", "--sigma-max", "0.5", "--t", "0.5"}, "sigma_max"},
		{[]string{"--process", "vp", "--beta-min", "2", "--beta-max", "1", "--t", "0.5"}, "beta_max"},
		{[]string{"--process", "vp", "--beta-min", "-1", "--t", "0.5"}, "beta_min"},
		{[]string{"--process", "vpfamily", "--kappa", "0", "--t", "0.5"}, "kappa"},
		{[]string{"--process", "vpfamily", "--variant", "cube", "--t", "0.5"}, "variant"},
		{[]string{"--process", "vp", "--T", "0", "--t", "0"}, "T="},
		{[]string{"--process", "vp", "--t", "1.5"}, "outside [0, 1]"},
		{[]string{"--process", "vp", "--t", "NaN"}, "--t NaN is not a valid time"},
		{[]string{"--process", "vp", "--t", "+Inf"}, "--t +Inf is not a valid time"},
		{[]string{"--process", "vp"}, "--t is required"},
		{[]string{"--process", "vpfamily", "--kappa", "2", "--t", "0"}, "g2 is infinite"},
		{[]string{"--bogus"}, "flag provided but not defined"},
	} {
		var out, errb bytes.Buffer
		code := run(append([]string{"schedule"}, c.args...), &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), c.msg) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", c.args, code, errb.String(), c.msg)
		}
	}
}
