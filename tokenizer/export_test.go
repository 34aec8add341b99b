package tokenizer

// Test hooks.

// SetLinearBPEMax sets the longest word merged by linear scans (longer
// words use the heap) and returns the previous value.
func SetLinearBPEMax(n int) int {
	old := linearBPEMax
	linearBPEMax = n
	return old
}

// SetSPMCut turns cutting SentencePiece text at "▁" on or off and reports
// whether the vocabulary allows it.
func SetSPMCut(t *Tokenizer, on bool) (allowed bool) {
	allowed = t.spm.cut
	t.spm.cut = on
	return allowed
}

// ClearCache empties the word cache.
func ClearCache(t *Tokenizer) {
	t.cache.mu.Lock()
	t.cache.m = nil
	t.cache.mu.Unlock()
}
