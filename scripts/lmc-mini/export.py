"""Export a trained lmc-mini checkpoint as a Hugging Face directory.

    /usr/bin/python3 scripts/lmc-mini/export.py --ckpt scripts/lmc-mini/work/run/final.pt \
        --data scripts/lmc-mini/work --out models/lmcmini

Writes model.safetensors (BF16, round-to-nearest-even, written by hand: u64
header length, JSON header padded with spaces to a multiple of 8, tensors
sorted by name), config.json, generation_config.json, fixtures.json, and
<ckpt dir>/results.json (held-out perplexity, loss curve). Perplexity follows
llama-perplexity: the BOS-prefixed held-out stream is cut into 256-token
chunks, token 0 of each chunk is set to BOS, and the NLL of the predictions
made at positions 128..254 of each chunk (tokens 129..255) is averaged.
"""
import argparse
import json
import math
import os
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F

from model import CONFIG, LlamaForCausalLM

p = argparse.ArgumentParser()
p.add_argument("--ckpt", default="scripts/lmc-mini/work/run/final.pt")
p.add_argument("--data", default="scripts/lmc-mini/work")
p.add_argument("--out", default="models/lmcmini")
p.add_argument("--ctx", type=int, default=256)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--max-chunks", type=int, default=0, help="evaluate only this many chunks (0: all)")
args = p.parse_args()
torch.set_num_threads(args.threads)

meta = json.load(open(os.path.join(args.data, "data.json")))
BOS = meta["bos_id"]
val = torch.from_numpy(np.fromfile(os.path.join(args.data, "val.bin"), dtype="<u2").astype(np.int64))
ck = torch.load(args.ckpt)
model = LlamaForCausalLM(CONFIG)
model.load_state_dict(ck["model"])
model.eval()


def to_bf16_bits(t):
    """float32 tensor -> uint16 numpy array of BF16 bits, round to nearest even."""
    u = t.detach().float().contiguous().numpy().view(np.uint32).astype(np.uint64)
    r = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return r.astype(np.uint16)


def bf16_bits_to_f32(bits):
    return torch.from_numpy((bits.astype(np.uint32) << 16).view(np.float32).copy())


sd = {k: v for k, v in model.state_dict().items() if not k.startswith("rope_")}
bits = {k: to_bf16_bits(v) for k, v in sd.items()}
# The model we publish is the BF16 one: evaluate it (in float32 arithmetic).
bf_model = LlamaForCausalLM(CONFIG)
bf_model.load_state_dict({k: bf16_bits_to_f32(b).view(sd[k].shape) for k, b in bits.items()}, strict=False)
bf_model.eval()


@torch.no_grad()
def perplexity(m):
    n = len(val) // args.ctx
    if args.max_chunks:
        n = min(n, args.max_chunks)
    half = args.ctx // 2
    tot2, cnt2, tot, cnt = 0.0, 0, 0.0, 0
    for i in range(0, n, 8):
        rows = torch.stack([val[j * args.ctx:(j + 1) * args.ctx] for j in range(i, min(i + 8, n))]).clone()
        rows[:, 0] = BOS
        lp = F.log_softmax(m(rows[:, :-1]).float(), -1)
        nll = -lp.gather(-1, rows[:, 1:].unsqueeze(-1)).squeeze(-1).double()
        # nll[:, k] is position k predicting token k+1; llama-perplexity scores
        # positions first=ctx/2 .. ctx-2 (ctx/2 - 1 predictions per chunk).
        tot2 += nll[:, half:].sum().item()
        cnt2 += nll[:, half:].numel()
        tot += nll.sum().item()
        cnt += nll.numel()
    return {"chunks": n, "ctx": args.ctx, "nll_second_half": tot2 / cnt2, "ppl": math.exp(tot2 / cnt2),
            "nll_all": tot / cnt, "ppl_all": math.exp(tot / cnt)}


t0 = time.time()
ppl_bf16 = perplexity(bf_model)
ppl_f32 = perplexity(model)
print(f"pg98 BF16 {ppl_bf16}\npg98 F32 {ppl_f32}\n({time.time() - t0:.0f}s)", flush=True)

# --- model.safetensors (BF16) ---
names = sorted(bits)
header, off = {}, 0
for k in names:
    n = bits[k].nbytes
    header[k] = {"dtype": "BF16", "shape": list(sd[k].shape), "data_offsets": [off, off + n]}
    off += n
header["__metadata__"] = {"format": "pt"}
hj = json.dumps(header, separators=(",", ":")).encode()
hj += b" " * (-len(hj) % 8)
os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(hj)))
    f.write(hj)
    for k in names:
        f.write(bits[k].astype("<u2").tobytes())


