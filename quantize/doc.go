// Package quantize is lmc's quantization pipeline: it turns a model (any
// file modelfile opens) into a GGUF file of llama.cpp's block types, or
// into a Hugging Face folder of integer weights (GPTQ or
// compressed-tensors), with round to nearest, an importance matrix, GPTQ or
// AWQ.
//
// # Recipes
//
// [Plan] chooses every tensor's type exactly as llama-quantize does
// (plan.ChooseTensorType: the file type's mix, --pure, --tensor-type
// rules, --output-tensor-type, --token-embedding-type). Where a tensor's
// rows do not divide into the chosen type's blocks, llama.cpp falls back
// to another type for some types and aborts for others (stories260K's
// 172-wide ffn_down in Q8_0 or Q4_0); lmc takes llama.cpp's fallback where
// it has one and otherwise the next type that fits (F16, which fits any
// row), and reports each case in Report.Notes.
//
// # GGUF output
//
// [Run] writes what llama-quantize writes: the source's metadata with
// general.quantization_version 2 and general.file_type set (and
// quantize.imatrix.* when an importance matrix is used), the tensors in
// llama-quantize's order, 32-byte alignment. With round to nearest and no
// importance matrix, the files are byte-identical to llama.cpp's (every
// mix and --pure type of books5M, metadata included). Tensors are
// converted one at a time, their rows in parallel chunks, so memory stays
// near the size of the largest tensor.
//
// The output is first written to OUT.partial, with a state file
// OUT.partial.json listing the finished tensors and their sha256. The
// header and every tensor's offset are fixed before any tensor is
// written, so tensors go straight to their place; a run that is killed
// (or cancelled) leaves both files, and a later run with the same inputs
// and recipe (a key over the inputs' sha256, the options, the importance
// matrix and the calibration tokens) verifies the finished tensors and
// continues. OUT appears, by rename, only when every tensor is written.
// Bad input that would fail again (NaN or ±Inf weights, an importance
// matrix of another model, a calibration text too short) removes the
// partial files. HF-format runs keep OUT.partial as a folder of finished
// integer matrices (and AWQ's folded norms) instead, and write the output
// folder from it at the end; a partial state of other inputs or another
// recipe is discarded with a note (Options.Log).
//
// # Calibrated methods
//
// GPTQ and AWQ run block by block (package gptq and package awq): the
// engine (package model) runs over the calibration text with a hook on
// every linear layer's input that accumulates H = Σxᵀx (and Σ|x|) for the
// block being quantized; passes stop after that block, and the blocks
// already quantized run with their quantized weights, so each block is
// calibrated on the inputs the quantized model will give it. Memory for
// statistics is one block's Hessians (4 matrices of its input widths).
// GPTQ is true-sequential by default: the inputs of attn_output, of the
// feed-forward and of ffn_down are collected again after the linears
// before them are quantized (GPTQOptions.OnePass collects a block's
// inputs once). AWQ searches scales for q/k/v (folded into attn_norm),
// attn_output (folded into attn_v's rows, one scale per KV channel, so
// grouped-query attention works), gate/up (ffn_norm) and ffn_down
// (ffn_up's rows), then clips every linear but q and k; the model's
// function is unchanged before rounding. output.weight is quantized the
// same way from the final norm's outputs (GGUF output). Both methods round
// onto ggml block types (each block's scales from the type's own
// importance-weighted quantizer) or onto integer grids for the HF
// formats. The token embedding is rounded to nearest.
//
// With round to nearest, Options.Calib computes an importance matrix
// first (llama-imatrix's protocol, package imatrix).
//
// # Reports
//
// Every tensor's [TensorReport] gives its types, the RMS error of its
// weights, the importance-weighted relative error when an importance
// matrix is known (Σw(x−q)²/Σwx²) and, for calibrated methods, the exact
// relative error of its outputs on the calibration inputs
// (tr(E·H·Eᵀ)/tr(W·H·Wᵀ)).
//
// # Limits
//
// Llama-family models (what package model runs) for calibrated methods;
// RTN takes any tensors. Requantizing a quantized source needs
// Options.AllowRequantize. Types lmc cannot write (IQ1–IQ3, TQ) are
// refused with the tensor named. HF-format runs resume like GGUF ones:
// their finished layers wait in the folder OUT.partial (one byte per
// weight and their scales) until the output folder is written.
package quantize
