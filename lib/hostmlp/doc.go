// Package hostmlp evaluates and differentiates a ReLU multilayer perceptron
// in float32 on the host CPU: the paper's score network (theory §4.1) without
// a compute graph. MLP.Forward serves the samplers' workload (thousands of
// rows, thousands of calls); Trainer.Gradient gives the gradient of any loss
// of the outputs for training (lib/train adds the loss of theory eq. 61 and
// Adam).
//
// Activations are feature-major ([features, columns]) and the batch is cut
// into chunks of ChunkCols columns; each worker goroutine carries one chunk
// through every layer (and back, for the gradient), so a chunk's activations
// stay in the core's cache and the workers never wait for each other between
// layers. Gradients are accumulated per fixed slice of the batch and summed in
// slice order, so they do not depend on the number of workers. Each layer is one
// register-blocked matrix product (4 output rows × 32 columns per kernel call,
// AVX-512 where the CPU has it and the binary is built with
// GOEXPERIMENT=simd, plain Go otherwise) with the bias as the accumulators'
// starting value and the ReLU (or, backwards, its mask) applied before the
// single store.
//
// Results equal a float32 reference up to the order of summation (relative
// differences of order 1e-6); the package tests compare the outputs and the
// gradients with float64 evaluations.
package hostmlp
