//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package gguf

import (
	"errors"
	"math"
	"os"

	"golang.org/x/sys/unix"
)

// mmapFile maps size bytes of fh read-only and returns the mapping and a
// function that unmaps it.
func mmapFile(fh *os.File, size int64) ([]byte, func() error, error) {
	if size <= 0 || size > math.MaxInt {
		return nil, nil, errors.New("gguf: cannot map a file of this size")
	}
	b, err := unix.Mmap(int(fh.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return b, func() error { return unix.Munmap(b) }, nil
}
