#!/usr/bin/env bash
# Runs `tween bench engine` and Scripts/bench_torch.py alternately, RUNS times each at 1 and 2 threads, and prints
# per-layer medians side by side (the host is noisy; alternating keeps both under the same conditions).
#   Scripts/bench-engine.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
for t in 1 2; do
    for i in $(seq "$runs"); do
        .build/release/tween bench engine --threads "$t" --json >> "$out/tween$t"
        python3 Scripts/bench_torch.py --threads "$t" --json >> "$out/torch$t"
    done
done
python3 - "$out" <<'PY'
import json, statistics, sys
d = sys.argv[1]
def load(f): return [json.loads(l) for l in open(f"{d}/{f}")]
for t in (1, 2):
    tw, th = load(f"tween{t}"), load(f"torch{t}")
    peak = statistics.median(r["peak_gflops"] for r in tw)
    print(f"\n{t} thread(s); single-core FMA peak {peak:.1f} GFLOP/s (median); {th[0]['framework']}")
    print(f"{'layer':<28}{'tween ms':>10}{'GFLOP/s':>9}{'% peak':>8}{'torch ms':>10}{'GFLOP/s':>9}{'ratio':>7}")
    def pick(runs, name, pas, key):
        return statistics.median(next(l[key] for l in r["layers"] if l["name"] == name and l["pass"] == pas) for r in runs)
    torch_keys = {(l["name"], l["pass"]) for l in th[0]["layers"]}
    for l in tw[0]["layers"]:
        n, ps = l["name"], l["pass"]
        a, g = pick(tw, n, ps, "ms"), pick(tw, n, ps, "gflops")
        label = f"{n} {ps[:3]}"
        if (n, ps) in torch_keys:
            b, gt = pick(th, n, ps, "ms"), pick(th, n, ps, "gflops")
            print(f"{label:<28}{a:10.2f}{g:9.1f}{100 * g / (peak * t):8.1f}{b:10.2f}{gt:9.1f}{b / a:7.2f}")
        else:
            print(f"{label:<28}{a:10.2f}{g:9.1f}{100 * g / (peak * t):8.1f}{'—':>10}{'—':>9}{'—':>7}")
PY
