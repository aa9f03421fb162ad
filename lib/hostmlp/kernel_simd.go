//go:build goexperiment.simd && amd64

package hostmlp

import (
	"simd/archsimd"
	"unsafe"
)

// SIMD reports whether Forward uses the AVX-512 kernel (built with
// GOEXPERIMENT=simd on amd64 and running on a CPU with AVX-512).
func SIMD() bool { return hasAVX512 }

var hasAVX512 = archsimd.X86.AVX512()

func kernel(k int, a, b []float32, ldb int, bias, out []float32, ldo int, relu bool) {
	if !hasAVX512 {
		kernelGeneric(k, a, b, ldb, bias, out, ldo, relu)
		return
	}
	// Bounds: a holds k·4 values, b k rows of ldb (≥ 32 used), out 4 rows of ldo.
	_ = a[k*kernelRows-1]
	_ = b[(k-1)*ldb+kernelCols-1]
	_ = out[3*ldo+kernelCols-1]
	_ = bias[kernelRows-1]
	kernelAVX512(k, unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), uintptr(ldb)*4, &bias[0], unsafe.Pointer(&out[0]), uintptr(ldo)*4, relu)
}

// kernelAVX512 is the 4 × 32 register block: eight accumulators (the most
// the Go compiler keeps in registers without spilling), two loads of b and
// four broadcasts of a per step of k.
func kernelAVX512(k int, pa, pb unsafe.Pointer, ldb uintptr, bias *float32, po unsafe.Pointer, ldo uintptr, relu bool) {
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
