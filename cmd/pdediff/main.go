// Command pdediff runs every experiment of the pdediff project and regenerates
// every figure and table without Jupyter.
//
// Usage: pdediff <command> [subcommand] [flags]; `pdediff help` lists commands.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/pdediff/pdediff/lib/buildinfo"
)

// command is one top-level CLI command. Files of this package register their
// commands in init functions with register.
type command struct {
	name    string
	summary string
	// run receives the arguments after the command name.
	run func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("pdediff: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// errUsage marks errors caused by bad command-line use (exit code 2).
var errUsage = errors.New("usage error")

// usageErrorf returns an error that wraps errUsage.
func usageErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "pdediff: diffusion models from PDEs (Dasgupta et al. 2025), experiments and figures.")
	fmt.Fprintln(w, "\nUsage: pdediff <command> [subcommand] [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun `pdediff <command> --help` for a command's flags.")
	fmt.Fprintln(w, "Backend: GOMLX_BACKEND (default \"go\", the pure-Go backend; \"xla:cpu\"/\"xla:cuda\" where installed).")
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name, summary string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("pdediff "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "pdediff %s: %s\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, rejecting stray positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return nil
}

// dispatch runs a subcommand from subs chosen by args[0].
func dispatch(group string, subs map[string]command, args []string, stdout, stderr io.Writer) error {
	names := make([]string, 0, len(subs))
	for n := range subs {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(stdout, "Usage: pdediff %s <subcommand> [flags]\n\nSubcommands:\n", group)
		for _, n := range names {
			fmt.Fprintf(stdout, "  %-10s %s\n", n, subs[n].summary)
		}
		if len(args) == 0 {
			return usageErrorf("pdediff %s needs a subcommand (%s)", group, strings.Join(names, ", "))
		}
		return nil
	}
	c, ok := subs[args[0]]
	if !ok {
		return usageErrorf("unknown subcommand %q for pdediff %s (want one of %s)", args[0], group, strings.Join(names, ", "))
	}
	return c.run(args[1:], stdout, stderr)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(stdout, buildinfo.Version)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "pdediff: unknown command %q (run `pdediff help`)\n", args[0])
		return 2
	}
	err := c.run(args[1:], stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "pdediff %s: %v\n", c.name, err)
		return 2
	default:
		fmt.Fprintf(stderr, "pdediff %s: error: %v\n", c.name, err)
		return 1
	}
}

func main() {
	buildinfo.WarnIfSlow(os.Stderr)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
