package flux

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/pdediff/pdediff/lib/arrayio"
	"github.com/pdediff/pdediff/lib/physics"
	"github.com/schollz/progressbar/v3"
)

// SensorModel is the part of physics.SensorModel the data sets need; any
// physics.SensorModel satisfies it. It must be safe for concurrent use when
// Options.Workers > 1.
type SensorModel interface {
	Readings(q []float64, out []float64) error
	Describe() map[string]any
}

var _ SensorModel = physics.SensorModel(nil)

// DefaultNoiseLevels are the relative noise levels studied (our choice, theory §6.5).
var DefaultNoiseLevels = []float64{0, 0.01, 0.02, 0.05, 0.1, 0.2}

// Defaults of the measurement model (theory §6.6).
const (
	// DefaultMaskProb is the probability that a sensor is on, η_i ~ Bernoulli(0.7) (theory eq. 99).
	DefaultMaskProb = 0.7
	// DefaultOffValue is the value of an off sensor in scaled units (theory eq. 100: −1 after scaling, our choice).
	DefaultOffValue = -1.0
)

// Options configure Generate.
type Options struct {
	// NTrain and NTest are the split sizes (paper: linear 9,000/1,000; masked and nonlinear 36,000/4,000).
	NTrain, NTest int
	// NoiseLevel is the noise std relative to the training readings' spread: σ_n = NoiseLevel · ReadingScale (≥ 0).
	NoiseLevel float64
	// Masks draws a sensor mask η ~ Bernoulli(MaskProb) per sample (multiple measurement operators, theory §6.6).
	Masks bool
	// MaskProb is P(sensor on) (0 = DefaultMaskProb).
	MaskProb float64
	// FixedMask, if non-nil (30 values, 1 on, 0 off, at least one on; needs
	// Masks), is every sample's mask instead of a Bernoulli draw: the data of
	// one measurement operator, in the masked layout. The fluxes, noise and
	// scaling are the same draws as with Bernoulli masks of the same seed
	// (the masks have their own random stream), so a model trained on it can
	// be compared case by case with a model trained on every mask.
	FixedMask []float64
	// OffValue is the scaled reading of an off sensor, set after scaling (our choice, theory eq. 100: −1).
	// It is only used with Masks; nil means DefaultOffValue.
	OffValue *float64
	// Prior configures the flux prior (zero fields take defaults).
	Prior PriorOptions
	// Seed makes the data reproducible: same seed and options → same arrays, for any Workers.
	Seed uint64
	// Workers is the number of goroutines calling the model (0 = 1).
	Workers int
	// Progress, if non-nil, receives a progress bar for the forward solves.
	Progress io.Writer
}

// Split is one data split; every array is row-major n × 30.
type Split struct {
	// N is the number of samples.
	N int
	// Q is the flux (physical units).
	Q []float64
	// ReadingsClean are the noise-free sensor readings.
	ReadingsClean []float64
	// ReadingsNoisy are the noisy readings in physical units, before masking.
	ReadingsNoisy []float64
	// Readings are the noisy readings scaled to [−1, 1] (training range), with
	// off sensors set to OffValue: the network's conditioning input.
	Readings []float64
	// QScaled is the flux scaled to [−1, 1] (training range).
	QScaled []float64
	// Mask is 1 for an on sensor, 0 for an off sensor (all ones without masks).
	Mask []float64
}

// Meta records everything needed to reproduce or interpret a data set (data.json).
type Meta struct {
	Version    string         `json:"version"`
	Problem    string         `json:"problem"`
	Physics    map[string]any `json:"physics"`
	NTrain     int            `json:"n_train"`
	NTest      int            `json:"n_test"`
	Seed       uint64         `json:"seed"`
	NoiseLevel float64        `json:"noise_level"`
	// ReadingScale is the root-mean-square over sensors of the per-sensor std of
	// the clean training readings; NoiseStd = NoiseLevel · ReadingScale.
	ReadingScale float64      `json:"reading_scale"`
	NoiseStd     float64      `json:"noise_std"`
	Masks        bool         `json:"masks"`
	MaskProb     float64      `json:"mask_prob"`
	FixedMask    []float64    `json:"fixed_mask,omitempty"`
	OffValue     float64      `json:"off_value"`
	Prior        PriorOptions `json:"prior"`
	PriorJitter  float64      `json:"prior_jitter"`
	Scaling      Scaling      `json:"scaling"`
	Arrays       []string     `json:"arrays"`
	Layout       string       `json:"layout"`
	// RunID identifies the run that wrote the set (a content hash set by
	// Save, also stored as the run_id array of train.npz and test.npz); Load
	// rejects files of different runs.
	RunID string `json:"run_id,omitempty"`
}

