//go:build !unix

package safetensors

import (
	"errors"
	"os"
)

// mmapFile is not implemented on this platform: Open uses ReadAt.
func mmapFile(*os.File, int64) ([]byte, error) {
	return nil, errors.New("safetensors: mmap not supported on this platform")
}

func munmap([]byte) error { return nil }
