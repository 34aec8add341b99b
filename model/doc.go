// Package model runs Llama-family language models on the CPU: it builds the
// network from a [modelfile.Model] ([Load]) and evaluates token sequences
// in [Session]s, with batched prefill and incremental decoding over a
// [KVCache].
//
// # Architectures
//
// GGUF architectures llama (Llama 1/2/3, Mistral, SmolLM, TinyLlama), qwen2
// (biases on q, k and v) and qwen3 (RMSNorm of each query and key head):
// pre-norm RMSNorm blocks, grouped-query attention (any head_count that is
// a multiple of head_count_kv, MQA included), SwiGLU feed-forward, and a
// separate or tied output projection (tied: no output.weight, the token
// embedding is reused).
//
// RoPE follows the tensors' GGUF layout, which modelfile produces from
// every source: for llama, the converter permuted the rows of attn_q and
// attn_k so that rotary pairs are adjacent (x[2i], x[2i+1]); qwen2 and
// qwen3 keep Hugging Face's rotate-half pairs (x[i], x[i+d/2]). Pair i
// turns by pos·theta^(-2i/d) (rope_theta), divided by llama3's per-pair
// factors (the rope_freqs.weight tensor, or computed from the config) or by
// a linear scaling factor. YaRN scaling is refused. Mistral's sliding
// window is not applied (as in llama.cpp), which matters only past the
// window.
//
// # Weights and kernels
//
// Weight matrices stay in their stored type and, for memory-mapped files,
// in the map: they are kernels.Matrix values built by kernels.New, so any
// type with a registered kernel runs (F32, F16 and BF16 here; block-
// quantized types once their package is imported). Norm weights and
// biases are decoded to float32. Matrix products and attention run on
// kernels.Threads goroutines; the rest of the forward pass is cheap and
// runs on the calling goroutine.
//
// # Numerics
//
// Activations are float32. Attention scores are computed for blocks of up
// to 16 query tokens at a time, scaled by 1/√head_dim, masked causally and
// normalized by a float32 softmax. Batched prefill and one-token decoding
// give the same logits up to float32 rounding (their dot products group
// differently in the SIMD kernels; the tests bound the difference by 1e-5).
//
// # KV cache
//
// A Session's cache is a [*Cache] configured by SessionOptions: its
// element type ([KVType]: f32, f16, bf16, fp8 E4M3, ggml's Q8_0 and Q4_0
// with llama.cpp's -ctk/-ctv semantics, or KIVI's int4 and int2, with
// different types for keys and values through [KVPair]), an eviction
// [KVPolicy] with a budget (StreamingLLM, H2O, SnapKV, TOVA; evicted
// positions disappear, kept keys keep their RoPE rotation), a float32
// window of the newest positions (KIVI's residual), pages of positions
// allocated as the cache fills, and prefix sharing between sessions
// through a [PrefixCache] (a radix tree of pages, reference-counted, LRU,
// with a disk tier). Attention reads the stored rows directly with the
// fused kernels of package kernels (RowDots, RowDotsAffine,
// RowWeightedSum): no float32 copy of the cache is made. Package kveval
// measures each configuration's memory, speed and quality; results for
// books5M are in docs/KV.md.
//
// # Hooks and experiments
//
// [Hooks].OnLinearInput sees the input of every linear layer (for
// calibration); [Model.ReplaceWeight] swaps a weight matrix for another
// (for measuring a quantizer's or pruner's output without writing a file).
// Package sample turns logits into tokens.
//
// # Limits
//
// Load refuses architectures other than the three above, missing or
// misshapen tensors (naming the tensor and the expected shape), odd head
// dimensions, dense types without a float kernel (F8, integers) and rope
// scaling other than none, linear and llama3. A Session holds at most its
// context length of positions (ErrContextFull past it) and rejects token
// ids outside the vocabulary. NewKVCache's caches are limited to 2^34
// floats. Session options are checked when the session is made, with an
// error naming the option: block and KIVI cache types need head_dim to be
// a multiple of 32; a policy needs a budget in [1, context] (and a budget
// needs a policy); StreamingLLM's sinks, H2O's recent share and SnapKV's
// window must leave room in the budget; KIVI types, residual windows and
// prefix caches cannot be combined with eviction; KIVI pages hold whole
// key groups; page size and group are at most 65536. A PrefixCache only
// accepts sessions of the model and cache layout its pages were made
// with, and reads page files only if their size, magic, checksum, model
// and layout hash, page size and tokens all match (others are ignored and
// counted).
package model
