package quant

import "testing"

// FuzzDequantize decodes arbitrary bytes as every format, with every
// kernel level, and compares with the independent decoder.
func FuzzDequantize(f *testing.F) {
	f.Add([]byte{0x00, 0x3c, 1, 2, 3})
	f.Add(make([]byte, 300))
	seed := make([]byte, 600)
	for i := range seed {
		seed[i] = byte(i * 37)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, fm := range formats {
			n := len(b) / fm.BlockBytes * fm.BlockBytes
			if n == 0 {
				continue
			}
			src := b[:n]
			for _, l := range kernelLevels() {
				restore := setLevel(l)
				checkDequantize(t, fm, src, "fuzz/"+l)
				restore()
			}
		}
	})
}
