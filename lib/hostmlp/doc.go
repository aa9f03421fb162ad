// Package hostmlp evaluates a ReLU multilayer perceptron in float32 on the
// host CPU: the forward pass of the paper's score network (theory §4.1)
// without a compute graph, for the samplers' workload (thousands of rows,
// thousands of calls).
//
// Activations are feature-major ([features, columns]) and the batch is cut
// into chunks of ChunkCols columns; each worker goroutine carries one chunk
// through every layer, so a chunk's activations stay in the core's L2 cache
// and the workers never wait for each other between layers. Each layer is one
// register-blocked matrix product (4 output rows × 32 columns per kernel call,
// AVX-512 where the CPU has it and the binary is built with
// GOEXPERIMENT=simd, plain Go otherwise) with the bias as the accumulators'
// starting value and the ReLU applied before the single store.
//
// Results equal a float32 reference up to the order of summation (relative
// differences of order 1e-6); the package tests compare every path with a
// float64 evaluation.
package hostmlp
