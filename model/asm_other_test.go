//go:build !amd64 || noasm || purego

package model_test

// asmKernels: quant's assembly kernels are in this build.
const asmKernels = false
