#!/usr/bin/env bash
# Ships a trained model: scores the run's weight file with `tween eval` on the benchmark sets and writes it, with
# the scores added to its metadata, to Sources/tween/Weights/MODEL.safetensors (float16, as trained). Where the run
# has a recipe (RUN_DIR/recipe.json) it becomes the file's `recipe` metadata; a command line that stood there before
# recipes existed is kept as `command`.
#   Scripts/ship-weights.sh MODEL [RUN_DIR] [DATA_DIR]   (defaults: runs/MODEL, ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1; run=${2:-runs/$model}; data=${3:-../shared/data}
tween=${TWEEN:-.build/release/tween}
declare -a scores=()
for set in middlebury ucf101; do
    json=$("$tween" eval "$data/$set" --model "$model" --weights-dir "$run" --json)
    scores+=("eval_$set=$(echo "$json" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("PSNR %.2f dB, SSIM %.4f, %.3f s per frame" % (r["psnr"], r["ssim"], r["seconds_per_frame"]))')")
done
python3 - "$run/$model.safetensors" "Sources/tween/Weights/$model.safetensors" "$run/recipe.json" "${scores[@]}" <<'PY'
import json, os, struct, sys
src, dst, recipe, pairs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
blob = open(src, "rb").read()
n = struct.unpack("<Q", blob[:8])[0]
header = json.loads(blob[8:8 + n])
meta = header.setdefault("__metadata__", {})
if os.path.exists(recipe):
    old = meta.get("recipe", "")
    if old and not old.lstrip().startswith("{"):
        meta["command"] = old
    meta["recipe"] = json.dumps(json.load(open(recipe)), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
for p in pairs:
    k, v = p.split("=", 1); meta[k] = v
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
with open(dst + ".partial", "wb") as f:
    f.write(struct.pack("<Q", len(text))); f.write(text); f.write(blob[8 + n:])
os.replace(dst + ".partial", dst)
for k in sorted(meta): print(f"  {k}: {meta[k]}")
print(f"wrote {dst}")
PY
