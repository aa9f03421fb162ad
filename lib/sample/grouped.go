package sample

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/pdediff/pdediff/lib/sde"
	"github.com/schollz/progressbar/v3"
)

// RowScoreFunc evaluates the score for n rows of dimension d stored row-major
// in x (len n·d), row i at forward time t[i] and belonging to group
// (observation) group[i], writing n·d values into out. The conditioning of
// each group (its observation y, sensor mask η) is captured by the closure
// and looked up by group index. Rows must be evaluated independently of each
// other: then RunGroups' draws do not depend on how groups share a call.
// Implementations must not retain t, group, x or out.
type RowScoreFunc func(t []float64, group []int, x []float64, n, d int, out []float64) error

// SplitRows turns per-group score functions into a RowScoreFunc: every run of
// consecutive rows with the same time and group is passed to score(group) in
// one call. With it, RunGroups evaluates exactly what the group's sampler run
// alone with score(group) would evaluate.
func SplitRows(score func(group int) ScoreFunc) RowScoreFunc {
	return func(t []float64, group []int, x []float64, n, d int, out []float64) error {
		if len(t) != n || len(group) != n || len(x) != n*d || len(out) != n*d {
			return fmt.Errorf("sample: row score buffers have %d times, %d groups, %d and %d values for n = %d rows of d = %d",
				len(t), len(group), len(x), len(out), n, d)
		}
		for i := 0; i < n; {
			j := i + 1
			for j < n && t[j] == t[i] && group[j] == group[i] {
				j++
			}
			if err := score(group[i])(t[i], x[i*d:j*d], j-i, d, out[i*d:j*d]); err != nil {
				return err
			}
			i = j
		}
		return nil
	}
}

// GroupSeed is the seed of group j's random stream under seed: RunGroups runs
// group j's sampler with Options.Seed = GroupSeed(seed, j), so its prior draw
// and Brownian increments depend on (seed, j) only, never on the chunk layout.
// It is two rounds of the splitmix64 finaliser, distinct for distinct j.
func GroupSeed(seed uint64, j int) uint64 {
	return splitmix(splitmix(seed) ^ uint64(j))
}

// splitmix is the splitmix64 output function (a bijection of uint64).
func splitmix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// GroupOptions configure RunGroups. Zero values select the defaults noted per
// field.
type GroupOptions struct {
	// Groups is the number k of groups (observations, each its own system) and
	// PerGroup the number N of draws of each; D is the dimension of a draw.
	Groups, PerGroup, D int
	// XT, if non-nil, is the starting state at t = T (Groups×PerGroup×D,
	// group-major); otherwise group j draws its start from its own stream.
	XT []float64
	// Out, if non-nil (len Groups·PerGroup·D), receives the draws and becomes
	// GroupResult.X; otherwise X is allocated.
	Out []float64
	// Seed keys the streams: group j uses GroupSeed(Seed, j).
	Seed uint64
	// MaxRows bounds the rows of one score call (0: all Groups·PerGroup). It
	// must be at least PerGroup; floor(MaxRows/PerGroup) groups are active at
	// a time, and a finished group's slot is refilled from the pool.
	MaxRows int
	// Eps is the final forward time (0: DefaultEps).
	Eps float64
	// MaxSteps bounds each group's attempted DoPri5 steps (0: DefaultMaxSteps).
	MaxSteps int
	// PerRowNorm is Options.PerRowNorm for each group's DoPri5.
	PerRowNorm bool
	// Context, if non-nil, cancels the run between score rounds: RunGroups
	// then returns Context.Err().
	Context context.Context
	// Progress, if non-nil, receives a progress bar over the groups (with
	// observations per second).
	Progress io.Writer
}

// GroupResult is the outcome of RunGroups.
type GroupResult struct {
	// X holds the draws at t = Eps, Groups×PerGroup×D, group-major: group j's
	// draws are X[j·PerGroup·D : (j+1)·PerGroup·D].
	X []float64
	// Groups, PerGroup and D are the shape of X.
	Groups, PerGroup, D int
	// NFE, Steps and Rejected are each group's score evaluations, accepted and
	// rejected steps (as Result's for that group's run alone).
	NFE, Steps, Rejected []int
	// Calls counts RowScoreFunc calls and Rows the rows they evaluated.
	Calls int
	Rows  int64
	// MaxBatch is the largest number of rows of one call.
	MaxBatch int
	// TFinal is the forward time the integration stopped at (Eps).
	TFinal float64
}

