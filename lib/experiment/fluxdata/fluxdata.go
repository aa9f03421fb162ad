package fluxdata

import (
	"fmt"

	"gonum.org/v1/plot/vg"

	"github.com/pdediff/pdediff/datasets/flux"
	"github.com/pdediff/pdediff/lib/experiment"
	"github.com/pdediff/pdediff/lib/physics"
	"github.com/pdediff/pdediff/lib/plots"
)

// Preset holds the sizes of the data figures.
type Preset struct {
	Name experiment.PresetName `json:"name"`
	// LinearMesh and NonlinearMesh are the meshes (NX × NY) of the figures'
	// solves; 0 keeps the physics default.
	LinearMesh    [2]int `json:"linear_mesh"`
	NonlinearMesh [2]int `json:"nonlinear_mesh"`
	// NTrain is the size of the small data set drawn for each figure (it sets
	// the reading scale of the noise), NTrainNonlinear the nonlinear one's.
	NTrain          int `json:"n_train"`
	NTrainNonlinear int `json:"n_train_nonlinear"`
	// Noise is the noise level of the readings shown.
	Noise float64 `json:"noise"`
}

// PresetFor returns the preset called name (quick or paper).
func PresetFor(name string) (Preset, error) {
	switch experiment.PresetName(name) {
	case experiment.Quick:
		return Preset{Name: experiment.Quick, LinearMesh: [2]int{170, 40}, NonlinearMesh: [2]int{85, 20}, NTrain: 200, NTrainNonlinear: 30, Noise: 0.05}, nil
	case experiment.Paper:
		return Preset{Name: experiment.Paper, NTrain: 200, NTrainNonlinear: 200, Noise: 0.05}, nil
	}
	return Preset{}, fmt.Errorf("fluxdata: unknown preset %q (want quick or paper)", name)
}

// Config returns the physics configuration of a problem at the preset's mesh.
func (p Preset) Config(problem string) (physics.Config, error) {
	cfg, err := physics.DefaultConfig(problem)
	if err != nil {
		return cfg, err
	}
	mesh := p.LinearMesh
	if problem == physics.ProblemNonlinear {
		mesh = p.NonlinearMesh
	}
	if mesh[0] > 0 {
		cfg.NX, cfg.NY = mesh[0], mesh[1]
	}
	return cfg, nil
}

// Geometry returns the plotting geometry of the physics package with the
// given peak velocity.
func Geometry(umax float64) plots.FluxGeometry {
	xs, ys := physics.SensorPositions()
	return plots.FluxGeometry{Length: physics.Length, Height: physics.Height, FluxEnd: physics.FluxEnd,
		SegmentsPerWall: physics.SegmentsPerWall, SensorX: xs[:], SensorY: ys[:], UMax: umax}
}

// Setup builds Figure 5: the channel, the parabolic velocity profile, the
// flux segments on both walls and the 30 sensors.
func Setup() (experiment.Plot, error) {
	cfg, err := physics.DefaultConfig(physics.ProblemLinear)
	if err != nil {
		return experiment.Plot{}, err
	}
	p, err := plots.FluxSetupPlot(Geometry(cfg.UMax))
	if err != nil {
		return experiment.Plot{}, err
	}
	return experiment.Plot{Fig: p, Width: 10 * vg.Inch, Height: 3.5 * vg.Inch}, nil
}

// Instances draws a small data set of a problem and returns its first three
// test instances with their full concentration fields.
func Instances(env experiment.Env, p Preset, problem string, masks bool) ([]plots.FluxInstance, physics.Config, error) {
	cfg, err := p.Config(problem)
	if err != nil {
		return nil, cfg, err
	}
	m, err := physics.New(cfg)
	if err != nil {
		return nil, cfg, err
	}
	nTrain := p.NTrain
	if problem == physics.ProblemNonlinear {
		nTrain = p.NTrainNonlinear
	}
	ds, err := flux.Generate(env.Context(), m, flux.Options{NTrain: nTrain, NTest: 3, NoiseLevel: p.Noise,
		Masks: masks, Seed: env.Seed, Workers: 2, Progress: env.Log})
	if err != nil {
		return nil, cfg, err
	}
	var out []plots.FluxInstance
	for i := 0; i < 3; i++ {
		q := ds.Test.Q[i*flux.N : (i+1)*flux.N]
		sol, err := physics.Solve(cfg, q)
		if err != nil {
			return nil, cfg, err
		}
		in := plots.FluxInstance{Q: q, Readings: ds.Test.ReadingsNoisy[i*flux.N : (i+1)*flux.N],
			Field: &plots.FluxField{NX: sol.Mesh.NX, NY: sol.Mesh.NY, Length: physics.Length, Height: physics.Height, C: sol.C}}
		if masks {
			in.Mask = ds.Test.Mask[i*flux.N : (i+1)*flux.N]
		}
		out = append(out, in)
	}
	return out, cfg, nil
}

// InstancesFigure builds Figure 6 (linear, no masks), 12 (linear, masks) or
// 15 (nonlinear): wall flux, concentration field and noisy readings of three
// test instances.
func InstancesFigure(env experiment.Env, p Preset, problem string, masks bool) (experiment.Plot, error) {
	inst, cfg, err := Instances(env, p, problem, masks)
	if err != nil {
		return experiment.Plot{}, err
	}
	fig, err := plots.FluxInstancesFigure(Geometry(cfg.UMax), inst)
	if err != nil {
		return experiment.Plot{}, err
	}
	return experiment.Plot{Fig: fig, Width: 15 * vg.Inch, Height: 9 * vg.Inch}, nil
}

func instancesEntry(name, summary, problem string, masks bool) experiment.Figure {
	return experiment.Figure{Name: name, Summary: summary, Make: func(env experiment.Env) ([]string, error) {
		p, err := PresetFor(string(env.Preset))
		if err != nil {
			return nil, err
		}
		f, err := InstancesFigure(env, p, problem, masks)
		if err != nil {
			return nil, err
		}
		return f.Save(env, name)
	}}
}

// Figures returns the figure registry of this package in display order.
func Figures() []experiment.Figure {
	return []experiment.Figure{
		{Name: "fig5-setup", Summary: "Fig 5: channel, parabolic velocity profile, flux segments on both walls, 30 sensors",
			Make: func(env experiment.Env) ([]string, error) {
				f, err := Setup()
				if err != nil {
					return nil, err
				}
				return f.Save(env, "fig5-setup")
			}},
		instancesEntry("fig6-prior-draws", "Fig 6: three prior draws (linear problem): wall flux, concentration field, noisy readings", physics.ProblemLinear, false),
		instancesEntry("fig12-masked", "Fig 12: masked training instances (linear problem); off sensors as red crosses", physics.ProblemLinear, true),
		instancesEntry("fig15-nonlinear", "Fig 15: nonlinear (reaction) instances: wall flux, field (tends to 2 downstream), noisy readings", physics.ProblemNonlinear, false),
	}
}
