#!/usr/bin/env bash
# Scores every checkpoint of a running (or finished) `tween train` on the benchmark sets, so a run's
# quality-versus-steps curve can be rebuilt: each time RUN_DIR/MODEL.safetensors carries a new "steps" value it is
# copied aside and evaluated, and one line is appended to RUN_DIR/checkpoint-evals.log:
#   step 33250  validation PSNR 29.61 | middlebury PSNR 33.03 dB, SSIM 0.9301 | ucf101 PSNR 33.31 dB, SSIM 0.9555
# It stops once no `tween … train … --out RUN_DIR/…` process is left and the last weight file has been scored.
#
# Usage: Scripts/eval-checkpoints.sh RUN_DIR MODEL        (MODEL: a trainable model, e.g. superslomo, sepconv, dvf)
# Environment: TWEEN (the executable, default .build/release/tween), EVAL_SETS (default ../shared/data/middlebury
# and ../shared/data/ucf101), TWEEN_THREADS (eval threads, default 2), POLL (seconds between looks, default 30).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 RUN_DIR MODEL" >&2; exit 2; }
run=${1%/}; model=$2
tween=${TWEEN:-.build/release/tween}
sets=${EVAL_SETS:-"../shared/data/middlebury ../shared/data/ucf101"}
export TWEEN_THREADS=${TWEEN_THREADS:-2}
log=$run/checkpoint-evals.log
snap=$(mktemp -d "${TMPDIR:-/tmp}/tween-evals.XXXXXX")
trap 'rm -rf "$snap"' EXIT
[ -x "$tween" ] || { echo "$0: $tween not found (build with swift build -c release --product tween)" >&2; exit 1; }

# Prints "STEPS VALIDATION" from a safetensors file's metadata.
meta() {
    python3 - "$1" <<'EOF'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    m = json.loads(f.read(n)).get("__metadata__", {})
print(m.get("steps", "?"), m.get("validation_psnr", "?"))
EOF
}

# A resumed run starts from a checkpoint the log may already score: start from the log's last step.
last=$( [ -f "$log" ] && sed -nE 's/^step ([0-9]+) .*/\1/p' "$log" | tail -1 || true)
while :; do
    training=$(pgrep -f -- "train .*--out $run/" || true)
    if [ -f "$run/$model.safetensors" ]; then
        # The trainer replaces the file by renaming, so a copy is always one whole checkpoint.
        rm -rf "$snap/current" && mkdir -p "$snap/current"
        cp "$run/$model.safetensors" "$snap/current/$model.safetensors"
        read -r steps validation < <(meta "$snap/current/$model.safetensors")
        if [ "$steps" != "$last" ]; then
            line="step $steps  validation PSNR $validation"
            for s in $sets; do
                summary=$(nice -n 10 "$tween" eval "$s" --model "$model" --weights-dir "$snap/current" | tail -1)
                psnr=$(sed -E 's/.*PSNR ([0-9.]+) dB.*/\1/' <<<"$summary")
                ssim=$(sed -E 's/.*SSIM ([0-9.]+).*/\1/' <<<"$summary")
                line+=" | $(basename "$s") PSNR $psnr dB, SSIM $ssim"
            done
            echo "$line" | tee -a "$log"
            last=$steps
            continue
        fi
    fi
    [ -z "$training" ] && break
    sleep "${POLL:-30}"
done