// Dataset is a generated flux-inversion data set.
type Dataset struct {
	Meta  Meta
	Train Split
	Test  Split
}

// EstimateBytes returns the peak memory (bytes) of Generate and Save for
// nTrain + nTest samples, besides the model: six n × 30 float64 arrays
// (1,440 bytes a sample) and 10% for the rest. A float64, so that absurd sizes
// do not overflow.
func EstimateBytes(nTrain, nTest int) float64 {
	return 1.1 * 6 * N * 8 * (float64(nTrain) + float64(nTest))
}

// Generate draws NTrain+NTest prior fluxes, evaluates the model on each
// (in parallel over Workers), adds noise, draws masks and fits the scaling on
// the training split. Sample i (train first, then test) uses its own random
// streams, so the result does not depend on Workers. ctx cancels the solves.
func Generate(ctx context.Context, model SensorModel, opts Options) (*Dataset, error) {
	if model == nil {
		return nil, fmt.Errorf("flux data: nil sensor model")
	}
	if opts.NTrain < 2 {
		return nil, fmt.Errorf("flux data: n-train %d, want ≥ 2 (the scaling and noise scale are fitted on it)", opts.NTrain)
	}
	if opts.NTest < 1 {
		return nil, fmt.Errorf("flux data: n-test %d, want ≥ 1", opts.NTest)
	}
	if !(opts.NoiseLevel >= 0) || math.IsInf(opts.NoiseLevel, 0) {
		return nil, fmt.Errorf("flux data: noise level %v, want a finite value ≥ 0", opts.NoiseLevel)
	}
	if opts.MaskProb == 0 {
		opts.MaskProb = DefaultMaskProb
	}
	if !(opts.MaskProb > 0 && opts.MaskProb <= 1) {
		return nil, fmt.Errorf("flux data: mask probability %v, want in (0, 1]", opts.MaskProb)
	}
	if opts.FixedMask != nil {
		if err := CheckMask(opts.FixedMask); err != nil {
			return nil, fmt.Errorf("flux data: fixed mask: %w", err)
		}
		if !opts.Masks {
			return nil, fmt.Errorf("flux data: a fixed mask needs the masked layout (Masks)")
		}
	}
	off := DefaultOffValue
	if opts.OffValue != nil {
		off = *opts.OffValue
	}
	if math.IsNaN(off) || math.IsInf(off, 0) {
		return nil, fmt.Errorf("flux data: off-sensor value %v is not finite", off)
	}
	if opts.Workers < 0 {
		return nil, fmt.Errorf("flux data: %d workers, want ≥ 0", opts.Workers)
	}
	workers := max(opts.Workers, 1)
	if err := arrayio.CheckMemory(fmt.Sprintf("flux data of %d + %d samples", opts.NTrain, opts.NTest),
		EstimateBytes(opts.NTrain, opts.NTest), "use fewer samples"); err != nil {
		return nil, fmt.Errorf("flux data: %w", err)
	}
	prior, err := NewPrior(opts.Prior)
	if err != nil {
		return nil, err
	}
	total := opts.NTrain + opts.NTest
	q := make([]float64, total*N)
	clean := make([]float64, total*N)
	for i := 0; i < total; i++ {
		prior.Sample(sampleRand(opts.Seed, i, streamPrior), q[i*N:(i+1)*N])
	}
	if err := solveAll(ctx, model, q, clean, workers, opts.Progress); err != nil {
		return nil, err
	}

	// Noise scale: RMS over sensors of the per-sensor std of the clean training readings.
	scale := readingScale(clean[:opts.NTrain*N], opts.NTrain)
	noiseStd := opts.NoiseLevel * scale
	noisy := make([]float64, total*N)
	mask := make([]float64, total*N)
	for i := 0; i < total; i++ {
		nr := sampleRand(opts.Seed, i, streamNoise)
		mr := sampleRand(opts.Seed, i, streamMask)
		for j := 0; j < N; j++ {
			k := i*N + j
			noisy[k] = clean[k]
			if noiseStd > 0 {
				noisy[k] += noiseStd * nr.NormFloat64()
			}
			mask[k] = 1
			switch {
			case opts.FixedMask != nil:
				mask[k] = opts.FixedMask[j]
			case opts.Masks && mr.Float64() >= opts.MaskProb:
				mask[k] = 0
			}
		}
	}
	var sc Scaling
	if sc.Q, err = FitMinMax(q[:opts.NTrain*N], N); err != nil {
		return nil, err
	}
	if sc.Readings, err = FitMinMax(noisy[:opts.NTrain*N], N); err != nil {
		return nil, err
	}
	qs := make([]float64, total*N)
	rs := make([]float64, total*N)
	if err := sc.Q.Apply(q, qs); err != nil {
		return nil, err
	}
	if err := sc.Readings.Apply(noisy, rs); err != nil {
		return nil, err
	}
	for k, m := range mask {
		if m == 0 {
			rs[k] = off // theory eq. 100: off sensors read −1 after scaling (our choice).
		}
	}
	desc := model.Describe()
	problem, _ := desc["problem"].(string)
	ds := &Dataset{Meta: Meta{
		Problem: problem, Physics: desc, NTrain: opts.NTrain, NTest: opts.NTest, Seed: opts.Seed,
		NoiseLevel: opts.NoiseLevel, ReadingScale: scale, NoiseStd: noiseStd,
		Masks: opts.Masks, MaskProb: opts.MaskProb, FixedMask: slices.Clone(opts.FixedMask), OffValue: off,
		Prior: prior.Options(), PriorJitter: prior.Jitter(), Scaling: sc,
		Arrays: ArrayNames(),
		Layout: "row-major (n, 30); flux: bottom segments 1-15 left to right, then top 1-15; sensors: bottom row left to right, then top row",
	}}
	cut := opts.NTrain * N
	ds.Train = Split{N: opts.NTrain, Q: q[:cut], ReadingsClean: clean[:cut], ReadingsNoisy: noisy[:cut],
		Readings: rs[:cut], QScaled: qs[:cut], Mask: mask[:cut]}
	ds.Test = Split{N: opts.NTest, Q: q[cut:], ReadingsClean: clean[cut:], ReadingsNoisy: noisy[cut:],
		Readings: rs[cut:], QScaled: qs[cut:], Mask: mask[cut:]}
	return ds, nil
}

