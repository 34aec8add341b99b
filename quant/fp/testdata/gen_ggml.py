#!/usr/bin/env python3
"""Regenerates the ggml reference vectors in this folder.

It calls ggml's own reference quantizers and dequantizers
(quantize_row_mxfp4_ref, dequantize_row_mxfp4, quantize_row_nvfp4_ref,
dequantize_row_nvfp4) in the libggml-base.so that node-llama-cpp 3.21.1
ships (testtools/llamacpp/node_modules/@node-llama-cpp/linux-x64), through
ctypes, on deterministic inputs with the edge cases the formats have
(zeros, ties, powers of two, tiny and huge blocks, saturation). The CPU
backend's activation quantizer (quantize_row_q8_0) and dot products
(ggml_vec_dot_mxfp4_q8_0, ggml_vec_dot_nvfp4_q8_0) come from
libggml-cpu-haswell.so, the AVX2+FMA build whose code path every x86
variant of that release runs for these types.

Files (little-endian): <fmt>_in.f32 (float32 inputs), <fmt>_q.bin (ggml's
blocks), <fmt>_deq.f32 (ggml's dequantization of those blocks),
<fmt>_rand.bin (random block bytes) and <fmt>_rand_deq.f32 (their
dequantization); q8_in.f32 and q8_q.bin (activations and their Q8_0
blocks); <fmt>_dot_w.bin, <fmt>_dot_x.bin and <fmt>_dot.f32 (rows of
weights, Q8_0 activation rows and ggml's dot products, for row lengths
given in <fmt>_dot_n.txt).

Usage: python3 gen_ggml.py [path/to/libggml-base.so]
"""
import ctypes, os, random, struct, sys

here = os.path.dirname(os.path.abspath(__file__))
lib_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    here, "../../../testtools/llamacpp/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so")
lib = ctypes.CDLL(lib_path, mode=ctypes.RTLD_GLOBAL)
cpu = ctypes.CDLL(os.path.join(os.path.dirname(lib_path), "libggml-cpu-haswell.so"))
cpu.ggml_cpu_init()
cpu.quantize_row_q8_0.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
for name in ["ggml_vec_dot_mxfp4_q8_0", "ggml_vec_dot_nvfp4_q8_0"]:
    getattr(cpu, name).argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_float), ctypes.c_size_t,
                                   ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
for name in ["quantize_row_mxfp4_ref", "quantize_row_nvfp4_ref"]:
    getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
for name in ["dequantize_row_mxfp4", "dequantize_row_nvfp4"]:
    getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]

rng = random.Random(20261127)

def f32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]

def inputs(block):
    xs = []
    # Gaussian blocks at many scales.
    for b in range(40):
        s = 10 ** rng.uniform(-6, 4)
        xs += [f32(rng.gauss(0, s)) for _ in range(block)]
    # All zeros, negative zeros.
    xs += [0.0] * block
    xs += [-0.0] * block
    # Exact powers of two as the block maximum, with grid values and ties.
    for k in [-3, 0, 1, 7]:
        d = 2.0 ** (k - 3)
        kv = [0, 1, 2, 3, 4, 6, 8, 12]
        blk = [2.0 ** k]
        while len(blk) < block:
            i = rng.randrange(7)
            mid = (kv[i] + kv[i + 1]) / 2 * d / 2 * 2  # ties between neighbours
            blk.append(rng.choice([1, -1]) * rng.choice([mid, kv[i] * d]))
        xs += [f32(v) for v in blk]
    # Just below a power of two (log2 rounding), tiny and huge blocks.
    xs += [f32(2.0 * (1 - 2 ** -24))] + [f32(rng.uniform(-1, 1)) for _ in range(block - 1)]
    xs += [f32(rng.uniform(-1, 1) * 1e-39) for _ in range(block)]
    xs += [f32(rng.uniform(-1, 1) * 1e-42) for _ in range(block)]
    xs += [f32(rng.uniform(-1, 1) * 3e38) for _ in range(block)]
    xs += [f32(rng.uniform(-5000, 5000)) for _ in range(block)]  # NVFP4 scale saturation
    # One outlier among small values.
    blk = [f32(rng.gauss(0, 0.01)) for _ in range(block)]
    blk[rng.randrange(block)] = 3.0
    xs += blk
    return xs

def run(fmt, block, bbytes):
    xs = inputs(block)
    n = len(xs)
    x = (ctypes.c_float * n)(*xs)
    q = (ctypes.c_uint8 * (n // block * bbytes))()
    getattr(lib, "quantize_row_%s_ref" % fmt)(x, q, n)
    y = (ctypes.c_float * n)()
    getattr(lib, "dequantize_row_%s" % fmt)(q, y, n)
    open(os.path.join(here, fmt + "_in.f32"), "wb").write(bytes(x))
    open(os.path.join(here, fmt + "_q.bin"), "wb").write(bytes(q))
    open(os.path.join(here, fmt + "_deq.f32"), "wb").write(bytes(y))
    nb = 64
    r = (ctypes.c_uint8 * (nb * bbytes))(*[rng.randrange(256) for _ in range(nb * bbytes)])
    ry = (ctypes.c_float * (nb * block))()
    getattr(lib, "dequantize_row_%s" % fmt)(r, ry, nb * block)
    open(os.path.join(here, fmt + "_rand.bin"), "wb").write(bytes(r))
    open(os.path.join(here, fmt + "_rand_deq.f32"), "wb").write(bytes(ry))

def q8(xs):
    x = (ctypes.c_float * len(xs))(*xs)
    q = (ctypes.c_uint8 * (len(xs) // 32 * 34))()
    cpu.quantize_row_q8_0(x, q, len(xs))
    return x, q

def dots(fmt, block, bbytes, lengths):
    ws, xs, out = b"", b"", []
    for n in lengths:
        for _ in range(8):
            w = (ctypes.c_float * n)(*[rng.gauss(0, 0.05) for _ in range(n)])
            qw = (ctypes.c_uint8 * (n // block * bbytes))()
            getattr(lib, "quantize_row_%s_ref" % fmt)(w, qw, n)
            _, qx = q8([rng.gauss(0, 1) * rng.choice([1, 1, 30]) for _ in range(n)])
            s = ctypes.c_float()
            getattr(cpu, "ggml_vec_dot_%s_q8_0" % fmt)(n, ctypes.byref(s), 0, qw, 0, qx, 0, 1)
            ws += bytes(qw); xs += bytes(qx); out.append(s.value)
    open(os.path.join(here, fmt + "_dot_w.bin"), "wb").write(ws)
    open(os.path.join(here, fmt + "_dot_x.bin"), "wb").write(xs)
    open(os.path.join(here, fmt + "_dot.f32"), "wb").write(struct.pack("<%df" % len(out), *out))
    open(os.path.join(here, fmt + "_dot_n.txt"), "w").write(" ".join(str(n) for n in lengths) + "\n")

run("mxfp4", 32, 17)
run("nvfp4", 64, 36)
xs = [f32(rng.gauss(0, 1) * rng.choice([1e-3, 1, 50])) for _ in range(4096)]
xs[100:132] = [0.0] * 32
xs[200:232] = [f32((i - 16) * 0.5) for i in range(32)]  # ties at ±0.5 steps
x, q = q8(xs)
open(os.path.join(here, "q8_in.f32"), "wb").write(bytes(x))
open(os.path.join(here, "q8_q.bin"), "wb").write(bytes(q))
dots("mxfp4", 32, 17, [32, 96, 256, 768])
dots("nvfp4", 64, 36, [64, 256, 768])
