package llama2c

import (
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
)

// BenchmarkOpen opens, validates and maps books5M.bin (20 MB).
func BenchmarkOpen(b *testing.B) {
	path := shared.Path(b, "models/books5M/books5M.bin")
	for b.Loop() {
		c, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// BenchmarkData fetches every tensor of a mapped books5M.bin (zero-copy).
func BenchmarkData(b *testing.B) {
	c, err := Open(shared.Path(b, "models/books5M/books5M.bin"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	tensors := c.Tensors()
	for b.Loop() {
		for _, t := range tensors {
			if _, err := c.Data(t.Name); err != nil {
				b.Fatal(err)
			}
		}
	}
}
