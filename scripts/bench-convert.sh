#!/usr/bin/env bash
# Benchmarks `lmc convert` on a synthetic ~1 GB BF16 Llama model: BF16 → F16,
# to a Hugging Face folder and to GGUF, on one core (GOMAXPROCS=1). Prints
# MB/s (input bytes / wall time) and peak RSS. Needs ~3 GB of free disk in
# ${TMPDIR:-/tmp}. Numbers are recorded in docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${TMPDIR:-/tmp}/lmc-bench-convert
mkdir -p "$work"
go build -o "$work/lmc" ./cmd/lmc
if [ ! -f "$work/synth/model.safetensors" ]; then
  go run ./scripts/synthmodel -o "$work/synth" -layers 9 -dtype bf16
fi
in_bytes=$(stat -c %s "$work/synth/model.safetensors")
largest=$(( 32000 * 2048 * 2 ))
for target in hf gguf; do
  out="$work/out-$target"; [ "$target" = gguf ] && out="$work/out.gguf"
  rm -rf "$out" "$out.provenance.json"
  sync
  /usr/bin/time -f "%e %M" -o "$work/time.txt" env GOMAXPROCS=1 "$work/lmc" convert "$work/synth" "$out" --dtype f16 --quiet >/dev/null
  read -r secs rss_kb < "$work/time.txt"
  awk -v b="$in_bytes" -v s="$secs" -v r="$rss_kb" -v l="$largest" -v t="$target" 'BEGIN {
    printf "BF16 -> F16 (%s): %.0f MB in %.2f s = %.0f MB/s; peak RSS %.0f MB (limit 2 x largest tensor + 100 MB = %.0f MB)\n",
      t, b/1e6, s, b/1e6/s, r/1024, (2*l)/1048576 + 100 }'
done
