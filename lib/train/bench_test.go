package train

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/gomlx/compute"

	"github.com/pdediff/pdediff/lib/scorenet"
)

// benchNets are the paper's two networks (theory §4.1): 2x256 for the 1-D
// conditional densities (x, y scalars) and 4x256 for the flux inversion with
// sensor masks (x, y, η 30-D).
var benchNets = []struct {
	name string
	cfg  scorenet.Config
}{
	{"2x256_x1_y1", scorenet.Config{XDim: 1, YDim: 1, HiddenLayers: 2, Width: 256}},
	{"4x256_x30_y30_m30", scorenet.Config{XDim: 30, YDim: 30, MaskDim: 30, HiddenLayers: 4, Width: 256}},
}

func benchData(cfg scorenet.Config, n int) Data {
	rng := rand.New(rand.NewPCG(1, 1))
	d := Data{X: make([]float64, n*cfg.XDim), Cond: make([]float64, n*cfg.CondDim()), N: n}
	for i := range d.X {
		d.X[i] = rng.NormFloat64()
	}
	for i := range d.Cond {
		d.Cond[i] = rng.NormFloat64()
	}
	return d
}

// BenchmarkTrainStep measures optimiser steps per second (metric "steps/s";
// host-side batch preparation included) on the host engine and on the
// backend's graph with K steps per graph execution (K changes nothing on the
// host engine, which runs one step at a time).
func BenchmarkTrainStep(b *testing.B) {
	be := testBackend(b)
	for _, engine := range []string{scorenet.EngineHost, scorenet.EngineGraph} {
		for _, nt := range benchNets {
			for _, batch := range []int{1000, 10000} {
				ks := []int{1, 4, 16}
				if engine == scorenet.EngineHost {
					ks = []int{8}
				}
				for _, k := range ks {
					benchTrainStep(b, be, engine, nt.name, nt.cfg, batch, k)
				}
			}
		}
	}
}

func benchTrainStep(b *testing.B, be compute.Backend, engine, name string, ncfg scorenet.Config, batch, k int) {
	b.Run(fmt.Sprintf("%s/%s/batch%d/K%d", engine, name, batch, k), func(b *testing.B) {
		net, err := scorenet.New(be, ncfg, 1)
		if err != nil {
			b.Fatal(err)
		}
		cfg := Config{Epochs: 1, BatchSize: batch, StepsPerExec: k}.WithDefaults()
		st, err := newState(net, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if engine == scorenet.EngineHost {
			if st.host, err = newHostStep(st); err != nil {
				b.Fatal(err)
			}
		}
		data := benchData(ncfg, 4*batch)
		bt := &batcher{data: data, cfg: net.Config(), proc: proc, seed: 1, B: batch, spe: 4, T: 1, epoch: -1}
		if _, err := st.run(bt, k, cfg); err != nil { // compile + first run
			b.Fatal(err)
		}
		b.ResetTimer()
		start, cpu0 := time.Now(), cpuTime()
		for range b.N {
			if _, err := st.run(bt, k, cfg); err != nil {
				b.Fatal(err)
			}
			st.step += int64(k)
		}
		b.ReportMetric(float64(b.N*k)/time.Since(start).Seconds(), "steps/s")
		b.ReportMetric(1e3*(cpuTime()-cpu0).Seconds()/float64(b.N*k), "cpu-ms/step")
	})
}

// BenchmarkScore measures one batched score evaluation (one graph execution).
func BenchmarkScore(b *testing.B) {
	be := testBackend(b)
	for _, nt := range benchNets {
		for _, rows := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("%s/rows%d", nt.name, rows), func(b *testing.B) {
				net, _ := scorenet.New(be, nt.cfg, 1)
				d := benchData(nt.cfg, rows)
				out := make([]float64, rows*nt.cfg.XDim)
				if err := net.Score(0.5, d.X, rows, d.Cond, out); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				cpu0 := cpuTime()
				for range b.N {
					if err := net.Score(0.5, d.X, rows, d.Cond, out); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(1e3*(cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-ms/op")
			})
		}
	}
}

// cpuTime is the process's user+system CPU time: under a shared, loaded
// machine it bounds the unloaded wall time per step (cpu/threads ≤ wall ≤ cpu).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
