//go:build !unix

package modelfile

func dropPages(b []byte) {}
