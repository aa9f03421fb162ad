package fluxinv

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdediff/pdediff/lib/physics"
	"github.com/pdediff/pdediff/lib/sample"
)

func TestEveryProblemsPresetsValidate(t *testing.T) {
	for _, problem := range Problems() {
		for _, name := range []string{"quick", "standard", "paper"} {
			p, err := PresetForProblem(problem, name)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Validate(); err != nil {
				t.Errorf("%s %s: %v", problem, name, err)
			}
		}
	}
}

func TestLevelEpochs(t *testing.T) {
	p, _ := PresetForProblem(physics.ProblemNonlinear, "standard")
	if got, want := p.EpochsAt(0.05), 4500; got != want {
		t.Errorf("nonlinear standard at 0.05: %d epochs, want %d", got, want)
	}
	if got := p.TrainingAt(0.2); got.Epochs != p.Epochs || got != p.TrainSettings {
		t.Errorf("nonlinear standard at 0.2: %+v, want the preset's %+v", got, p.TrainSettings)
	}
	if ts := p.TrainingAt(0.05); ts.Epochs != 4500 || ts.Width != p.Width || ts.LR != p.LR {
		t.Errorf("TrainingAt(0.05) = %+v", ts)
	}
	if got, want := p.epochsLabel(), "500 epochs (4500 at level 0.05)"; got != want {
		t.Errorf("label %q, want %q", got, want)
	}
	if got := p.SamplerSpec("sde", "vp"); got.Name != "sde-karras" || got.Steps != sample.DefaultSteps || got.Validate() != nil {
		t.Errorf("nonlinear standard SDE: %+v, want sde-karras with %d steps", got, sample.DefaultSteps)
	}
	if lin, _ := PresetFor("standard"); lin.SamplerSpec("sde", "ve").Name != "sde" {
		t.Errorf("linear standard SDE: %+v, want the uniform grid", lin.SamplerSpec("sde", "ve"))
	}
	for _, tc := range []struct {
		name string
		edit func(*Preset)
		want string
	}{
		{"not a level", func(q *Preset) { q.LevelEpochs = []LevelEpochs{{Level: 0.1, Epochs: 9}} }, "level 0.1 is not one of the levels"},
		{"no epochs", func(q *Preset) { q.LevelEpochs = []LevelEpochs{{Level: 0.05, Epochs: 0}} }, "needs epochs ≥ 1"},
		{"twice", func(q *Preset) {
			q.LevelEpochs = []LevelEpochs{{Level: 0.05, Epochs: 9}, {Level: 0.2, Epochs: 9}, {Level: 0.05, Epochs: 8}}
		}, "names level 0.05 twice"},
		{"sde sampler", func(q *Preset) { q.SDESampler = "ode" }, "sde_sampler \"ode\""},
	} {
		q := p
		tc.edit(&q)
		if err := q.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	// WithSDESampler: the uniform grid is the presets' default "".
	if q, err := p.WithSDESampler("sde"); err != nil || q.SDESampler != "" || q.SamplerSpec("sde", "ve").Name != "sde" {
		t.Errorf("WithSDESampler(sde): %q, %v", q.SDESampler, err)
	}
	if _, err := p.WithSDESampler("heun"); err == nil {
		t.Error("WithSDESampler accepted heun")
	}
	// The epoch study sets every point's epochs itself.
	st, err := epochStudyPreset(p, 0.05, "ve", "ode", []int{10, 20})
	if err != nil || st.LevelEpochs != nil {
		t.Errorf("epoch-study preset: level epochs %v, err %v", st.LevelEpochs, err)
	}
}

// TestRunTrainsLevelEpochs checks that a run trains a level's models for
// its LevelEpochs and says so in results.md.
func TestRunTrainsLevelEpochs(t *testing.T) {
	b := sharedBackend(t)
	p := tinyPreset()
	p.LevelEpochs = []LevelEpochs{{Level: 0.2, Epochs: 5}}
	out := t.TempDir()
	var log bytes.Buffer
	res, err := Run(context.Background(), b, p, 7, out, Options{Only: []string{"ve-ode-*"}, Log: &log, NoFigures: true})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Cell("ve-ode-0.2")
	steps := int64(5 * p.NTrain / p.BatchSize)
	if c == nil || c.Training == nil || c.Training.Steps != steps {
		t.Fatalf("cell ve-ode-0.2: training %+v, want %d steps", c.Training, steps)
	}
	md, _ := os.ReadFile(filepath.Join(out, "results.md"))
	if !strings.Contains(string(md), "3 epochs (5 at level 0.2)") || !strings.Contains(log.String(), "(5 epochs,") {
		t.Errorf("results.md or the log do not name the level's epochs:\n%s\n%s", md, log.String())
	}
}

// TestSamplingChangeKeepsModels checks the stage keys: a run whose preset
// differs only in sampling settings reuses the data and models of an
// earlier run in the same folder and samples its cells again.
func TestSamplingChangeKeepsModels(t *testing.T) {
	b, out := sharedBackend(t), t.TempDir()
	var log bytes.Buffer
	run := func(q Preset) *Results {
		res, err := Run(context.Background(), b, q, 7, out, Options{Only: []string{"vp-sde-*"}, Log: &log, NoFigures: true})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	p := tinyPreset()
	run(p)
	model := ModelDir(out, "vp", 0.2) + ".stage.json"
	data := DataDir(out, 0.2) + ".stage.json"
	post := PosteriorPath(out, Cell{Level: 0.2, Process: "vp", Sampler: "sde"})
	mt, dt, pt := mtime(t, model), mtime(t, data), mtime(t, post)
	q := p
	q.SDESampler, q.SDESteps = "sde-karras", 12
	res := run(q)
	if !mtime(t, model).Equal(mt) || !mtime(t, data).Equal(dt) {
		t.Error("a change of the SDE sampler made the data or the model again")
	}
	if mtime(t, post).Equal(pt) {
		t.Error("the posterior of the changed sampler was not sampled again")
	}
	c := res.Cell("vp-sde-0.2")
	if c == nil || c.Sampler.Name != "sde-karras" || c.Sampler.Steps != 12 || c.NFEMean != 12 {
		t.Errorf("cell vp-sde-0.2 after the change: %+v", c)
	}
	// Another training length for the level does train again.
	q.LevelEpochs = []LevelEpochs{{Level: 0.2, Epochs: 4}}
	run(q)
	if mtime(t, model).Equal(mt) || !mtime(t, data).Equal(dt) {
		t.Error("another training length should retrain the model and keep the data")
	}
}
