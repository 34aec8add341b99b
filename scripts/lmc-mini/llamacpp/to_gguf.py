"""Write an F32 GGUF (llama architecture, gpt2 tokenizer, pre gpt-2) from
models/lmcmini, only to cross-check the model with llama.cpp (lmc has its own
converter). q_proj/k_proj are permuted from HF rotate-half order to GGUF's
interleaved order exactly as llama.cpp's convert_hf_to_gguf.py does.

    /usr/bin/python3 scripts/lmc-mini/llamacpp/to_gguf.py models/lmcmini /tmp/lmc-mini-f32.gguf
    (cd /tmp/nlc && npm i -E node-llama-cpp@3.21.1 @node-llama-cpp/linux-x64@3.21.1 --omit=optional)
    cp scripts/lmc-mini/llamacpp/check.mjs /tmp/nlc/ && node /tmp/nlc/check.mjs /tmp/lmc-mini-f32.gguf \
        models/lmcmini/fixtures.json ../shared/text/gutenberg/pg98.txt scripts/lmc-mini/work/val.bin

check.mjs tokenizes the fixture prompts and pg98 with llama.cpp and runs 32
greedy tokens, comparing with fixtures.json and the Go encoder's val.bin.
"""
import json, struct, sys
import numpy as np

src, dst = sys.argv[1], sys.argv[2]
cfg = json.load(open(src + '/config.json'))
tj = json.load(open(src + '/tokenizer.json'))
raw = open(src + '/model.safetensors', 'rb').read()
(hl,) = struct.unpack('<Q', raw[:8])
hdr = json.loads(raw[8:8 + hl])
W = {}
for k, v in hdr.items():
    if k == '__metadata__':
        continue
    a, b = v['data_offsets']
    u = np.frombuffer(raw[8 + hl + a:8 + hl + b], dtype='<u2').astype(np.uint32) << 16
    W[k] = u.view(np.float32).reshape(v['shape'])


def permute(w, n_head):  # convert_hf_to_gguf.py LlamaModel.permute
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


nh, nkv = cfg['num_attention_heads'], cfg['num_key_value_heads']
T = [('token_embd.weight', W['model.embed_tokens.weight'])]
for l in range(cfg['num_hidden_layers']):
    p = 'model.layers.%d.' % l
    T += [('blk.%d.attn_norm.weight' % l, W[p + 'input_layernorm.weight']),
          ('blk.%d.attn_q.weight' % l, permute(W[p + 'self_attn.q_proj.weight'], nh)),
          ('blk.%d.attn_k.weight' % l, permute(W[p + 'self_attn.k_proj.weight'], nkv)),
          ('blk.%d.attn_v.weight' % l, W[p + 'self_attn.v_proj.weight']),
          ('blk.%d.attn_output.weight' % l, W[p + 'self_attn.o_proj.weight']),
          ('blk.%d.ffn_norm.weight' % l, W[p + 'post_attention_layernorm.weight']),
          ('blk.%d.ffn_gate.weight' % l, W[p + 'mlp.gate_proj.weight']),
          ('blk.%d.ffn_up.weight' % l, W[p + 'mlp.up_proj.weight']),
          ('blk.%d.ffn_down.weight' % l, W[p + 'mlp.down_proj.weight'])]
T += [('output_norm.weight', W['model.norm.weight']), ('output.weight', W['lm_head.weight'])]

vocab = tj['model']['vocab']
tokens = [None] * cfg['vocab_size']
for t, i in vocab.items():
    tokens[i] = t
special = {a['id'] for a in tj['added_tokens']}
for a in tj['added_tokens']:
    tokens[a['id']] = a['content']
types = [3 if i in special else 1 for i in range(len(tokens))]


def s(x):
    b = x.encode()
    return struct.pack('<Q', len(b)) + b


kv = []
def add(k, typ, val):
    kv.append(s(k) + struct.pack('<I', typ) + val)
U32, I32, F32, BOOL, STR, ARR = 4, 5, 6, 7, 8, 9
add('general.architecture', STR, s('llama'))
add('general.name', STR, s('lmc-mini'))
add('general.alignment', U32, struct.pack('<I', 32))
add('llama.context_length', U32, struct.pack('<I', cfg['max_position_embeddings']))
add('llama.embedding_length', U32, struct.pack('<I', cfg['hidden_size']))
add('llama.block_count', U32, struct.pack('<I', cfg['num_hidden_layers']))
add('llama.feed_forward_length', U32, struct.pack('<I', cfg['intermediate_size']))
add('llama.rope.dimension_count', U32, struct.pack('<I', cfg['head_dim']))
add('llama.attention.head_count', U32, struct.pack('<I', nh))
add('llama.attention.head_count_kv', U32, struct.pack('<I', nkv))
add('llama.attention.layer_norm_rms_epsilon', F32, struct.pack('<f', cfg['rms_norm_eps']))
add('llama.rope.freq_base', F32, struct.pack('<f', cfg['rope_theta']))
add('llama.vocab_size', U32, struct.pack('<I', cfg['vocab_size']))
add('tokenizer.ggml.model', STR, s('gpt2'))
add('tokenizer.ggml.pre', STR, s('gpt-2'))
add('tokenizer.ggml.tokens', ARR, struct.pack('<IQ', STR, len(tokens)) + b''.join(s(t) for t in tokens))
add('tokenizer.ggml.token_type', ARR, struct.pack('<IQ', I32, len(types)) + struct.pack('<%di' % len(types), *types))
merges = tj['model']['merges']
add('tokenizer.ggml.merges', ARR, struct.pack('<IQ', STR, len(merges)) + b''.join(s(m) for m in merges))
add('tokenizer.ggml.bos_token_id', U32, struct.pack('<I', cfg['bos_token_id']))
add('tokenizer.ggml.eos_token_id', U32, struct.pack('<I', cfg['eos_token_id']))
add('tokenizer.ggml.add_bos_token', BOOL, b'\x01')
add('tokenizer.ggml.add_eos_token', BOOL, b'\x00')

out = bytearray(b'GGUF' + struct.pack('<IQQ', 3, len(T), len(kv)))
for x in kv:
    out += x
off = 0
datas = []
for name, w in T:
    w = np.ascontiguousarray(w, dtype='<f4')
    out += s(name) + struct.pack('<I', w.ndim) + struct.pack('<%dQ' % w.ndim, *reversed(w.shape)) + struct.pack('<IQ', 0, off)
    d = w.tobytes()
    pad = (-len(d)) % 32
    datas.append(d + b'\0' * pad)
    off += len(d) + pad
out += b'\0' * ((-len(out)) % 32)
for d in datas:
    out += d
open(dst, 'wb').write(out)
print('wrote', dst, len(out), 'bytes,', len(T), 'tensors,', len(kv), 'kv')
