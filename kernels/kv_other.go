//go:build !amd64 || noasm || purego

package kernels

func kvImpls() []*kvImpl { return []*kvImpl{kvGoImpl} }

func bestKVImpl() *kvImpl { return kvGoImpl }
