#!/bin/sh
# Rebuilds lmc-mini from scratch: tokenizer + encoded corpus, training, export.
# Run from the repository root:  sh scripts/lmc-mini/run.sh [budget-minutes]
# Needs Go, and Debian's python3-torch, python3-numpy, libopenblas0-openmp
# (/usr/bin/python3). The shared data folder must be at ../shared (or $LMC_SHARED).
set -eu
budget=${1:-35}
work=scripts/lmc-mini/work
go run ./scripts/lmc-mini/prepare -out models/lmcmini -work "$work"
mkdir -p "$work/run"
OMP_NUM_THREADS=1 /usr/bin/python3 scripts/lmc-mini/train.py --data "$work" --out "$work/run" \
	--budget-min "$budget" --threads 1
/usr/bin/python3 scripts/lmc-mini/export.py --ckpt "$work/run/final.pt" --data "$work" --out models/lmcmini
go test ./models/lmcmini/ ./scripts/lmc-mini/prepare/
