// Package lmcmini embeds lmc-mini, lmc's built-in default model: a 5.8M-parameter
// Llama-architecture language model that this project trained itself, from
// scratch, on public-domain books, with a 2048-token byte-level BPE vocabulary
// trained by lmc's own tokenizer/bpetrain (GPT-2's pre-tokenizer split, so
// its GGUF says tokenizer.ggml.pre = "gpt-2").
//
// [FS] holds a Hugging Face model directory: config.json (LlamaForCausalLM),
// generation_config.json, model.safetensors (BF16, HF tensor names, q/k in
// rotate-half layout), tokenizer.json, tokenizer_config.json and
// special_tokens_map.json. README.md beside this file gives the architecture,
// the training data and recipe, the held-out perplexity, the licences and the
// commands that reproduce it (scripts/lmc-mini/).
package lmcmini

import (
	"embed"

	"github.com/lmc-project/lmc/modelfile"
)

// Name is the model's name.
const Name = "lmc-mini"

// FS is the model directory, with the files at its root.
//
//go:embed config.json generation_config.json tokenizer.json tokenizer_config.json special_tokens_map.json model.safetensors
var FS embed.FS

// Importing this package makes "lmc-mini" openable by name wherever lmc
// takes a model path (modelfile.Open).
func init() { modelfile.RegisterBuiltin(Name, FS) }
