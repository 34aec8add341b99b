// Package plan answers "will it fit, how fast, what does it cost" for a
// language model: the memory of its weights in any format lmc can write, of
// its KV cache and of its activations, and for a list of devices whether it
// fits, the longest context and the most concurrent sequences that fit, the
// decode speed ceiling and the cost per million output tokens.
//
// # Inputs
//
// [Load] takes a GGUF file (its real tensors, types and metadata), a Hugging
// Face folder (its real tensors when lmc reads the architecture, otherwise
// tensors derived from config.json), a config.json alone, or the name of a
// preset: well-known open models kept as data in data/presets.json
// ([Presets]; an unknown name is an [UnknownPresetError] naming the nearest
// presets by edit distance). [Estimate] prices a [Model] under [Options].
//
// # Weights
//
// [PriceWeights] prices a [WeightFormat]: the tensors as stored, a llama.cpp
// file type (q4_k_m...) with every tensor's type chosen as llama-quantize
// chooses it ([TensorType], recipe.go: llama.cpp's llama_tensor_get_type and
// its row-size fallbacks, February 2025), one ggml type everywhere, or bits
// per weight. A tensor whose rows fit neither the wanted type nor a fallback
// is a [RowError] (llama.cpp refuses such a file), never silently priced.
//
// # KV cache
//
// Per token and layer the cache holds kv_heads × head_dim values for K and
// again for V (MLA models: the kv_lora_rank + rope latent, once), in f16,
// bf16, f32, fp8, a llama.cpp block type (bytes per block of 32), or a
// KIVI-style int8/int4/int2 type: bits/8 + 4/group bytes per value (f16
// scale and zero point per group of 32) with the last 128 tokens in f16.
// Sliding-window layers hold at most their window. Tensor parallelism splits
// KV heads (at least one per device) and replicates an MLA latent.
//
// # Devices
//
// data/hardware.json lists GPUs, Apple silicon, CPU servers and laptops
// with memory, bandwidth, usable share, runtime constant and an approximate
// price; [LoadHardware] merges a user's file. The decode ceiling is
// bandwidth ÷ bytes read per step: the weights once for the whole batch
// (routed experts: those the batch touches; the untied embedding matrix:
// one row per token) plus each sequence's KV. docs/PLAN.md gives every
// formula, default and source, and compares the planner with
// gpustack/gguf-parser-go.
//
// # Limits
//
// Architecture numbers are bounded ([MaxLayers], [MaxHidden], [MaxFFN],
// [MaxHeads], [MaxHeadDim], [MaxVocab], [MaxExperts], [MaxContext]) so that
// a hostile config.json cannot make the planner allocate a huge tensor list
// or overflow a parameter count; config.json and hardware files larger than
// 16 MiB are refused, and unknown fields in a hardware file are errors.
// GGUF files are read by package gguf with its own limits.
package plan
