package fluxinv

import (
	"encoding/csv"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/physics"
)

// label describes a cell's posterior: "VE ode" or "exact (ess)".
func (c *CellResult) label() string {
	if c.Kind == KindExact {
		if c.ReferenceCost != nil {
			return "reference (" + c.Method + ")"
		}
		return "exact (" + c.Method + ")"
	}
	return strings.ToUpper(c.Process) + " " + c.Sampler.Name
}

func fmtf(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

// Markdown renders the results as a Markdown table (one row per cell).
func (r *Results) Markdown() string {
	var b strings.Builder
	p := r.Preset
	fmt.Fprintf(&b, "# Flux inversion (%s problem), preset %s, seed %d\n\n", p.Problem, p.Name, r.Seed)
	ref := "\"exact\" columns: the exact posterior of the clipped prior (ESS, theory §7.3; Gaussian at zero noise), the reference of every ratio."
	refCol := "exact"
	if p.Problem == physics.ProblemNonlinear {
		ref = fmt.Sprintf("\"reference\" columns: the reference posterior of the first %d test cases at level %s (ESS with the nonlinear "+
			"likelihood, theory §7.7); the ratios compare the model and the reference on those %d cases, the other columns use all %d.",
			p.RefCases, LevelLabel(p.RefLevel), p.RefCases, p.Cases)
		refCol = "reference"
	}
	fmt.Fprintf(&b, "%d test cases × %d posterior draws per noise level; models %d × %d, %s on %d pairs (batch %d). "+
		"Error: normalised error of the posterior mean (theory eq. 116), mean over segments; std: mean posterior std (eq. 117); "+
		"cov: central-interval coverage (eq. 118). %s Backend %s, pdediff %s.\n\n",
		p.Cases, p.Draws, p.HiddenLayers, p.Width, p.epochsLabel(), p.NTrain, p.BatchSize, ref, r.Backend, r.Version)
	fmt.Fprintf(&b, "| level | noise std | posterior | NFE | error | %s error | error ratio | std | %s std | std ratio | cov 68 | cov 95 | targets |\n", refCol, refCol)
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range r.Cells {
		m := c.Metrics
		exErr, exStd, er, sr := "—", "—", "—", "—"
		if m.Reference != nil {
			exErr, exStd = fmtf(m.Reference.ErrorMean, 4), fmtf(m.Reference.StdMean, 4)
			er, sr = fmtf(m.Reference.ErrorRatioOverall, 3), fmtf(m.Reference.StdRatioOverall, 3)
		}
		nfe := fmtf(c.NFEMean, 0)
		targets := "—"
		switch {
		case c.Kind == KindExact && c.Method == ExactGauss:
			nfe = "—"
		case c.Kind == KindExact:
			targets = "R̂ max " + fmtf(c.RHatMax, 3)
		case c.Targets != nil && c.Targets.Met:
			targets = "met"
		case c.Targets != nil:
			targets = "not met: " + strings.Join(c.Targets.Failed, "; ")
		}
		fmt.Fprintf(&b, "| %s | %.4g | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			LevelLabel(c.Level), c.NoiseStd, c.label(), nfe, fmtf(m.ErrorMean, 4), exErr, er,
			fmtf(m.StdMean, 4), exStd, sr, fmtf(m.Coverage68Mean, 3), fmtf(m.Coverage95Mean, 3), targets)
	}
	first := true
	for _, c := range r.Cells {
		if cc := c.Converged; cc != nil {
			if first {
				fmt.Fprintf(&b, "\nOn the reference cases whose chains converged (split-R̂ < %g) only:\n\n", RHatConverged)
				first = false
			}
			fmt.Fprintf(&b, "- %s at level %s, %d of %d cases (%v): error ratio %s, std ratio %s\n",
				c.label(), LevelLabel(c.Level), len(cc.Cases), cc.Of, cc.Cases, fmtf(cc.ErrorRatio, 3), fmtf(cc.StdRatio, 3))
		}
	}
	if len(r.Cells) > 0 && r.Cells[0].Metrics.PriorStd != nil {
		fmt.Fprintf(&b, "\nPrior std (std of the true test fluxes, theory eq. 117): %.3f.\n", r.Cells[0].Metrics.PriorStdMean)
	}
	if len(r.Stale) > 0 {
		fmt.Fprintf(&b, "\nIgnored (made by another preset, seed or version): %s.\n", strings.Join(r.Stale, ", "))
	}
	return b.String()
}

// writeCSV writes the one-row-per-cell table.
func (r *Results) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"name", "kind", "level", "noise_std", "process", "sampler", "method", "seed", "nfe_mean",
		"error", "exact_error", "error_ratio", "std", "exact_std", "std_ratio", "prior_std", "coverage68", "coverage95",
		"sbc_pooled_p", "rhat_max", "targets_met"})
	for _, c := range r.Cells {
		m := c.Metrics
		sampler := ""
		if c.Sampler != nil {
			sampler = c.Sampler.Name
		}
		exErr, exStd, er, sr := "", "", "", ""
		if m.Reference != nil {
			exErr, exStd = fmtf(m.Reference.ErrorMean, 6), fmtf(m.Reference.StdMean, 6)
			er, sr = fmtf(m.Reference.ErrorRatioOverall, 6), fmtf(m.Reference.StdRatioOverall, 6)
		}
		met := ""
		if c.Targets != nil {
			met = strconv.FormatBool(c.Targets.Met)
		}
		_ = cw.Write([]string{c.Name, c.Kind, LevelLabel(c.Level), fmtf(c.NoiseStd, 6), c.Process, sampler, c.Method,
			strconv.FormatUint(c.Seed, 10), fmtf(c.NFEMean, 1), fmtf(m.ErrorMean, 6), exErr, er, fmtf(m.StdMean, 6), exStd, sr,
			fmtf(m.PriorStdMean, 6), fmtf(m.Coverage68Mean, 4), fmtf(m.Coverage95Mean, 4), fmtf(m.SBC.PooledPValue, 4),
			fmtf(c.RHatMax, 4), met})
	}
	cw.Flush()
	return cw.Error()
}

