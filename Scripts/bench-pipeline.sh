#!/usr/bin/env bash
# Throughput and peak memory of a 2× conversion with `tween --model blend` against ffmpeg's `framerate` filter
# (the same blend) on the same clip, in the same run, with the same encoder settings (libx264, CRF 18, medium
# unless PRESET is set). Prints per-run output frames per second and peak RSS, then the medians.
#   Scripts/bench-pipeline.sh CLIP [RUNS]
set -euo pipefail
clip=$1; runs=${2:-3}; preset=${PRESET:-medium}
tween=${TWEEN:-.build/release/tween}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
frames_out=$(( $(ffprobe -v error -count_packets -select_streams v -show_entries stream=nb_read_packets -of csv=p=0 "$clip") * 2 ))
rate=$(ffprobe -v error -select_streams v -show_entries stream=r_frame_rate -of csv=p=0 "$clip")
measure() {  # name, command...: prints "name fps rss_mb"
    local name=$1; shift
    local t0=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$out/rss" "$@" >/dev/null 2>"$out/err" || { cat "$out/err"; exit 1; }
    local t1=$(date +%s.%N)
    echo "$name $(echo "$frames_out / ($t1 - $t0)" | bc -l | xargs printf %.2f) $(( $(tail -1 "$out/rss") / 1024 ))"
}
for i in $(seq "$runs"); do
    measure tween "$tween" "$clip" -o "$out/t.mp4" --factor 2 --model blend --preset "$preset" -y --quiet
    measure ffmpeg-framerate ffmpeg -v error -y -i "$clip" -vf "framerate=fps=2*$rate:scene=100" -c:v libx264 -crf 18 \
        -preset "$preset" -c:a copy "$out/f.mp4"
done | tee "$out/all"
echo "median over $runs runs ($frames_out output frames, preset $preset): name fps peak_MB"
for n in tween ffmpeg-framerate; do
    echo "$n $(grep "^$n " "$out/all" | awk '{print $2}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') $(grep "^$n " "$out/all" | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
done
