package quant

import "sync"

var (
	ggmlOrderMu sync.Mutex
	ggmlOrder   bool
)

// SetGGMLOrder makes the dot products of Q4_1, Q5_1 and Q5_K repeat
// ggml-cpu's float arithmetic bit for bit (its eight lanes and fused
// multiply-adds, dot_ggml.go) instead of lmc's own kernels, and returns a
// function that restores the previous setting. Both compute the same exact
// integer block sums and differ only in float rounding, but a small model
// can turn one flipped activation rounding into a visibly different
// probability (llama.cpp's own batch and one-token paths differ by up to
// 6e-3 on books5M's Q4_K_M file), so tests that compare lmc with
// llama.cpp to 1e-6 use this mode. It is off by default: the exact Go
// kernels are tens of times slower than the assembly ones. Types not named
// here either already follow ggml's order or have no exact kernel yet.
// Not safe to call while a forward pass runs.
func SetGGMLOrder(on bool) (restore func()) {
	ggmlOrderMu.Lock()
	old := ggmlOrder
	ggmlOrder = on
	resetKernels()
	ggmlOrderMu.Unlock()
	return func() { SetGGMLOrder(old) }
}

// applyGGMLOrder installs the ggml-order kernels when the mode is on.
func applyGGMLOrder() {
	if !ggmlOrder {
		return
	}
	Q4_1.dot = dotQ4_1Q8_1GGML
	Q5_1.dot = dotQ5_1Q8_1GGML
	Q5_K.dot = dotQ5KQ8KGGML
}
