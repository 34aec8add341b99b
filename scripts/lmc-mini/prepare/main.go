// Command prepare trains lmc-mini's byte-level BPE tokenizer on the training
// books and encodes the training and held-out text for train.py.
//
// Usage (from the repository root):
//
//	go run ./scripts/lmc-mini/prepare [-shared ../shared] [-out models/lmcmini] [-work scripts/lmc-mini/work]
//
// It writes tokenizer.json, tokenizer_config.json and special_tokens_map.json
// to -out, and train.bin, val.bin (uint16 little-endian token ids, every
// document starting with <|endoftext|> as BOS) and data.json (statistics) to
// -work, with prompts.json (ids of the fixture prompts). All text is normalised CRLF -> LF. gutenberg/pg98.txt is held out.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/tokenizer/bpetrain"
	"github.com/lmc-project/lmc/tokenizer/pretok"
)

const (
	vocabSize = 2048
	special   = "<|endoftext|>"
	heldOut   = "gutenberg/pg98.txt"
)

// prompts are the fixture prompts; their ids go to prompts.json for train.py's
// export step, which has no tokenizer of its own.
var prompts = []string{"Once upon a time", "It was the best of times,", "ROMEO:\nBut soft, what light"}

type source struct {
	Path   string `json:"path"`
	Docs   int    `json:"documents"`
	Chars  int    `json:"chars"`
	Bytes  int    `json:"bytes"`
	Tokens int    `json:"tokens"` // BOS included
	docs   []string
}

