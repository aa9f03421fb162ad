package scorenet

import (
	"fmt"
	"math"
	"sync"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph DSL
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/pdediff/pdediff/lib/sample"
)

// ScoreRows is Score with one forward time per row: row i of x (and of cond)
// is evaluated at time t[i] (len rows). The time embedding e(t) (theory eq.
// 64) is computed per row inside the graph, exactly as training feeds its
// per-row times to ApplyTrace ([1, rows]); with all t equal the result equals
// Score's bit for bit. The whole batch is one graph execution; graphs are
// compiled once per number of rows (a cache separate from Score's).
func (n *Net) ScoreRows(t []float64, x []float64, rows int, cond []float64, out []float64) error {
	c := n.cfg
	switch {
	case rows < 1:
		return fmt.Errorf("scorenet: ScoreRows needs ≥ 1 row, got %d", rows)
	case len(t) != rows:
		return fmt.Errorf("scorenet: ScoreRows: len(t) = %d, want one time per row (%d)", len(t), rows)
	case len(x) != rows*c.XDim:
		return fmt.Errorf("scorenet: ScoreRows: len(x) = %d, want rows·x_dim = %d·%d", len(x), rows, c.XDim)
	case len(out) != rows*c.XDim:
		return fmt.Errorf("scorenet: ScoreRows: len(out) = %d, want rows·x_dim = %d·%d", len(out), rows, c.XDim)
	case len(cond) != rows*c.CondDim():
		return fmt.Errorf("scorenet: ScoreRows: len(cond) = %d, want rows·cond_dim = %d·%d", len(cond), rows, c.CondDim())
	}
	t32 := make([]float32, rows)
	for i, v := range t {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("scorenet: ScoreRows: time t[%d] = %v is not finite", i, v)
		}
		t32[i] = float32(v)
	}
	engine, err := n.Engine()
	if err != nil {
		return err
	}
	if engine == EngineHost {
		n.scoreMu.Lock()
		err = n.scoreHost(t32, x, rows, cond, out)
		n.scoreMu.Unlock()
		if err != nil {
			return err
		}
		return n.rowsToScore(t, out)
	}
	// Feature-major inputs ([dim, rows]), as in Score.
	args := []any{tensors.FromFlatDataAndDimensions(transposeF32(x, rows, c.XDim), c.XDim, rows)}
	if c.CondDim() > 0 {
		args = append(args, tensors.FromFlatDataAndDimensions(transposeF32(cond, rows, c.CondDim()), c.CondDim(), rows))
	}
	args = append(args, tensors.FromFlatDataAndDimensions(t32, 1, rows))
	n.scoreMu.Lock()
	defer n.scoreMu.Unlock()
	exec, err := n.scoreRowsExec(rows)
	if err != nil {
		return err
	}
	res, err := exec.Exec(args...)
	if err != nil {
		return fmt.Errorf("scorenet: ScoreRows: %w", err)
	}
	defer finalizeAll(res)
	if err := tensors.ConstFlatData(res[0], func(flat []float32) {
		for d := range c.XDim { // [XDim, rows] → row-major
			for i, v := range flat[d*rows : (d+1)*rows] {
				out[i*c.XDim+d] = float64(v)
			}
		}
	}); err != nil {
		return err
	}
	return n.rowsToScore(t, out)
}

// rowsToScore applies toScore to each row at its own time.
func (n *Net) rowsToScore(t []float64, out []float64) error {
	if !n.cfg.NoiseOutput() {
		return nil
	}
	xd := n.cfg.XDim
	for i, ti := range t {
		if err := n.toScore(ti, out[i*xd:(i+1)*xd]); err != nil {
			return err
		}
	}
	return nil
}

// scoreRowsExec returns the executor of the per-row-time graph, rebuilt when
// the EMA selection changed or too many batch sizes were compiled.
func (n *Net) scoreRowsExec(rows int) (*model.Exec, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.rowsExec != nil && (n.rowsEMA != n.useEMA || !n.rowsShapes[rows] && len(n.rowsShapes) >= maxCompiledShapes) {
		n.rowsExec = nil
	}
	if n.rowsExec != nil {
		n.rowsShapes[rows] = true
		return n.rowsExec, nil
	}
	vars, err := n.activeVars()
	if err != nil {
		return nil, err
	}
	cfg := n.cfg
	fn := func(_ *model.Scope, inputs []*Node) *Node {
		x := inputs[0]
		var cond *Node
		if cfg.CondDim() > 0 {
			cond = inputs[1]
		}
		t := inputs[len(inputs)-1] // [1, rows]
		params := make([]*Node, len(vars))
		for i, v := range vars {
			params[i] = v.NodeValue(x.Graph())
		}
		out, _ := ApplyTrace(cfg, params, x, cond, t)
		return out
	}
	e, err := model.NewExec(n.backend, n.store, fn)
	if err != nil {
		return nil, fmt.Errorf("scorenet: building per-row score graph: %w", err)
	}
	n.rowsExec, n.rowsShapes, n.rowsEMA = e, map[int]bool{rows: true}, n.useEMA
	return e, nil
}

// RowScoreFunc returns a sample.RowScoreFunc evaluating this network with one
// time per row (ScoreRows) and the conditioning row of each row's group: cond
// holds one row of CondDim values (y then η) per group (observation), row-major,
// and row i of a call is conditioned on cond row group[i], gathered per call.
// For an unconditional network cond must be empty and groups are not looked
// up. cond is copied.
func (n *Net) RowScoreFunc(cond []float64) (sample.RowScoreFunc, error) {
	cd := n.cfg.CondDim()
	if cd == 0 && len(cond) != 0 {
		return nil, fmt.Errorf("scorenet: unconditional network given %d conditioning values", len(cond))
	}
	if cd > 0 && (len(cond) == 0 || len(cond)%cd != 0) {
		return nil, fmt.Errorf("scorenet: conditioning length %d is not a positive multiple of cond_dim %d", len(cond), cd)
	}
	for i, v := range cond {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("scorenet: conditioning value %d is %v", i, v)
		}
	}
	cond = append([]float64(nil), cond...)
	groups := 0
	if cd > 0 {
		groups = len(cond) / cd
	}
	var mu sync.Mutex
	var gathered []float64 // reused across calls (executions are serialised anyway)
	return func(t []float64, group []int, x []float64, rows, d int, out []float64) error {
		if d != n.cfg.XDim {
			return fmt.Errorf("scorenet: RowScoreFunc called with d = %d, network x_dim = %d", d, n.cfg.XDim)
		}
		if cd == 0 {
			return n.ScoreRows(t, x, rows, nil, out)
		}
		if len(group) != rows {
			return fmt.Errorf("scorenet: RowScoreFunc: %d group indices for %d rows", len(group), rows)
		}
		mu.Lock()
		defer mu.Unlock()
		if cap(gathered) < rows*cd {
			gathered = make([]float64, rows*cd)
		}
		c := gathered[:rows*cd]
		for i, j := range group {
			if j < 0 || j >= groups {
				return fmt.Errorf("scorenet: RowScoreFunc: row %d belongs to group %d, conditioning has %d groups", i, j, groups)
			}
			copy(c[i*cd:(i+1)*cd], cond[j*cd:(j+1)*cd])
		}
		return n.ScoreRows(t, x, rows, c, out)
	}, nil
}
