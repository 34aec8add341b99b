//go:build unix

package modelfile

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

var pageSize = os.Getpagesize()

// dropPages advises the kernel that the whole pages inside b, a slice of a
// read-only file mapping, will not be needed again, so that streaming
// through a model larger than RAM keeps the resident set near one tensor.
// Callers must pass only memory-mapped file data: on anonymous memory
// MADV_DONTNEED would discard the contents.
func dropPages(b []byte) {
	if len(b) == 0 {
		return
	}
	misalign := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) % uintptr(pageSize))
	skip := (pageSize - misalign) % pageSize
	if skip >= len(b) {
		return
	}
	n := (len(b) - skip) / pageSize * pageSize
	if n == 0 {
		return
	}
	_ = unix.Madvise(b[skip:skip+n], unix.MADV_DONTNEED)
}
