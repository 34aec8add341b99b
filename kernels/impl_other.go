//go:build !amd64 || noasm || purego

package kernels

func impls() []*impl { return []*impl{goImpl} }

func bestImpl() *impl { return goImpl }
