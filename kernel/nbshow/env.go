package nbshow

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/janpfeifer/gonb/gonbui/protocol"
	"github.com/pdediff/pdediff/lib/experiment"
)

// PresetEnvVar is the environment variable that selects the preset of every
// notebook; a notebook's parameter cell sets it with `%env PDEDIFF_PRESET=quick`.
const PresetEnvVar = "PDEDIFF_PRESET"

// PresetName returns the preset the notebooks run at: PDEDIFF_PRESET, quick
// when unset. Any value other than quick or paper panics, naming the valid ones.
func PresetName() experiment.PresetName {
	s := os.Getenv(PresetEnvVar)
	if s == "" {
		return experiment.Quick
	}
	p, err := experiment.ParsePreset(s, experiment.Quick, experiment.Paper)
	if err != nil {
		panic(fmt.Sprintf("nbshow: %s=%q: %v", PresetEnvVar, s, err))
	}
	return p
}

// Env returns the environment of an experiment-package call from a notebook:
// the notebook's preset, the given seed and output folder, no log.
func Env(seed uint64, out string) experiment.Env {
	return experiment.Env{Preset: PresetName(), Seed: seed, Out: out}
}

// RepoRoot returns the root of the pdediff repository: the first folder
// holding a go.mod of module github.com/pdediff/pdediff, searched upwards from
// the notebook's folder (GONB_DIR inside GoNB) or the working directory.
func RepoRoot() (string, error) {
	dir := os.Getenv(protocol.GONB_DIR_ENV)
	if dir == "" {
		var err error
		if dir, err = os.Getwd(); err != nil {
			return "", err
		}
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.HasPrefix(b, []byte("module github.com/pdediff/pdediff\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("nbshow: no go.mod of github.com/pdediff/pdediff in %s or above", dir)
		}
	}
}

// RepoPath joins a path relative to the repository root, e.g.
// nbshow.RepoPath("figures/paper/table2-paper/table2.md"). It panics if the
// root cannot be found.
func RepoPath(rel string) string {
	return filepath.Join(Get(RepoRoot()), filepath.FromSlash(rel))
}
