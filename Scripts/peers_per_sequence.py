#!/usr/bin/env python3
"""Per-triplet PSNR of the two non-learned peers in docs/BENCHMARKS.md beside Tween's models, to see where a model loses.

docs/BENCHMARKS.md gives only means; a mean hides whether a model loses on large motion, on fine texture or everywhere. This
scores each triplet of a benchmark folder with
  - ffmpeg minterpolate, mi_mode=mci, default options (the ffmpeg command on two frames at 1 fps, output at 2 fps;
    the last frame is repeated so that the filter emits the middle one), and
  - OpenCV DIS optical flow, preset medium, both directions, each frame warped backward by half its flow and the two
    averaged (docs/BENCHMARKS.md's "bidirectional warp and blend"),
and prints a Markdown table with any `tween eval DIR --json` outputs given beside them. PSNR follows docs/BENCHMARKS.md: 8-bit
RGB, MSE over all pixels and channels, peak 255. Its means reproduce docs/BENCHMARKS.md's within 0.1 dB (33.17 and 34.12
against 33.17 and 34.18 on Middlebury).

Needs the ffmpeg command and `pip install opencv-python-headless numpy` (benchmarks only; no test uses it).
Usage: Scripts/peers_per_sequence.py DIR [NAME=EVAL.json ...]
  e.g. tween eval ../shared/data/middlebury --model sepconv --json > /tmp/sepconv.json
       Scripts/peers_per_sequence.py ../shared/data/middlebury sepconv=/tmp/sepconv.json
"""
import json
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np


def triplets(root):
    """(name, [first, middle, last]) for each sub-folder, frames in name order as `tween eval` reads them."""
    for name in sorted(os.listdir(root)):
        folder = os.path.join(root, name)
        if not os.path.isdir(folder):
            continue
        frames = sorted(f for f in os.listdir(folder) if f.lower().endswith(".png"))
        if len(frames) != 3:
            sys.exit(f"{folder}: expected 3 PNG frames, found {len(frames)}")
        yield name, [os.path.join(folder, f) for f in frames]


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0**2 / mse)


def minterpolate(first, last):
    with tempfile.TemporaryDirectory() as work:
        for i, path in enumerate((first, last)):
            os.symlink(os.path.abspath(path), os.path.join(work, f"in{i}.png"))
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-framerate", "1", "-i", os.path.join(work, "in%d.png"),
             "-vf", "tpad=stop_mode=clone:stop=2,minterpolate=fps=2:mi_mode=mci", "-frames:v", "3",
             os.path.join(work, "out%d.png")],
            check=True)
        # Output frames are numbered from 1: out1 = first, out2 = t 0.5, out3 = last.
        return cv2.imread(os.path.join(work, "out2.png"))


def dis_warp_blend(first, last, flow_estimator):
    a, b = cv2.imread(first), cv2.imread(last)
    ga, gb = (cv2.cvtColor(x, cv2.COLOR_BGR2GRAY) for x in (a, b))
    flow_ab, flow_ba = flow_estimator.calc(ga, gb, None), flow_estimator.calc(gb, ga, None)
    h, w = ga.shape
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))

    def warp(image, flow):
        return cv2.remap(image, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE).astype(np.float32)

    # The middle frame's pixel x came from x + F(t→0) ≈ x + ½·F(1→0) in the first frame, and likewise.
    middle = (warp(a, 0.5 * flow_ba) + warp(b, 0.5 * flow_ab)) / 2
    return np.clip(middle + 0.5, 0, 255).astype(np.uint8)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    models = {}
    for arg in sys.argv[2:]:
        name, _, path = arg.partition("=")
        with open(path) as f:
            models[name] = {item["name"]: item["psnr"] for item in json.load(f)["items"]}
    flow_estimator = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    columns = ["minterpolate", "DIS"] + list(models)
    print("| sequence | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    sums = np.zeros(len(columns))
    count = 0
    for name, (first, middle, last) in triplets(root):
        truth = cv2.imread(middle)
        row = [psnr(minterpolate(first, last), truth), psnr(dis_warp_blend(first, last, flow_estimator), truth)]
        for scores in models.values():
            if name not in scores:
                sys.exit(f"{name}: missing from a tween eval output")
            row.append(scores[name])
        sums += row
        count += 1
        print(f"| {name} | " + " | ".join(f"{x:.2f}" for x in row) + " |")
    print("| mean | " + " | ".join(f"{x / count:.2f}" for x in sums) + " |")


if __name__ == "__main__":
    main()
