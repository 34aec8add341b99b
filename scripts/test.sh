#!/usr/bin/env bash
# Runs every lmc test. Installs the test-only tools first (llama.cpp as an
# outside judge, through the pinned npm package node-llama-cpp), then vets
# and tests the module, with assembly on and off.
#
# Test data comes from ../shared beside the checkout (LMC_SHARED overrides);
# tests that need it skip with a message where it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v npm >/dev/null 2>&1; then
  echo "== installing test tools (node-llama-cpp 3.21.1, CPU build)"
  (cd testtools/llamacpp && npm ci --omit=optional --no-audit --no-fund --loglevel=error)
else
  echo "== npm not found: tests that use llama.cpp as a judge will be skipped" >&2
fi

echo "== go vet"
go vet ./...

echo "== generated assembly is up to date"
gen=$(mktemp -d)
(cd kernels && go run ./_gen/gen.go -out "$gen/tile_amd64.s" -decl "$gen/tile_amd64_decl.go" &&
  go run ./_kvgen/gen.go -out "$gen/kv_amd64.s" -decl "$gen/kv_amd64_decl.go")
for f in tile_amd64.s tile_amd64_decl.go kv_amd64.s kv_amd64_decl.go; do
  cmp -s "$gen/$f" "kernels/$f" || { echo "kernels: $f is out of date; run go generate ./kernels/" >&2; exit 1; }
done
(cd quant && go run gen_amd64.go -dir "$gen")
for f in dotk_amd64.s dequant_amd64.s; do
  cmp -s "$gen/$f" "quant/$f" || { echo "quant: $f is out of date; run go generate ./quant/" >&2; exit 1; }
done
rm -rf "$gen"

echo "== go test"
go test -count=1 -timeout 40m ./...

echo "== go test -tags noasm (pure-Go kernels)"
go test -count=1 -tags noasm -timeout 20m ./tensor/... ./kernels/... ./model/... ./quant/...
