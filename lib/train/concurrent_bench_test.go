package train

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pdediff/pdediff/lib/scorenet"
)

// BenchmarkTrainConcurrent trains M independent models (e.g. the VE and the VP
// model of one data set) in M goroutines on the shared backend and reports
// the total optimizer steps per second over all models.
func BenchmarkTrainConcurrent(b *testing.B) {
	be := testBackend(b)
	nt := benchNets[0] // 2x256, x 1-D, y 1-D
	data := benchData(nt.cfg, 10000)
	for _, models := range []int{1, 2} {
		b.Run(fmt.Sprintf("%s/batch1000/K8/models%d", nt.name, models), func(b *testing.B) {
			var total int64
			start, cpu0 := time.Now(), cpuTime()
			for range b.N {
				var wg sync.WaitGroup
				errs := make([]error, models)
				for m := range models {
					wg.Add(1)
					go func() {
						defer wg.Done()
						net, err := scorenet.New(be, nt.cfg, uint64(m))
						if err != nil {
							errs[m] = err
							return
						}
						_, errs[m] = Train(context.Background(), net, proc, data, Config{Epochs: 40, BatchSize: 1000, StepsPerExec: 8, Seed: uint64(m)})
					}()
				}
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
				total += int64(models) * 400
			}
			b.ReportMetric(float64(total)/time.Since(start).Seconds(), "steps/s")
			b.ReportMetric(1e3*(cpuTime()-cpu0).Seconds()/float64(total), "cpu-ms/step")
		})
	}
}
