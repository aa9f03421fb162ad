//go:build goexperiment.simd && amd64

package hostmlp

import (
	"math"
	"simd/archsimd"
	"unsafe"
)

// SIMD reports whether Forward uses the AVX-512 kernel (built with
// GOEXPERIMENT=simd on amd64 and running on a CPU with AVX-512).
func SIMD() bool { return hasAVX512 }

var hasAVX512 = archsimd.X86.AVX512()

func kernel(k int, a, b []float32, ldb int, out []float32, ldo int, op kop) {
	if !hasAVX512 || k == 0 {
		kernelGeneric(k, a, b, ldb, out, ldo, op)
		return
	}
	// Bounds, checked once: a holds k·4 values, b k rows of ldb (32 used),
	// out (and mask) 4 rows of ldo (32 used).
	_ = a[k*kernelRows-1]
	_ = b[(k-1)*ldb+kernelCols-1]
	_ = out[3*ldo+kernelCols-1]
	var mask unsafe.Pointer
	if op.mask != nil {
		_ = op.mask[3*ldo+kernelCols-1]
		mask = unsafe.Pointer(&op.mask[0])
	}
	var bias *float32
	if op.init == initBias {
		_ = op.bias[kernelRows-1]
		bias = &op.bias[0]
	}
	pa, pb, po := unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), unsafe.Pointer(&out[0])
	switch {
	case op.init == initBias:
		kernelBias(k, pa, pb, uintptr(ldb)*4, bias, po, uintptr(ldo)*4, op.relu)
	case op.init == initLoad && mask == nil && !op.relu:
		kernelAccum(k, pa, pb, uintptr(ldb)*4, po, uintptr(ldo)*4)
	case op.init == initZero && mask != nil && !op.relu:
		kernelMask(k, pa, pb, uintptr(ldb)*4, po, uintptr(ldo)*4, mask)
	default:
		kernelGeneric(k, a, b, ldb, out, ldo, op)
	}
}

func load(p unsafe.Pointer) archsimd.Float32x16 { return archsimd.LoadFloat32x16((*[16]float32)(p)) }

// The three AVX-512 kernels share one 4 × 32 register block: eight
// accumulators (the most the Go compiler keeps in registers without spilling
// inside the loop), two loads of b and four broadcasts of a per step of k.
// They are separate functions so that each keeps only its own few values
// live across the loop.

// kernelBias: out = act(bias + a·b), act = ReLU when relu.
func kernelBias(k int, pa, pb unsafe.Pointer, ldb uintptr, bias *float32, po unsafe.Pointer, ldo uintptr, relu bool) {
	bs := (*[kernelRows]float32)(unsafe.Pointer(bias))
	c00 := archsimd.BroadcastFloat32x16(bs[0])
	c01 := c00
	c10 := archsimd.BroadcastFloat32x16(bs[1])
	c11 := c10
	c20 := archsimd.BroadcastFloat32x16(bs[2])
	c21 := c20
	c30 := archsimd.BroadcastFloat32x16(bs[3])
	c31 := c30
	for range k {
		b0 := archsimd.LoadFloat32x16((*[16]float32)(pb))
		b1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(pb, 64)))
		ap := (*[kernelRows]float32)(pa)
		a0 := archsimd.BroadcastFloat32x16(ap[0])
		c00 = b0.MulAdd(a0, c00)
		c01 = b1.MulAdd(a0, c01)
		a1 := archsimd.BroadcastFloat32x16(ap[1])
		c10 = b0.MulAdd(a1, c10)
		c11 = b1.MulAdd(a1, c11)
		a2 := archsimd.BroadcastFloat32x16(ap[2])
		c20 = b0.MulAdd(a2, c20)
		c21 = b1.MulAdd(a2, c21)
		a3 := archsimd.BroadcastFloat32x16(ap[3])
		c30 = b0.MulAdd(a3, c30)
		c31 = b1.MulAdd(a3, c31)
		pa = unsafe.Add(pa, 4*kernelRows)
		pb = unsafe.Add(pb, ldb)
	}
	if relu {
		var zero archsimd.Float32x16
		c00, c01, c10, c11 = c00.Max(zero), c01.Max(zero), c10.Max(zero), c11.Max(zero)
		c20, c21, c30, c31 = c20.Max(zero), c21.Max(zero), c30.Max(zero), c31.Max(zero)
	}
	c00.Store((*[16]float32)(po))
	c01.Store((*[16]float32)(unsafe.Add(po, 64)))
	po = unsafe.Add(po, ldo)
	c10.Store((*[16]float32)(po))
	c11.Store((*[16]float32)(unsafe.Add(po, 64)))
	po = unsafe.Add(po, ldo)
	c20.Store((*[16]float32)(po))
	c21.Store((*[16]float32)(unsafe.Add(po, 64)))
	po = unsafe.Add(po, ldo)
	c30.Store((*[16]float32)(po))
	c31.Store((*[16]float32)(unsafe.Add(po, 64)))
}