// writeSegmentsCSV writes one row per cell and segment.
func (r *Results) writeSegmentsCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"name", "segment", "wall", "wall_index", "error", "exact_error", "std", "exact_std", "prior_std", "coverage68", "coverage95"})
	for _, c := range r.Cells {
		m := c.Metrics
		for s := 0; s < D; s++ {
			wall, idx := "bottom", s+1
			if s >= physics.SegmentsPerWall {
				wall, idx = "top", s-physics.SegmentsPerWall+1
			}
			exErr, exStd, pr := "", "", ""
			if m.Reference != nil {
				exErr, exStd = fmtf(m.Reference.Error[s], 6), fmtf(m.Reference.Std[s], 6)
			}
			if m.PriorStd != nil {
				pr = fmtf(m.PriorStd[s], 6)
			}
			_ = cw.Write([]string{c.Name, strconv.Itoa(s + 1), wall, strconv.Itoa(idx), fmtf(m.Error[s], 6), exErr,
				fmtf(m.Std[s], 6), exStd, pr, fmtf(m.Coverage68[s], 4), fmtf(m.Coverage95[s], 4)})
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTables writes results.md, results.csv and results-segments.csv into
// out and returns their paths (results.json is written by Run).
func WriteTables(out string, r *Results) ([]string, error) {
	md := filepath.Join(out, "results.md")
	cs := filepath.Join(out, "results.csv")
	seg := filepath.Join(out, "results-segments.csv")
	err := arrayio.WriteFiles(
		arrayio.File{Path: md, Fill: func(w io.Writer) error { _, err := io.WriteString(w, r.Markdown()); return err }},
		arrayio.File{Path: cs, Fill: r.writeCSV},
		arrayio.File{Path: seg, Fill: r.writeSegmentsCSV})
	if err != nil {
		return nil, err
	}
	return []string{md, cs, seg}, nil
}
