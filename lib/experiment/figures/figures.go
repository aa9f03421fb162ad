// Package figures gathers the figure registries of every experiment package
// into one list: what `pdediff figures` and `make figures` regenerate.
package figures

import (
	"fmt"
	"strings"

	"github.com/pdediff/pdediff/lib/experiment"
	"github.com/pdediff/pdediff/lib/experiment/density"
	"github.com/pdediff/pdediff/lib/experiment/fluxdata"
	"github.com/pdediff/pdediff/lib/experiment/processes"
)

// All returns every figure in the order they are made (a fresh slice): the
// process figures, the data figures, then those that need the Section 6.1
// Table 2 run.
func All() []experiment.Figure {
	var out []experiment.Figure
	out = append(out, processes.Figures()...)
	out = append(out, fluxdata.Figures()...)
	out = append(out, density.Figures()...)
	return out
}

// Select returns the figures named in names (all when names is empty), in
// All's order, or an error naming the first unknown one.
func Select(names []string) ([]experiment.Figure, error) {
	all := All()
	if len(names) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		found := false
		for _, f := range all {
			if f.Name == n {
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown figure %q (see pdediff figures --list)", n)
		}
		want[n] = true
	}
	var out []experiment.Figure
	for _, f := range all {
		if want[f.Name] {
			out = append(out, f)
		}
	}
	return out, nil
}
