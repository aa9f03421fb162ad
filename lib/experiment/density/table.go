package density

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/pdediff/pdediff/lib/arrayio"
)

// PaperTable2 returns the paper's Table 2 (regularised OT distance, mean over
// the four y values), keyed by process ("ve", "vp"), sampler ("ode", "sde")
// and case (a fresh map).
func PaperTable2() map[string]map[string]map[string]float64 {
	return map[string]map[string]map[string]float64{
		"ve": {
			"ode": {"tanh": 0.051, "bimodal": 0.059, "spiral": 0.047},
			"sde": {"tanh": 0.040, "bimodal": 0.043, "spiral": 0.052},
		},
		"vp": {
			"ode": {"tanh": 0.046, "bimodal": 0.046, "spiral": 0.045},
			"sde": {"tanh": 0.041, "bimodal": 0.044, "spiral": 0.041},
		},
	}
}

// paperTable2 returns one cell of the paper's Table 2.
func paperTable2(process, sampler, cas string) float64 { return PaperTable2()[process][sampler][cas] }

// Table2Processes returns the row order of Table 2's formulations.
func Table2Processes() []string { return []string{"ve", "vp"} }

// Table2Samplers returns the row order of Table 2's samplers.
func Table2Samplers() []string { return []string{"ode", "sde"} }

// Table2Cases returns the column order of Table 2.
func Table2Cases() []string { return []string{"tanh", "bimodal", "spiral"} }

// CellKey names one cell of Table 2.
func CellKey(process, sampler, cas string) string { return process + "/" + sampler + "/" + cas }

// writeTable2 writes table2.md and table2.csv into dir from the cell means
// (value = mean Sinkhorn distance over the y values, Euclidean cost, POT
// method; the converged log-domain value in a second Markdown table).
func writeTable2(dir string, cells map[string]*Cell) ([]string, error) {
	var csv bytes.Buffer
	fmt.Fprintln(&csv, "process,sampler,tanh,bimodal,spiral")
	for _, p := range Table2Processes() {
		for _, s := range Table2Samplers() {
			fmt.Fprintf(&csv, "%s,%s", p, s)
			for _, c := range Table2Cases() {
				cell, ok := cells[CellKey(p, s, c)]
				if !ok {
					return nil, fmt.Errorf("table 2: missing cell %s", CellKey(p, s, c))
				}
				if cell.POTFailed > 0 {
					fmt.Fprint(&csv, ",underflow")
				} else {
					fmt.Fprintf(&csv, ",%.6f", cell.Mean)
				}
			}
			fmt.Fprintln(&csv)
		}
	}
	var md bytes.Buffer
	section := func(title, format string, value func(*Cell) float64, withPaper, potValue bool) {
		fmt.Fprintf(&md, "%s\n\n", title)
		if withPaper {
			fmt.Fprintln(&md, "| Formulation | Sampler | Tanh | Bimodal | Spiral | paper Tanh | paper Bimodal | paper Spiral |")
			fmt.Fprintln(&md, "|---|---|---|---|---|---|---|---|")
		} else {
			fmt.Fprintln(&md, "| Formulation | Sampler | Tanh | Bimodal | Spiral |")
			fmt.Fprintln(&md, "|---|---|---|---|---|")
		}
		for _, p := range Table2Processes() {
			for _, s := range Table2Samplers() {
				fmt.Fprintf(&md, "| %s | %s |", strings.ToUpper(p), strings.ToUpper(s))
				for _, c := range Table2Cases() {
					if cell := cells[CellKey(p, s, c)]; potValue && cell.POTFailed > 0 {
						fmt.Fprintf(&md, " underflow (%d y) |", cell.POTFailed)
					} else {
						fmt.Fprintf(&md, " "+format+" |", value(cell))
					}
				}
				if withPaper {
					for _, c := range Table2Cases() {
						fmt.Fprintf(&md, " %.3f |", paperTable2(p, s, c))
					}
				}
				fmt.Fprintln(&md)
			}
		}
		fmt.Fprintln(&md)
	}
	section("Table 2: regularised OT distance (Sinkhorn, reg 0.01, Euclidean cost, POT 0.8.2 sinkhorn_knopp with its 1000-iteration cap), mean over the y values", "%.3f", func(c *Cell) float64 { return c.Mean }, true, true)
	section("Same, converged log-domain Sinkhorn (no iteration cap)", "%.3f", func(c *Cell) float64 { return c.MeanLog }, false, false)
	section("Mean number of score evaluations (NFE) per sampling run", "%.0f", func(c *Cell) float64 { return c.MeanNFE }, false, false)
	var paths []string
	for _, f := range []struct {
		name string
		b    []byte
	}{{"table2.csv", csv.Bytes()}, {"table2.md", md.Bytes()}} {
		p := filepath.Join(dir, f.name)
		b := f.b
		if err := arrayio.WriteAtomic(p, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}
