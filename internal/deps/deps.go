// Package deps pins, through blank imports, the third-party packages the
// project builds on, so that go.mod and go.sum list them even before every
// package uses them (the tools.go pattern). It has no code.
package deps

import (
	_ "github.com/ajroetker/go-highway/hwy"
	_ "github.com/ajroetker/go-highway/hwy/contrib/algo"
	_ "github.com/ajroetker/go-highway/hwy/contrib/vec"
	_ "github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
	_ "github.com/gomlx/gomlx/core/graph"
	_ "github.com/gomlx/gomlx/core/tensors"
	_ "github.com/gomlx/gomlx/ml/layers"
	_ "github.com/gomlx/gomlx/ml/layers/activation"
	_ "github.com/gomlx/gomlx/ml/layers/fnn"
	_ "github.com/gomlx/gomlx/ml/model"
	_ "github.com/gomlx/gomlx/ml/model/checkpoint"
	_ "github.com/gomlx/gomlx/ml/train"
	_ "github.com/gomlx/gomlx/ml/train/optimizer"
	_ "github.com/sbinet/npyio"
	_ "github.com/sbinet/npyio/npz"
	_ "github.com/schollz/progressbar/v3"
	_ "gonum.org/v1/gonum/floats"
	_ "gonum.org/v1/gonum/integrate/quad"
	_ "gonum.org/v1/gonum/mat"
	_ "gonum.org/v1/gonum/optimize"
	_ "gonum.org/v1/gonum/stat"
	_ "gonum.org/v1/gonum/stat/distuv"
	_ "gonum.org/v1/plot"
	_ "gonum.org/v1/plot/palette"
	_ "gonum.org/v1/plot/plotter"
	_ "gonum.org/v1/plot/vg"
)