def read_safetensors(path):
    raw = open(path, "rb").read()
    (hl,) = struct.unpack("<Q", raw[:8])
    h = json.loads(raw[8:8 + hl])
    out = {}
    for k, v in h.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        u = np.frombuffer(raw[8 + hl + a:8 + hl + b], dtype="<u2")
        out[k] = bf16_bits_to_f32(u).view(v["shape"])
    return out


back = read_safetensors(os.path.join(args.out, "model.safetensors"))
assert sorted(back) == names and all(torch.equal(back[k], bf16_bits_to_f32(bits[k]).view(sd[k].shape)) for k in names)

cfg = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": BOS,
    "eos_token_id": BOS,
    "head_dim": CONFIG["head_dim"],
    "hidden_act": "silu",
    "hidden_size": CONFIG["hidden_size"],
    "initializer_range": 0.02,
    "intermediate_size": CONFIG["intermediate_size"],
    "max_position_embeddings": CONFIG["max_position_embeddings"],
    "mlp_bias": False,
    "num_attention_heads": CONFIG["num_attention_heads"],
    "num_hidden_layers": CONFIG["num_hidden_layers"],
    "num_key_value_heads": CONFIG["num_key_value_heads"],
    "pretraining_tp": 1,
    "rms_norm_eps": CONFIG["rms_norm_eps"],
    "rope_scaling": None,
    "rope_theta": CONFIG["rope_theta"],
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "use_cache": True,
    "vocab_size": CONFIG["vocab_size"],
}
json.dump(cfg, open(os.path.join(args.out, "config.json"), "w"), indent=2)
open(os.path.join(args.out, "config.json"), "a").write("\n")
json.dump({"bos_token_id": BOS, "eos_token_id": BOS, "do_sample": False, "max_length": CONFIG["max_position_embeddings"]},
          open(os.path.join(args.out, "generation_config.json"), "w"), indent=2)
open(os.path.join(args.out, "generation_config.json"), "a").write("\n")

# --- fixtures: last-position logits and greedy continuations of the BF16 model ---
tj = json.load(open(os.path.join(args.out, "tokenizer.json")))
bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
cs, n = bs[:], 0
for b in range(256):
    if b not in bs:
        bs.append(b)
        cs.append(256 + n)
        n += 1
r2b = {chr(c): b for b, c in zip(bs, cs)}
id2tok = {i: t for t, i in tj["model"]["vocab"].items()}
specials = {a["id"] for a in tj["added_tokens"]}


def decode(ids):
    out = bytearray()
    for i in ids:
        out += id2tok[i].encode() if i in specials else bytes(r2b[c] for c in id2tok[i])
    return out.decode("utf-8", errors="replace")


def f32(x):
    return float(np.format_float_positional(np.float32(x), unique=True, trim="-"))


prompts = json.load(open(os.path.join(args.data, "prompts.json")))
fixtures = {"model": "lmc-mini", "weights": "model.safetensors (BF16) evaluated in float32 by export.py",
            "bos_id": BOS, "prompts": []}
with torch.no_grad():
    for pr in prompts:
        ids = list(pr["ids"])
        last = bf_model(torch.tensor([ids]))[0, -1].float()
        g = list(ids)
        for _ in range(32):
            g.append(int(bf_model(torch.tensor([g]))[0, -1].argmax()))
        greedy = g[len(ids):]
        fixtures["prompts"].append({"text": pr["text"], "ids": ids, "last_logits": [f32(x) for x in last.tolist()],
                                    "greedy_ids": greedy, "greedy_text": decode(greedy)})
        print(repr(pr["text"]), "->", repr(decode(greedy)), flush=True)
with open(os.path.join(args.out, "fixtures.json"), "w") as f:
    json.dump(fixtures, f, separators=(",", ":"))
    f.write("\n")

res = {"pg98_bf16": ppl_bf16, "pg98_f32": ppl_f32, "step": ck["step"], "tokens": ck["tokens"],
       "train_minutes": ck["elapsed"] / 60, "train_ema": ck["ema"], "history": ck["history"],
       "params": sum(v.numel() for v in sd.values()),
       "max_abs_bf16_vs_f32_weight": max((bf16_bits_to_f32(bits[k]).view(sd[k].shape) - sd[k]).abs().max().item() for k in names)}
json.dump(res, open(os.path.join(os.path.dirname(args.ckpt), "results.json"), "w"), indent=1)
print(json.dumps({k: v for k, v in res.items() if k != "history"}, indent=1))
