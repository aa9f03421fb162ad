package main

import "io"

// Command groups with subcommands. Files of this package add subcommands to
// these maps in their init functions (package variables are initialised before
// any init runs).
var (
	toyCommands  = map[string]command{}
	fluxCommands = map[string]command{}
	otCommands   = map[string]command{}
)

func init() {
	for _, g := range []struct {
		name, summary string
		subs          map[string]command
	}{
		{"toy", "conditional density estimation benchmark (paper Section 6.1): data, train, sample, eval, table2", toyCommands},
		{"flux", "boundary-flux inversion (paper Sections 6.2-6.3): forward, convergence, data, train, sample, exact, eval, experiment", fluxCommands},
		{"ot", "entropic optimal transport (Sinkhorn) between sample sets", otCommands},
	} {
		g := g
		register(command{name: g.name, summary: g.summary, run: func(args []string, stdout, stderr io.Writer) error {
			return dispatch(g.name, g.subs, args, stdout, stderr)
		}})
	}
}
