// Package spec holds the on-disk conventions of the quantized Hugging Face
// checkpoints that transformers and vLLM load — GPTQ and compressed-tensors
// — and reads them: configs, packing, encoders and decoders, and [View],
// which presents a quantized checkpoint as dense tensors. It depends on no
// model package, so that modelfile.Open can read these folders; package
// hfquant writes them.
//
// # The integer grid
//
// A [Quantized] matrix has Rows = out_features and Cols = in_features
// (PyTorch's [out, in]); input columns fall into groups of GroupSize (or one
// group per row), and element (r, c) is scale·(code − zero) for its row and
// group, with unsigned codes in [0, 2^bits). Symmetric grids have zero
// 2^(bits−1). compressed-tensors thinks in signed values v = code − 2^(bits−1)
// and signed zero points; the packed bytes are the same.
//
// # GPTQ (quant_method "gptq")
//
// Per linear module (bits 4 or 8, pack = 32/bits, G = in/group_size or 1):
//
//	<module>.qweight  I32 [in/pack, out]  word (i, j) = Σ_k code(j, i·pack+k) << (bits·k)
//	<module>.qzeros   I32 [G, out/pack]   word (g, j) = Σ_k z(j·pack+k, g) << (bits·k)
//	<module>.scales   F16 [G, out]
//	<module>.g_idx    I32 [in]            group of each input column
//
// Codes are packed along the input dimension, LSB first; zero points along
// the output dimension. In checkpoint_format "gptq" (v1, AutoGPTQ's and
// the default) the stored zero point is zero − 1, and readers add 1 (vLLM
// gptq.py; AutoGPTQ qlinear_cuda_old.py: pack does `zeros -= 1`, forward
// `zeros + 1`); "gptq_v2" (GPTQModel) stores zero itself. A v1 zero point
// of 0 cannot be stored: it wraps to 2^bits − 1 and reads back as 2^bits,
// which lmc reproduces when reading and refuses when writing. With
// desc_act, g_idx is a permutation of the groups (act-order); qweight rows
// stay in the original column order. quantization_config carries bits,
// group_size, desc_act, sym, lm_head and checkpoint_format (example:
// GPTQModel#1680).
//
// # compressed-tensors (quant_method "compressed-tensors")
//
// Format "pack-quantized" (W4A16, W8A16), from compressed-tensors'
// PackedQuantizationCompressor and vLLM's CompressedTensorsWNA16:
//
//	<module>.weight_packed      I32 [out, ceil(in/pack)]   along the input, LSB first
//	<module>.weight_scale       [out, G]                   in the model dtype
//	<module>.weight_zero_point  I32 [ceil(out/pack), G]    asymmetric only, along the output
//	<module>.weight_shape       I64 [2]                    (out, in)
//	<module>.weight_g_idx       I32 [in]                   actorder "group" only
//
// pack_to_int32 adds 2^(bits−1) to the signed values and puts element k of
// each group of pack at bit shift k·bits. FORMATS.md gives weight_shape as
// int32; compressed-tensors writes torch.tensor(weight.shape), which is
// int64, and vLLM declares it int64, so lmc writes I64 and reads either.
//
// Format "float-quantized" (FP8): <module>.weight F8_E4M3 [out, in] and
// <module>.weight_scale F32 [1] (strategy "tensor") or [out, 1]
// ("channel"); value = F8E4M3(code)·scale. Format "nvfp4-pack-quantized"
// (read only): weight_packed U8 [out, in/2] (low nibble first),
// weight_scale F8_E4M3 [out, in/16], weight_global_scale F32 [1]; see
// fp.NVFP4. The config's config_groups give each module's scheme: a
// target naming the module ("re:" regexp or name) wins over a class
// ("Linear"); "ignore" excludes modules.
//
// # Sources
//
// AutoGPTQ auto_gptq/nn_modules/qlinear/qlinear_cuda_old.py (pack,
// forward); the GPTQ reference quant.py (Quantizer.find_params);
// compressed-tensors compressors/quantized_compressors/pack_quantized.py
// (pack_to_int32, unpack_from_int32), quantization/utils/helpers.py
// (calculate_qparams), compressors/nvfp4/helpers.py and
// quantization/utils/fp4_utils.py; vLLM's
// compressed_tensors_wNA16.py (parameter shapes and dtypes) and
// quantization/gptq.py; ../shared/reference/FORMATS.md.
//
// # Limits enforced by the readers
//
// [NewView] checks every quantized layer from the tensor headers alone
// before any data is read (besides the 16-byte weight_shape tensors), and
// returns a [*FormatError] (wrapping [ErrFormat], and [ErrUnsupported] for
// valid checkpoints lmc does not read) naming the file, tensor and field:
//   - quant_method other than gptq and compressed-tensors (awq,
//     bitsandbytes, fp8 …), GPTQ bits other than 4 and 8, Marlin-packed or
//     non-int32 GPTQ packing, GPTQ "dynamic" per-module overrides, a
//     checkpoint_format other than gptq and gptq_v2;
//   - compressed-tensors quantization_status other than compressed or
//     frozen, sparse formats, integer strategies other than group and
//     channel, FP8 strategies other than tensor and channel, formats other
//     than pack-quantized, float-quantized, nvfp4-pack-quantized (and
//     mixed-precision groups of those);
//   - a missing tensor of a layer, a wrong dtype, or a shape that does not
//     match the others (GPTQ: qweight [in/pack, out] fixes the rest; pack-
//     quantized: weight_shape fixes the rest; groups must divide in), a
//     weight_shape outside (0, 2^31], a dense weight beside a quantized one,
//     quantized tensors for a module no config group targets;
//   - g_idx values that are not groups, codes or zero points beyond the
//     grid, and non-finite or non-positive FP8/NVFP4 scales, when a layer
//     is decoded.
//
// Every allocation is bounded by the size of the tensors in the file (a
// decoded layer holds one byte per weight plus its scales). The readers
// never panic on file contents (FuzzView).
package spec