// Group returns group j's draws, PerGroup×D row-major (a sub-slice of X).
func (r GroupResult) Group(j int) []float64 {
	m := r.PerGroup * r.D
	return r.X[j*m : (j+1)*m : (j+1)*m]
}

// errAborted answers the pending score requests of the other groups once one
// group failed or the context was cancelled.
var errAborted = errors.New("sample: run aborted")

// groupEvent is what a group's goroutine reports to the scheduler: a score
// request (req set) or its end (done).
type groupEvent struct {
	group  int
	req    bool
	t      float64
	x, out []float64
	reply  chan error
	done   bool
	res    Result
	err    error
}

// RunGroups samples Groups independent posteriors (one per observation) with
// the sampler of spec, PerGroup draws each. Group j is ONE system run by
// exactly the registered sampler with Options{N: PerGroup, D, Seed:
// GroupSeed(Seed, j), Eps, MaxSteps, PerRowNorm}: DoPri5 keeps its own step
// size and controller per group (scipy's RMS error norm over that group's
// PerGroup×D block, theory eq. 46), the fixed-step samplers share the grid,
// and Euler–Maruyama (theory eq. 67) draws its increments from the group's
// stream. The score evaluations of all active groups are batched into one
// RowScoreFunc call per round, each row at its group's own stage time:
// every active group needs exactly one evaluation per round (DoPri5's stage
// loop, a fixed-step stage), so the groups run lock-step by stage whatever
// their state of acceptance or rejection. At most floor(MaxRows/PerGroup)
// groups are active; finished groups are replaced from the pool, and their
// draws are written into X. For a row-independent score the draws of group j
// are bit-identical to its sampler run alone with SplitRows' per-group score,
// whatever MaxRows. A float32 network whose backend kernels round a row
// differently with the batch size or the row's position (lib/scorenet on the
// Go backend, ~1e-7 relative per evaluation) agrees across layouts only to
// that rounding; with MaxRows = PerGroup it still equals the run alone.
//
// Each active group runs its sampler in its own goroutine (the sampler's
// vector arithmetic thus runs in parallel between rounds); its score calls
// block until the scheduler has one request from every active group, which
// it serves with one RowScoreFunc call, rows ordered by group index.
//
// The first failing group (lowest index in the failing round) stops the run
// with its error; a cancelled Context stops it between rounds with
// Context.Err().
func RunGroups(proc sde.Process, score RowScoreFunc, spec Spec, g GroupOptions) (GroupResult, error) {
	if err := spec.Validate(); err != nil {
		return GroupResult{}, err
	}
	info, _ := ByName(spec.Name)
	if proc == nil || score == nil {
		return GroupResult{}, fmt.Errorf("sample: RunGroups needs a process and a score function")
	}
	k, n, d := g.Groups, g.PerGroup, g.D
	switch {
	case k < 1 || n < 1 || d < 1:
		return GroupResult{}, fmt.Errorf("sample: RunGroups needs groups, per-group draws and dimension ≥ 1, got %d, %d, %d", k, n, d)
	case int64(k)*int64(n)*int64(d) > math.MaxInt/2:
		return GroupResult{}, fmt.Errorf("sample: %d×%d×%d draws do not fit in memory", k, n, d)
	case g.XT != nil && len(g.XT) != k*n*d:
		return GroupResult{}, fmt.Errorf("sample: XT has %d values, not groups·per-group·D = %d·%d·%d", len(g.XT), k, n, d)
	case g.Out != nil && len(g.Out) != k*n*d:
		return GroupResult{}, fmt.Errorf("sample: Out has %d values, not groups·per-group·D = %d·%d·%d", len(g.Out), k, n, d)
	case g.MaxRows < 0 || (g.MaxRows > 0 && g.MaxRows < n):
		return GroupResult{}, fmt.Errorf("sample: MaxRows = %d must be ≥ the per-group draws %d (or 0 for all rows)", g.MaxRows, n)
	}
	ctx := g.Context
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return GroupResult{}, err
	}
	slots := k
	if g.MaxRows > 0 {
		slots = min(k, g.MaxRows/n)
	}
	res := GroupResult{X: g.Out, Groups: k, PerGroup: n, D: d,
		NFE: make([]int, k), Steps: make([]int, k), Rejected: make([]int, k)}
	if res.X == nil {
		res.X = make([]float64, k*n*d)
	}
	base := Options{N: n, D: d, Eps: g.Eps, MaxSteps: g.MaxSteps, PerRowNorm: g.PerRowNorm}
	var bar *progressbar.ProgressBar
	if g.Progress != nil {
		bar = progressbar.NewOptions(k, progressbar.OptionSetWriter(g.Progress),
			progressbar.OptionSetDescription("sample "+spec.Name), progressbar.OptionShowCount(),
			progressbar.OptionShowIts(), progressbar.OptionSetItsString("obs"),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
	}

	events := make(chan groupEvent)
	start := func(j int) {
		opts := base
		opts.Seed = GroupSeed(g.Seed, j)
		if g.XT != nil {
			opts.XT = g.XT[j*n*d : (j+1)*n*d]
		}
		opts = spec.Options(opts)
		go func() {
			reply := make(chan error, 1)
			sf := func(t float64, x []float64, rows, dd int, out []float64) error {
				if rows != n || dd != d || len(x) != n*d || len(out) != n*d {
					return fmt.Errorf("sample: group %d asked for %d×%d rows, want %d×%d", j, rows, dd, n, d)
				}
				events <- groupEvent{group: j, req: true, t: t, x: x, out: out, reply: reply}
				return <-reply
			}
			r, err := info.Run(proc, sf, opts)
			events <- groupEvent{group: j, done: true, res: r, err: err}
		}()
	}

	var (
		next, active, running int
		batch                 []groupEvent
		failErr               error
		failGroup             = -1
		finished              int
		chunkX, chunkOut, ts  []float64
		rowGroup              []int
	)
	for {
		for failGroup < 0 && next < k && active < slots {
			start(next)
			next++
			active++
			running++
		}
		for running > 0 { // one event from every group not waiting for a reply
			ev := <-events
			running--
			if ev.req {
				batch = append(batch, ev)
				continue
			}
			active--
			if ev.err != nil {
				// Genuine failures arrive only while collecting, before any
				// abort: the answers to an abort wrap errAborted.
				if !errors.Is(ev.err, errAborted) && (failGroup < 0 || ev.group < failGroup) {
					failGroup, failErr = ev.group, fmt.Errorf("sample: group %d: %w", ev.group, ev.err)
				}
				continue
			}
			j := ev.group
			copy(res.X[j*n*d:(j+1)*n*d], ev.res.X)
			res.NFE[j], res.Steps[j], res.Rejected[j] = ev.res.NFE, ev.res.Steps, ev.res.Rejected
			res.TFinal = ev.res.TFinal
			finished++
			if bar != nil {
				_ = bar.Set(finished)
			}
			if failGroup < 0 && next < k && active < slots {
				start(next)
				next++
				active++
				running++
			}
		}
		if len(batch) == 0 {
			break // no group active and the pool is empty (or the run failed)
		}
		var err error
		if failGroup < 0 {
			if err = ctx.Err(); err != nil {
				failGroup, failErr = k, err
			}
		}
		if failGroup < 0 {
			slices.SortFunc(batch, func(a, b groupEvent) int { return a.group - b.group })
			rows := len(batch) * n
			if cap(chunkX) < rows*d {
				chunkX, chunkOut = make([]float64, rows*d), make([]float64, rows*d)
				ts, rowGroup = make([]float64, rows), make([]int, rows)
			}
			chunkX, chunkOut, ts, rowGroup = chunkX[:rows*d], chunkOut[:rows*d], ts[:rows], rowGroup[:rows]
			for b, ev := range batch {
				copy(chunkX[b*n*d:], ev.x)
				for i := b * n; i < (b+1)*n; i++ {
					ts[i], rowGroup[i] = ev.t, ev.group
				}
			}
			res.Calls++
			res.Rows += int64(rows)
			res.MaxBatch = max(res.MaxBatch, rows)
			if err = score(ts, rowGroup, chunkX, rows, d, chunkOut); err != nil {
				failGroup, failErr = k, fmt.Errorf("sample: row score (%d rows, %d groups): %w", rows, len(batch), err)
			}
		}
		for b, ev := range batch {
			if failGroup < 0 {
				copy(ev.out, chunkOut[b*n*d:(b+1)*n*d])
				ev.reply <- nil
			} else {
				ev.reply <- errAborted
			}
		}
		running = len(batch)
		batch = batch[:0]
	}
	if bar != nil {
		_ = bar.Finish()
	}
	if failErr != nil {
		return GroupResult{}, failErr
	}
	return res, nil
}
