package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/tokenizer/bpetrain"
)

// TestTokenizerReproduces retrains lmc-mini's tokenizer from the shared books
// and checks that it is byte-identical to the committed tokenizer.json, and
// that the committed fixtures' prompt ids are what it encodes.
func TestTokenizerReproduces(t *testing.T) {
	shared.Path(t, "text/gutenberg/pg11.txt") // skips without the shared data
	train, val := loadSources(shared.Root())
	if len(train) != 11 || val.Path != heldOut {
		t.Fatalf("%d training sources, held out %s", len(train), val.Path)
	}
	for _, s := range train {
		if s.Path == heldOut {
			t.Fatal("held-out book in the training set")
		}
	}
	tok, _, err := trainTokenizer(train)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tok.MarshalHF(bpetrain.HFOptions{BOS: special})
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "..", "models", "lmcmini", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("retrained tokenizer differs from models/lmcmini/tokenizer.json")
	}
	if tok.VocabSize() != vocabSize {
		t.Errorf("vocab %d", tok.VocabSize())
	}
}
