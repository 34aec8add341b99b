//go:build !unix

package llama2c

import (
	"errors"
	"os"
)

// mmapFile is not available here: Open falls back to ReadAt.
func mmapFile(f *os.File, size int64) ([]byte, func() error, error) {
	return nil, nil, errors.ErrUnsupported
}
