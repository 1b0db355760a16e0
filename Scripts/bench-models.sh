#!/usr/bin/env bash
# Whole-conversion speed of Tween's models against ffmpeg `minterpolate` on the same clip, in the same run: a 2×
# conversion at 480p, 720p and 1080p (the clip scaled to each size, SECONDS long), libx264 CRF 18 preset medium for
# every method. Prints output frames per second (passed-through frames included) and peak RSS; medians of RUNS.
#   Scripts/bench-models.sh CLIP [RUNS] [SECONDS] [MODELS...]   (default models: superslomo sepconv)
# Environment: TWEEN (the executable), SIZES (default "854x480 1280x720 1920x1080"), TWEEN_THREADS, TWEEN_ARGS (more
# options for every tween run, e.g. "--scale 0.5").
set -euo pipefail
clip=$1; runs=${2:-3}; seconds=${3:-2}; shift $(( $# < 3 ? $# : 3 )); models=${*:-superslomo sepconv}
tween=${TWEEN:-.build/release/tween}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
measure() {  # label, frames, command...: prints "label fps rss_mb"
    local label=$1 frames=$2; shift 2
    local t0=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$work/rss" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
    local t1=$(date +%s.%N)
    echo "$label $(echo "$frames / ($t1 - $t0)" | bc -l | xargs printf %.2f) $(( $(tail -1 "$work/rss") / 1024 ))"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for size in ${SIZES:-854x480 1280x720 1920x1080}; do
    src="$work/src-$size.mkv"
    ffmpeg -v error -i "$clip" -t "$seconds" -vf "scale=${size/x/:},fps=25" -an -c:v ffv1 "$src"
    frames=$(( $(ffprobe -v error -count_packets -select_streams v -show_entries stream=nb_read_packets -of csv=p=0 "$src") * 2 ))
    for i in $(seq "$runs"); do
        for m in $models; do
            measure "$size $m" "$frames" "$tween" "$src" -o "$work/t.mp4" --factor 2 --model "$m" --crf 18 --preset medium -y --quiet ${TWEEN_ARGS:-}
        done
        measure "$size minterpolate" "$frames" ffmpeg -v error -y -i "$src" \
            -vf "minterpolate=fps=50:mi_mode=mci:mc_mode=aobmc:me_mode=bidir:vsbmc=1" -c:v libx264 -crf 18 -preset medium "$work/f.mp4"
    done > "$work/all-$size"
    for m in $models minterpolate; do
        printf "%-10s %-13s %8s fps  peak %6s MB\n" "$size" "$m" "$(grep "^$size $m " "$work/all-$size" | awk '{print $3}' | median)" \
            "$(grep "^$size $m " "$work/all-$size" | awk '{print $4}' | median)"
    done
done