func readLF(root, rel string) string {
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		log.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

func main() {
	sharedDir := flag.String("shared", "", "shared data folder (default: ../shared beside the module, or $LMC_SHARED)")
	outDir := flag.String("out", "models/lmcmini", "where tokenizer files go")
	workDir := flag.String("work", "scripts/lmc-mini/work", "where the encoded corpus goes (not committed)")
	flag.Parse()
	root := *sharedDir
	if root == "" {
		root = shared.Root()
	}
	if root == "" {
		log.Fatal("shared data folder not found; pass -shared")
	}

	train, val := loadSources(root)
	t0 := time.Now()
	tok, tr, err := trainTokenizer(train)
	if err != nil {
		log.Fatal(err)
	}
	trainSecs := time.Since(t0).Seconds()
	log.Printf("tokenizer: %d distinct pieces, %d merges, %.1fs", tr.Words(), len(tok.Merges()), trainSecs)
	bos, _ := tok.ID(special)

	encode := func(s *source) []uint16 {
		var ids []uint16
		for _, d := range s.docs {
			s.Docs++
			s.Chars += len([]rune(d))
			s.Bytes += len(d)
			enc := tok.Encode(d)
			if got := tok.DecodeString(enc); got != d {
				log.Fatalf("%s: decode(encode) differs", s.Path)
			}
			ids = append(ids, uint16(bos))
			for _, id := range enc {
				ids = append(ids, uint16(id))
			}
		}
		s.Tokens = len(ids)
		return ids
	}
	var trainIDs []uint16
	for _, s := range train {
		trainIDs = append(trainIDs, encode(s)...)
	}
	valIDs := encode(val)

	if err := os.MkdirAll(*workDir, 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		log.Fatal(err)
	}
	writeBin(filepath.Join(*workDir, "train.bin"), trainIDs)
	writeBin(filepath.Join(*workDir, "val.bin"), valIDs)

	hf, err := tok.MarshalHF(bpetrain.HFOptions{BOS: special})
	if err != nil {
		log.Fatal(err)
	}
	writeFile(filepath.Join(*outDir, "tokenizer.json"), hf)
	addedTok := map[string]any{"content": special, "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true}
	writeJSON(filepath.Join(*outDir, "tokenizer_config.json"), map[string]any{
		"add_bos_token":                true,
		"add_eos_token":                false,
		"added_tokens_decoder":         map[string]any{fmt.Sprint(bos): addedTok},
		"bos_token":                    special,
		"eos_token":                    special,
		"unk_token":                    nil,
		"clean_up_tokenization_spaces": false,
		"model_max_length":             512,
		"tokenizer_class":              "PreTrainedTokenizerFast",
	})
	writeJSON(filepath.Join(*outDir, "special_tokens_map.json"), map[string]any{
		"bos_token": addedTok,
		"eos_token": addedTok,
	})

	type promptIDs struct {
		Text string `json:"text"`
		IDs  []int  `json:"ids"`
	}
	var ps []promptIDs
	for _, p := range prompts {
		ps = append(ps, promptIDs{Text: p, IDs: append([]int{bos}, tok.Encode(p)...)})
	}
	writeJSON(filepath.Join(*workDir, "prompts.json"), ps)

	var total source
	total.Path = "total"
	for _, s := range train {
		total.Docs += s.Docs
		total.Chars += s.Chars
		total.Bytes += s.Bytes
		total.Tokens += s.Tokens
	}
	writeJSON(filepath.Join(*workDir, "data.json"), map[string]any{
		"vocab_size":          tok.VocabSize(),
		"merges":              len(tok.Merges()),
		"bos_id":              bos,
		"eos_id":              bos,
		"distinct_pieces":     tr.Words(),
		"tokenizer_train_sec": trainSecs,
		"train":               append(train, &total),
		"heldout":             val,
	})
	log.Printf("train: %d tokens (%d bytes, %.2f bytes/token); held-out %s: %d tokens", total.Tokens, total.Bytes,
		float64(total.Bytes)/float64(total.Tokens-total.Docs), val.Path, val.Tokens)
}

// loadSources reads the training documents and the held-out text, CRLF
// normalised to LF. Each book is one document, Tiny Shakespeare's training
// 90 % is one, and each TinyStories line is one.
func loadSources(root string) (train []*source, val *source) {
	text := filepath.Join(root, "text")
	books, err := filepath.Glob(filepath.Join(text, "gutenberg", "*.txt"))
	if err != nil {
		log.Fatal(err)
	}
	sort.Strings(books)
	for _, b := range books {
		rel := "gutenberg/" + filepath.Base(b)
		if rel == heldOut {
			continue
		}
		train = append(train, &source{Path: rel, docs: []string{readLF(text, rel)}})
	}
	train = append(train, &source{Path: "tinyshakespeare/train90.txt", docs: []string{readLF(text, "tinyshakespeare/train90.txt")}})
	var storyDocs []string
	for _, s := range strings.Split(readLF(text, "tinystories/TinyStories-valid.head30k.txt"), "\n") {
		if strings.TrimSpace(s) != "" {
			storyDocs = append(storyDocs, s)
		}
	}
	train = append(train, &source{Path: "tinystories/TinyStories-valid.head30k.txt", docs: storyDocs})
	return train, &source{Path: heldOut, docs: []string{readLF(text, heldOut)}}
}

// trainTokenizer trains the 2048-token vocabulary on the training documents.
func trainTokenizer(train []*source) (*bpetrain.Tokenizer, *bpetrain.Trainer, error) {
	tr := bpetrain.NewTrainer(pretok.GPT2)
	for _, s := range train {
		for _, d := range s.docs {
			tr.Add(d)
		}
	}
	tok, err := tr.Train(vocabSize, []string{special})
	return tok, tr, err
}

func writeBin(path string, ids []uint16) {
	b := make([]byte, 2*len(ids))
	for i, id := range ids {
		binary.LittleEndian.PutUint16(b[2*i:], id)
	}
	writeFile(path, b)
}

func writeJSON(path string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	writeFile(path, append(b, '\n'))
}

func writeFile(path string, b []byte) {
	if err := os.WriteFile(path, b, 0o644); err != nil {
		log.Fatal(err)
	}
}
