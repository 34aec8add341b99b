"""Train lmc-mini on the corpus that prepare/main.go encoded.

    /usr/bin/python3 scripts/lmc-mini/train.py --data scripts/lmc-mini/work --out scripts/lmc-mini/work/run --budget-min 35

Resumes from <out>/ckpt/latest.pt when present. The learning rate follows a
linear warmup then a cosine decay driven by the elapsed fraction of the
wall-clock budget, so a slow machine trains fewer steps on the same schedule.
"""
import argparse
import json
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F

from model import CONFIG, LlamaForCausalLM

p = argparse.ArgumentParser()
p.add_argument("--data", default="scripts/lmc-mini/work")
p.add_argument("--out", default="scripts/lmc-mini/work/run")
p.add_argument("--budget-min", type=float, default=35.0)
p.add_argument("--batch", type=int, default=16)
p.add_argument("--ctx", type=int, default=256)
p.add_argument("--lr", type=float, default=2e-3)
p.add_argument("--min-lr", type=float, default=2e-4)
p.add_argument("--warmup", type=int, default=100)
p.add_argument("--wd", type=float, default=0.1)
p.add_argument("--seed", type=int, default=1337)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--ckpt-min", type=float, default=10.0)
p.add_argument("--eval-every", type=int, default=200)
p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: budget only)")
args = p.parse_args()

torch.set_num_threads(args.threads)
os.makedirs(os.path.join(args.out, "ckpt"), exist_ok=True)
logf = open(os.path.join(args.out, "train.log"), "a", buffering=1)


def log(msg):
    line = time.strftime("%H:%M:%S ") + msg
    print(line, flush=True)
    logf.write(line + "\n")


meta = json.load(open(os.path.join(args.data, "data.json")))
BOS = meta["bos_id"]
train = torch.from_numpy(np.fromfile(os.path.join(args.data, "train.bin"), dtype="<u2").astype(np.int64))
val = torch.from_numpy(np.fromfile(os.path.join(args.data, "val.bin"), dtype="<u2").astype(np.int64))

random.seed(args.seed)
np.random.seed(args.seed)
torch.manual_seed(args.seed)
model = LlamaForCausalLM(CONFIG)
model.init_weights()
decay = [p_ for n, p_ in model.named_parameters() if p_.dim() == 2]
nodecay = [p_ for n, p_ in model.named_parameters() if p_.dim() < 2]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd}, {"params": nodecay, "weight_decay": 0.0}],
                        lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
gen = torch.Generator().manual_seed(args.seed)
step, elapsed, ema, tokens = 0, 0.0, None, 0
history = []
ck = os.path.join(args.out, "ckpt", "latest.pt")
if os.path.exists(ck):
    s = torch.load(ck)
    model.load_state_dict(s["model"])
    opt.load_state_dict(s["opt"])
    gen.set_state(s["gen"])
    step, elapsed, ema, tokens, history = s["step"], s["elapsed"], s["ema"], s["tokens"], s["history"]
    log(f"resumed from {ck} at step {step}, {elapsed/60:.1f} min")
n_params = sum(p_.numel() for p_ in model.parameters())
log(f"params {n_params:,}; train tokens {len(train):,}; val tokens {len(val):,}; args {vars(args)}")

budget = args.budget_min * 60


def lr_at(step, frac):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * min(frac, 1.0)))


def batch():
    ix = torch.randint(0, len(train) - args.ctx - 1, (args.batch,), generator=gen)
    rows = torch.stack([train[i:i + args.ctx + 1] for i in ix.tolist()])
    rows[:, 0] = BOS
    return rows[:, :-1], rows[:, 1:]


@torch.no_grad()
def evaluate(n_chunks):
    """llama-perplexity protocol: chunks of ctx tokens of the BOS-prefixed
    stream, token 0 set to BOS, NLL of the second half."""
    model.eval()
    n = min(n_chunks, len(val) // args.ctx)
    tot, cnt = 0.0, 0
    for i in range(0, n, 8):
        rows = torch.stack([val[j * args.ctx:(j + 1) * args.ctx] for j in range(i, min(i + 8, n))]).clone()
        rows[:, 0] = BOS
        logits = model(rows[:, :-1]).float()
        lp = F.log_softmax(logits, -1)
        nll = -lp.gather(-1, rows[:, 1:].unsqueeze(-1)).squeeze(-1)
        half = args.ctx // 2
        tot += nll[:, half - 1:].sum().item()
        cnt += nll[:, half - 1:].numel()
    model.train()
    return tot / cnt


def save(path):
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(), "step": step,
                "elapsed": elapsed, "ema": ema, "tokens": tokens, "history": history, "args": vars(args)}, path + ".tmp")
    os.replace(path + ".tmp", path)


model.train()
last_ckpt = time.time()
win_t, win_tok = time.time(), 0
while elapsed < budget and (args.max_steps == 0 or step < args.max_steps):
    t0 = time.time()
    lr = lr_at(step, elapsed / budget)
    for g in opt.param_groups:
        g["lr"] = lr
    x, y = batch()
    logits = model(x)
    loss = F.cross_entropy(logits.view(-1, logits.size(-1)), y.reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0).item()
    opt.step()
    step += 1
    tokens += x.numel()
    win_tok += x.numel()
    elapsed += time.time() - t0
    ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
    if step % 10 == 0:
        now = time.time()
        log(f"step {step} loss {loss.item():.4f} ema {ema:.4f} lr {lr:.2e} gnorm {gnorm:.2f} "
            f"tok/s {win_tok / (now - win_t):.0f} elapsed {elapsed / 60:.2f}m tokens {tokens}")
        win_t, win_tok = now, 0
    if step % args.eval_every == 0:
        te = time.time()
        v = evaluate(32)
        history.append({"step": step, "tokens": tokens, "minutes": elapsed / 60, "train_ema": ema, "lr": lr, "val32": v})
        log(f"eval step {step} val(32 chunks) nll {v:.4f} ppl {math.exp(v):.3f} ({time.time() - te:.1f}s, not in budget)")
        win_t = time.time()
    if time.time() - last_ckpt > args.ckpt_min * 60:
        save(ck)
        last_ckpt = time.time()
        log(f"checkpoint step {step}")
        win_t = time.time()

v = evaluate(32)
history.append({"step": step, "tokens": tokens, "minutes": elapsed / 60, "train_ema": ema, "lr": lr_at(step, elapsed / budget), "val32": v})
save(ck)
torch.save({"model": model.state_dict(), "step": step, "elapsed": elapsed, "ema": ema, "tokens": tokens,
            "history": history, "args": vars(args)}, os.path.join(args.out, "final.pt"))
log(f"done: step {step}, tokens {tokens}, {elapsed / 60:.1f} min, train ema {ema:.4f}, val32 nll {v:.4f}")