// kernelAccum: out += a·b.
func kernelAccum(k int, pa, pb unsafe.Pointer, ldb uintptr, po unsafe.Pointer, ldo uintptr) {
	c00, c01 := load(po), load(unsafe.Add(po, 64))
	c10, c11 := load(unsafe.Add(po, ldo)), load(unsafe.Add(po, ldo+64))
	c20, c21 := load(unsafe.Add(po, 2*ldo)), load(unsafe.Add(po, 2*ldo+64))
	c30, c31 := load(unsafe.Add(po, 3*ldo)), load(unsafe.Add(po, 3*ldo+64))
	for range k {
		b0 := archsimd.LoadFloat32x16((*[16]float32)(pb))
		b1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(pb, 64)))
		ap := (*[kernelRows]float32)(pa)
		a0 := archsimd.BroadcastFloat32x16(ap[0])
		c00 = b0.MulAdd(a0, c00)
		c01 = b1.MulAdd(a0, c01)
		a1 := archsimd.BroadcastFloat32x16(ap[1])
		c10 = b0.MulAdd(a1, c10)
		c11 = b1.MulAdd(a1, c11)
		a2 := archsimd.BroadcastFloat32x16(ap[2])
		c20 = b0.MulAdd(a2, c20)
		c21 = b1.MulAdd(a2, c21)
		a3 := archsimd.BroadcastFloat32x16(ap[3])
		c30 = b0.MulAdd(a3, c30)
		c31 = b1.MulAdd(a3, c31)
		pa = unsafe.Add(pa, 4*kernelRows)
		pb = unsafe.Add(pb, ldb)
	}
	c00.Store((*[16]float32)(po))
	c01.Store((*[16]float32)(unsafe.Add(po, 64)))
	po = unsafe.Add(po, ldo)
	c10.Store((*[16]float32)(po))
	c11.Store((*[16]float32)(unsafe.Add(po, 64)))
	po = unsafe.Add(po, ldo)
	c20.Store((*[16]float32)(po))
	c21.Store((*[16]float32)(unsafe.Add(po, 64)))
	po = unsafe.Add(po, ldo)
	c30.Store((*[16]float32)(po))
	c31.Store((*[16]float32)(unsafe.Add(po, 64)))
}

// kernelMask: out = (a·b) ⊙ [h > 0] with h at mask (laid out like out), the
// indicator as min(h·MaxFloat32, 1) for h = relu(z) ≥ 0 (branch-free; exact
// except for denormal h), the same mask as scorenet's graph backward.
func kernelMask(k int, pa, pb unsafe.Pointer, ldb uintptr, po unsafe.Pointer, ldo uintptr, mask unsafe.Pointer) {
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x16
	for range k {
		b0 := archsimd.LoadFloat32x16((*[16]float32)(pb))
		b1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(pb, 64)))
		ap := (*[kernelRows]float32)(pa)
		a0 := archsimd.BroadcastFloat32x16(ap[0])
		c00 = b0.MulAdd(a0, c00)
		c01 = b1.MulAdd(a0, c01)
		a1 := archsimd.BroadcastFloat32x16(ap[1])
		c10 = b0.MulAdd(a1, c10)
		c11 = b1.MulAdd(a1, c11)
		a2 := archsimd.BroadcastFloat32x16(ap[2])
		c20 = b0.MulAdd(a2, c20)
		c21 = b1.MulAdd(a2, c21)
		a3 := archsimd.BroadcastFloat32x16(ap[3])
		c30 = b0.MulAdd(a3, c30)
		c31 = b1.MulAdd(a3, c31)
		pa = unsafe.Add(pa, 4*kernelRows)
		pb = unsafe.Add(pb, ldb)
	}
	big := archsimd.BroadcastFloat32x16(math.MaxFloat32)
	one := archsimd.BroadcastFloat32x16(1)
	c00 = c00.Mul(load(mask).Mul(big).Min(one))
	c01 = c01.Mul(load(unsafe.Add(mask, 64)).Mul(big).Min(one))
	c10 = c10.Mul(load(unsafe.Add(mask, ldo)).Mul(big).Min(one))
	c11 = c11.Mul(load(unsafe.Add(mask, ldo+64)).Mul(big).Min(one))
	c20 = c20.Mul(load(unsafe.Add(mask, 2*ldo)).Mul(big).Min(one))
	c21 = c21.Mul(load(unsafe.Add(mask, 2*ldo+64)).Mul(big).Min(one))
	c30 = c30.Mul(load(unsafe.Add(mask, 3*ldo)).Mul(big).Min(one))
	c31 = c31.Mul(load(unsafe.Add(mask, 3*ldo+64)).Mul(big).Min(one))
	c00.Store((*[16]float32)(po))
	c01.Store((*[16]float32)(unsafe.Add(po, 64)))
	po = unsafe.Add(po, ldo)
	c10.Store((*[16]float32)(po))
	c11.Store((*[16]float32)(unsafe.Add(po, 64)))
	po = unsafe.Add(po, ldo)
	c20.Store((*[16]float32)(po))
	c21.Store((*[16]float32)(unsafe.Add(po, 64)))
	po = unsafe.Add(po, ldo)
	c30.Store((*[16]float32)(po))
	c31.Store((*[16]float32)(unsafe.Add(po, 64)))
}
