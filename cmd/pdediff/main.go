// Command pdediff runs every experiment of the pdediff project and regenerates
// every figure and table without Jupyter.
//
// Usage: pdediff <command> [subcommand] [flags]; `pdediff help` lists commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/pdediff/pdediff/lib/buildinfo"
)

// command is one top-level CLI command. Files of this package register their
// commands in init functions with register.
type command struct {
	name    string
	summary string
	// run receives the arguments after the command name.
	run func(args []string, stdout, stderr io.Writer) error
	// runCtx, when set, is called instead of run, with a context that is
	// cancelled by SIGINT, SIGTERM or SIGHUP (see commandContext). A command
	// that sets it promises to stop soon after cancellation and to leave no
	// partial output; run then reports "interrupted by SIGTERM: <its error>"
	// and exits with 128+signal. Commands with only run keep the default
	// signal behaviour (the process dies at once).
	runCtx func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// invoke runs a leaf command (name is its full name, "flux data").
func (c command) invoke(name string, args []string, stdout, stderr io.Writer) error {
	if c.runCtx != nil {
		invoked.Store(&name)
		return c.runCtx(commandContext(), args, stdout, stderr)
	}
	return c.run(args, stdout, stderr)
}

// invoked is the full name of the context-aware command running, for the
// interruption message.
var invoked atomic.Pointer[string]

// Signal handling. main enables it; tests that call run directly do not, so
// their commands get context.Background().
var signals struct {
	enabled atomic.Bool
	once    sync.Once
	ctx     context.Context
	caught  atomic.Pointer[os.Signal]
	stderr  io.Writer
}

// enableSignals makes commandContext install handlers for SIGINT, SIGTERM and
// SIGHUP (on first use: only context-aware commands change the default
// behaviour of the signals). Messages go to stderr.
func enableSignals(stderr io.Writer) {
	signals.stderr = stderr
	signals.enabled.Store(true)
}

// interruptError is the cancellation cause of the command context.
type interruptError struct{ sig os.Signal }

func (e interruptError) Error() string { return "interrupted by " + signalName(e.sig) }

func (e interruptError) Unwrap() error { return context.Canceled }

// commandContext returns the context given to context-aware commands: once
// signal handling is enabled it is cancelled (cause: "interrupted by SIGTERM")
// by the first SIGINT, SIGTERM or SIGHUP; a second signal exits the process at
// once with 128+signal. Without signal handling it is context.Background().
func commandContext() context.Context {
	if !signals.enabled.Load() {
		return context.Background()
	}
	signals.once.Do(func() {
		ctx, cancel := context.WithCancelCause(context.Background())
		signals.ctx = ctx
		ch := make(chan os.Signal, 2)
		signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		go func() {
			s := <-ch
			signals.caught.Store(&s)
			cancel(interruptError{s})
			s2 := <-ch
			fmt.Fprintf(signals.stderr, "pdediff: second signal (%s): exiting at once\n", signalName(s2))
			os.Exit(signalExitCode(s2))
		}()
	})
	return signals.ctx
}

// caughtSignal returns the signal that cancelled the command context, or nil.
func caughtSignal() os.Signal {
	if p := signals.caught.Load(); p != nil {
		return *p
	}
	return nil
}

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return s.String()
}

// signalExitCode is the shell convention 128+signal number (130 SIGINT, 143
// SIGTERM, 129 SIGHUP).
func signalExitCode(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 1
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

// parseFlags parses args, rejecting stray positional arguments. Integer flags
// also accept exponent notation for whole numbers (--n 1e4, --n-train 3.6e4);
// a value that is not a whole number or out of range is refused clearly.
func parseFlags(fs *flag.FlagSet, args []string) error {
	args, err := normalizeIntArgs(fs, args)
	if err != nil {
		return err
	}
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

// intKind returns "int" or "uint" for integer-valued flags, "" otherwise.
func intKind(f *flag.Flag) string {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return ""
	}
	switch g.Get().(type) {
	case int, int64:
		return "int"
	case uint, uint64:
		return "uint"
	}
	return ""
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// normalizeIntArgs rewrites the values of integer flags written in exponent
// or decimal notation ("1e12", "3.6e4", "100.0") as plain integers, following
// the flag package's syntax (-name value, -name=value, one or two dashes; the
// flags end at "--" or the first non-flag argument). A value that is not a
// whole number or does not fit the flag's type is a usage error naming the
// flag.
func normalizeIntArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	out := append([]string(nil), args...)
	for i := 0; i < len(out); i++ {
		a := out[i]
		if len(a) < 2 || a[0] != '-' || a == "--" {
			break
		}
		dashes := "-"
		if a[1] == '-' {
			dashes = "--"
		}
		name, val, hasVal := strings.Cut(a[len(dashes):], "=")
		f := fs.Lookup(name)
		if f == nil || isBoolFlag(f) {
			continue
		}
		at := i
		if !hasVal {
			if i+1 >= len(out) {
				break
			}
			i++
			at, val = i, out[i]
		}
		kind := intKind(f)
		if kind == "" {
			continue
		}
		fixed, err := wholeNumber(val, kind)
		if err != nil {
			return nil, usageErrorf("--%s: %v", name, err)
		}
		if hasVal {
			out[at] = dashes + name + "=" + fixed
		} else {
			out[at] = fixed
		}
	}
	return out, nil
}

// wholeNumber returns s as a plain integer when it is one written with an
// exponent or a decimal point; other strings are returned unchanged for the
// flag package to parse.
func wholeNumber(s, kind string) (string, error) {
	t := strings.TrimSpace(s)
	if _, err := strconv.ParseInt(t, 0, 64); err == nil {
		return s, nil
	}
	if _, err := strconv.ParseUint(t, 0, 64); err == nil {
		return s, nil
	}
	if !strings.ContainsAny(t, "eE.") || strings.HasPrefix(strings.ToLower(strings.TrimLeft(t, "+-")), "0x") {
		return s, nil
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return s, nil
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v != math.Trunc(v) {
		return "", fmt.Errorf("%q is not a whole number", s)
	}
	switch {
	case kind == "uint" && (v < 0 || v >= 1<<64):
		return "", fmt.Errorf("%s is out of range (want 0 to %d)", s, uint64(math.MaxUint64))
	case kind == "uint":
		return strconv.FormatUint(uint64(v), 10), nil
	case v < -(1<<63) || v >= 1<<63:
		return "", fmt.Errorf("%s is out of range (want at most %d)", s, math.MaxInt64)
	}
	return strconv.FormatInt(int64(v), 10), nil
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
	return c.invoke(group+" "+c.name, args[1:], stdout, stderr)
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
	err := c.invoke(c.name, args[1:], stdout, stderr)
	if s := caughtSignal(); s != nil {
		name := c.name
		if p := invoked.Load(); p != nil {
			name = *p
		}
		what := "the command had already finished; its output is complete"
		if err != nil {
			what = err.Error()
		}
		fmt.Fprintf(stderr, "pdediff %s: interrupted by %s: %s\n", name, signalName(s), what)
		return signalExitCode(s)
	}
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
	enableSignals(os.Stderr)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
