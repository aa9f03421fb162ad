package processes

import (
	"fmt"

	"gonum.org/v1/plot/vg"

	"github.com/pdediff/pdediff/lib/analytic"
	"github.com/pdediff/pdediff/lib/experiment"
	"github.com/pdediff/pdediff/lib/plots"
	"github.com/pdediff/pdediff/lib/sde"
)

// Preset holds the sizes of the process figures.
type Preset struct {
	Name experiment.PresetName `json:"name"`
	// ForwardPaths and ForwardTimes are the sample paths drawn and the
	// recorded times of the forward demo.
	ForwardPaths int `json:"forward_paths"`
	ForwardTimes int `json:"forward_times"`
	// ReverseSamples and ReverseSteps size the reverse demo (Euler–Maruyama
	// steps; the PF-ODE uses Dormand–Prince at 1e-5).
	ReverseSamples int `json:"reverse_samples"`
	ReverseSteps   int `json:"reverse_steps"`
}

// PresetFor returns the preset called name (quick or paper).
func PresetFor(name string) (Preset, error) {
	switch experiment.PresetName(name) {
	case experiment.Quick:
		return Preset{Name: experiment.Quick, ForwardPaths: 12, ForwardTimes: 200, ReverseSamples: 10000, ReverseSteps: 500}, nil
	case experiment.Paper:
		return Preset{Name: experiment.Paper, ForwardPaths: 30, ForwardTimes: 500, ReverseSamples: 100000, ReverseSteps: 1000}, nil
	}
	return Preset{}, fmt.Errorf("processes: unknown preset %q (want quick or paper)", name)
}

// FamilyKappas are the kappa values of Figure 1.
func FamilyKappas() []float64 { return []float64{0.25, 0.5, 1, 2, 4} }

// DemoMixture is the bimodal 1-D data of the forward/reverse demos.
func DemoMixture() (analytic.Mixture, error) {
	return analytic.NewMixture([]float64{0.3, 0.7}, [][]float64{{-1.5}, {1}}, [][]float64{{0.3}, {0.5}})
}

// ToyProcesses returns the Section 6.1 VE and VP processes (theory §5).
func ToyProcesses() ([]sde.Process, error) {
	var out []sde.Process
	for _, name := range []string{"ve", "vp"} {
		p, err := sde.New(sde.ToyConfig(name))
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Family builds Figure 1 for one closed form of the VP family: s(t) for each
// of FamilyKappas under the constant schedule beta = 1 on [0, 10], m(t) dashed.
func Family(v sde.Variant) (experiment.Plot, error) {
	p, err := plots.VPFamily(FamilyKappas(), 1, 10, v)
	if err != nil {
		return experiment.Plot{}, err
	}
	return experiment.Plot{Fig: p, Width: 6 * vg.Inch, Height: 4 * vg.Inch}, nil
}

// ForwardDemo builds the forward demo: sample paths of the forward SDE of the
// demo mixture under VE and VP over the exact marginal density.
func ForwardDemo(p Preset, seed uint64) (experiment.Plot, error) {
	data, err := DemoMixture()
	if err != nil {
		return experiment.Plot{}, err
	}
	procs, err := ToyProcesses()
	if err != nil {
		return experiment.Plot{}, err
	}
	g, err := plots.ForwardDemo(data, procs, p.ForwardPaths, p.ForwardTimes, seed)
	if err != nil {
		return experiment.Plot{}, err
	}
	return experiment.Plot{Fig: g, Width: 10 * vg.Inch, Height: 4 * vg.Inch}, nil
}

// ReverseDemo builds the reverse demo: samples at t = eps of the reverse SDE
// (alpha = 1) and the PF-ODE (alpha = 0) with the exact score, against the
// exact data density.
func ReverseDemo(env experiment.Env, p Preset) (experiment.Plot, error) {
	data, err := DemoMixture()
	if err != nil {
		return experiment.Plot{}, err
	}
	procs, err := ToyProcesses()
	if err != nil {
		return experiment.Plot{}, err
	}
	fmt.Fprintf(env.Logger(), "demo-reverse: %d samples, %d Euler-Maruyama steps, Dormand-Prince rtol=atol=1e-5\n", p.ReverseSamples, p.ReverseSteps)
	g, err := plots.ReverseDemo(data, procs, p.ReverseSamples, p.ReverseSteps, env.Seed, env.Logger())
	if err != nil {
		return experiment.Plot{}, err
	}
	return experiment.Plot{Fig: g, Width: 10 * vg.Inch, Height: 7 * vg.Inch}, nil
}

// Figures returns the figure registry of this package in display order.
func Figures() []experiment.Figure {
	return []experiment.Figure{
		{Name: "fig1-vp-family", Summary: "Fig 1: s(t) of the VP family for kappa in {0.25,0.5,1,2,4}, constant beta = 1, m(t) dashed (both closed forms)",
			Make: func(env experiment.Env) ([]string, error) {
				var paths []string
				for _, v := range sde.Variants() {
					f, err := Family(v)
					if err != nil {
						return nil, err
					}
					name := "fig1-vp-family"
					if v != sde.VariantPower {
						name += "-" + string(v)
					}
					ps, err := f.Save(env, name)
					if err != nil {
						return nil, err
					}
					paths = append(paths, ps...)
				}
				return paths, nil
			}},
		{Name: "demo-forward", Summary: "forward SDE sample paths of a bimodal 1-D mixture under VE and VP over the marginal density",
			Make: func(env experiment.Env) ([]string, error) {
				p, err := PresetFor(string(env.Preset))
				if err != nil {
					return nil, err
				}
				f, err := ForwardDemo(p, env.Seed)
				if err != nil {
					return nil, err
				}
				return f.Save(env, "demo-forward")
			}},
		{Name: "demo-reverse", Summary: "reverse process with the exact score: samples at t=eps vs exact density, SDE (alpha=1) and PF-ODE (alpha=0)",
			Make: func(env experiment.Env) ([]string, error) {
				p, err := PresetFor(string(env.Preset))
				if err != nil {
					return nil, err
				}
				f, err := ReverseDemo(env, p)
				if err != nil {
					return nil, err
				}
				return f.Save(env, "demo-reverse")
			}},
	}
}
