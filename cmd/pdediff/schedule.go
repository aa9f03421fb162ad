package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/pdediff/pdediff/lib/sde"
)

func init() {
	register(command{name: "schedule", summary: "print m(t), s(t), beta(t), g2(t) of a forward process (VE, VP, VP family)", run: runSchedule})
}

// scheduleValues is the JSON printed by `pdediff schedule --json`.
type scheduleValues struct {
	M    float64 `json:"m"`
	S    float64 `json:"s"`
	Beta float64 `json:"beta"`
	G2   float64 `json:"g2"`
}

func runSchedule(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("schedule", "print the forward-process coefficients m, s, beta, g2 at time t (theory §1.3-§1.5 and Table 1)", stderr)
	def := sde.ToyConfig("vp")
	process := fs.String("process", "vp", "forward process: ve, vp or vpfamily")
	kappa := fs.Float64("kappa", 1, "kappa > 0 of the VP family (vpfamily only)")
	variant := fs.String("variant", string(sde.VariantPower), "VP-family closed form: power (m^2k + s^2k = 1) or alt (s^2 = 1 - m^2k)")
	sigmaMax := fs.Float64("sigma-max", def.SigmaMax, "sigma_max > 1 of the VE process (paper: 12 toy, 5 flux)")
	betaMin := fs.Float64("beta-min", def.BetaMin, "beta_min >= 0 of the linear beta schedule (vp, vpfamily)")
	betaMax := fs.Float64("beta-max", def.BetaMax, "beta_max >= beta_min of the linear beta schedule (vp, vpfamily)")
	betaConst := fs.Float64("beta-const", 0, "if > 0, use the constant schedule beta(t) = this value instead of the linear one")
	final := fs.Float64("T", def.T, "final time T > 0")
	t := fs.Float64("t", math.NaN(), "forward time t in [0, T] (required)")
	asJSON := fs.Bool("json", false, `print {"m":…,"s":…,"beta":…,"g2":…}`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg := sde.Config{Process: *process, Kappa: *kappa, Variant: sde.Variant(*variant), SigmaMax: *sigmaMax,
		BetaMin: *betaMin, BetaMax: *betaMax, BetaConst: *betaConst, T: *final}
	if *betaConst < 0 {
		return usageErrorf("--beta-const=%v must be > 0 (or 0 for the linear schedule)", *betaConst)
	}
	p, err := sde.New(cfg)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if !setFlags(fs)["t"] {
		return usageErrorf("--t is required (a time in [0, %v])", p.T())
	}
	if math.IsNaN(*t) || math.IsInf(*t, 0) {
		return usageErrorf("--t %v is not a valid time (want a number in [0, %v])", *t, p.T())
	}
	if err := sde.CheckTime(p, *t); err != nil {
		return usageErrorf("--t: %v", err)
	}
	v := scheduleValues{M: p.Mean(*t), S: p.Std(*t), Beta: p.Beta(*t), G2: p.G2(*t)}
	if math.IsInf(v.G2, 0) {
		return usageErrorf("g2 is infinite at t=%v for kappa=%v (power variant, kappa > 1: integrable singularity at t = 0); use t > 0", *t, *kappa)
	}
	if !*asJSON {
		name := p.Name()
		if f, ok := p.(*sde.Family); ok {
			name = fmt.Sprintf("vpfamily(kappa=%g, %s)", f.Kappa(), f.Variant())
		}
		_, err := fmt.Fprintf(stdout, "%s t=%g: m=%.10g s=%.10g beta=%.10g g2=%.10g (prior std %.6g)\n",
			name, *t, v.M, v.S, v.Beta, v.G2, p.PriorStd())
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, string(b))
	return err
}