// CheckMask checks a sensor mask: N values, each 1 (on) or 0 (off), at
// least one on.
func CheckMask(mask []float64) error {
	if len(mask) != N {
		return fmt.Errorf("mask has %d values, want %d (one per sensor)", len(mask), N)
	}
	on := 0
	for i, v := range mask {
		switch v {
		case 1:
			on++
		case 0:
		default:
			return fmt.Errorf("mask[%d] = %v, want 0 (off) or 1 (on)", i, v)
		}
	}
	if on == 0 {
		return fmt.Errorf("every sensor of the mask is off")
	}
	return nil
}

// readingScale is sqrt(mean_j Var_j) over the n rows of r (population variance).
func readingScale(r []float64, n int) float64 {
	var acc float64
	for j := 0; j < N; j++ {
		var m, s2 float64
		for i := 0; i < n; i++ {
			m += r[i*N+j]
		}
		m /= float64(n)
		for i := 0; i < n; i++ {
			d := r[i*N+j] - m
			s2 += d * d
		}
		acc += s2 / float64(n)
	}
	return math.Sqrt(acc / N)
}

// solveAll fills clean[i] = model(q[i]) for every row, using workers goroutines.
func solveAll(ctx context.Context, model SensorModel, q, clean []float64, workers int, progress io.Writer) error {
	total := len(q) / N
	var bar *progressbar.ProgressBar
	if progress != nil {
		bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(progress),
			progressbar.OptionSetDescription("forward solves"), progressbar.OptionShowCount(),
			progressbar.OptionShowIts(), progressbar.OptionThrottle(200_000_000),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(progress) }))
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				out := clean[i*N : (i+1)*N]
				if err := model.Readings(q[i*N:(i+1)*N], out); err != nil {
					errs[w] = fmt.Errorf("flux data: forward solve of sample %d: %w", i, err)
					cancel()
					return
				}
				for j, v := range out {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						errs[w] = fmt.Errorf("flux data: sample %d: sensor %d reading is %v", i, j, v)
						cancel()
						return
					}
				}
				if bar != nil {
					bar.Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && err != context.Canceled {
			return err
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
