//go:build !linux

package quant

import "time"

// threadCPU is unavailable here: benchmarks report wall-clock time only.
func threadCPU() time.Duration { return 0 }
