// Package modelfile opens a model from any file lmc reads — a GGUF file, a
// Hugging Face folder (config.json + safetensors, one file or sharded), a
// bare safetensors file with its config.json beside it, a llama2.c checkpoint
// with its tok*.bin, or the built-in default model — into one canonical form,
// and writes that form back out as GGUF or as a Hugging Face folder.
//
// The canonical form names tensors as GGUF does ("blk.3.attn_q.weight"),
// keeps shapes in PyTorch order ([out, in], last dimension fastest) and lays
// Q/K rows out as the GGUF architecture expects (interleaved RoPE pairs for
// "llama", HF's rotate-half order for "qwen2"/"qwen3"). Tensor data is read
// lazily, one tensor at a time, from memory-mapped inputs, so converting a
// model needs memory for about one tensor, not the model.
package modelfile
