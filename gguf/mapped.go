package gguf

// Mapped reports whether the file's tensor data is memory-mapped, so that
// slices from [File.Data] alias the file's pages (and a caller streaming
// through a large model may advise the kernel to drop them once used).
func (f *File) Mapped() bool { return f.data != nil && f.unmap != nil }
