package quant

import (
	"math/rand/v2"
	"strconv"
)

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
func itoa(v int) string            { return strconv.Itoa(v) }

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }
