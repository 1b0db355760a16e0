#!/usr/bin/env bash
# Training steps per second, Tween against PyTorch on the same models, crops, batches, losses and optimisers:
# `tween bench train` (two threads) and Scripts/bench_torch_train.py (one and two threads) run alternately, RUNS
# times each, and the medians are printed with Tween's ratio to PyTorch's better thread count.
#   Scripts/bench-train.sh [RUNS] [MODEL ...]        (release build; pip install torch)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}; shift || true
models=("$@"); [ ${#models[@]} -gt 0 ] || models=(superslomo sepconv dvf)
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
for i in $(seq "$runs"); do
    for m in "${models[@]}"; do
        .build/release/tween bench train --model "$m" --threads 2 --repeats 3 --json >> "$out/tween"
        python3 Scripts/bench_torch_train.py --model "$m" --threads 1 --repeats 3 --json 2>/dev/null >> "$out/torch1"
        python3 Scripts/bench_torch_train.py --model "$m" --threads 2 --repeats 3 --json 2>/dev/null >> "$out/torch2"
    done
done
python3 - "$out" "${models[@]}" <<'PY'
import json, statistics, sys
d, models = sys.argv[1], sys.argv[2:]
shapes = {}
def load(f):
    rows = {}
    for line in open(f"{d}/{f}"):
        for r in json.loads(line):
            rows.setdefault(r["model"], []).append(r["samples_per_second"])
            shapes[r["model"]] = f"{r['crop']}×{r['batch']}"
    return rows
tw, t1, t2 = load("tween"), load("torch1"), load("torch2")
print(f"{'model':<12}{'crop×batch':>12}{'Tween 2T':>10}{'torch 1T':>10}{'torch 2T':>10}{'ratio':>8}   (samples/s, medians of {len(tw[models[0]])} runs)")
for m in models:
    a, b, c = (statistics.median(x[m]) for x in (tw, t1, t2))
    print(f"{m:<12}{shapes[m]:>12}{a:10.2f}{b:10.2f}{c:10.2f}{a / max(b, c):8.2f}")
PY
