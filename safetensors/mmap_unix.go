//go:build unix

package safetensors

import (
	"errors"
	"math"
	"os"

	"golang.org/x/sys/unix"
)

// mmapFile maps the whole file read-only (MAP_SHARED, PROT_READ).
func mmapFile(f *os.File, size int64) ([]byte, error) {
	if size <= 0 || size > math.MaxInt {
		return nil, errors.New("safetensors: cannot map this file size")
	}
	return unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
}

func munmap(b []byte) error { return unix.Munmap(b) }
