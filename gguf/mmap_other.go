//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package gguf

import (
	"errors"
	"os"
)

// mmapFile is not implemented on this OS; Open reads through ReadAt.
func mmapFile(fh *os.File, size int64) ([]byte, func() error, error) {
	return nil, nil, errors.New("gguf: mmap not supported on this OS")
}
