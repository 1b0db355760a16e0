#!/usr/bin/env python3
"""How much of a model's error on each triplet lies where the motion is beyond a kernel's reach.

SepConv's K-tap kernels reach ±(K − 1)/2 px (±12 for the shipped K = 25). Whether a longer kernel (the paper's 51
taps) would help is bounded by the error in the pixels that move further than that. For each triplet this runs
`tween` on the first and last frame (a PNG folder, factor 2), takes the middle frame it writes, and marks the pixels
whose displacement to the middle frame, half of OpenCV DIS's flow (preset medium) from the first frame to the last
or from the last to the first (the larger of the two at each pixel, so both where a moving thing starts and where
it ends count), exceeds the reach. It prints the share of pixels marked, the share of the squared error that lies
in them, the model's PSNR, and the PSNR it would have if the marked pixels had the mean error of the rest: an upper
bound on what more reach alone could buy. PSNR as in docs/BENCHMARKS.md: 8-bit RGB, MSE over all pixels and channels.

Needs `pip install opencv-python-headless numpy` and a built tween (benchmarks only; no test uses it). Reads the
frames where they are; the copies `tween` needs as input live in a temporary folder that is removed.
Usage: Scripts/research/kernel_reach.py DIR [--model sepconv] [--reach 12 [R ...]] [--tween .build/release/tween] [--weights-dir D]
  e.g. Scripts/research/kernel_reach.py ../shared/data/middlebury --model sepconv --reach 12
With several reaches (AdaConv's 21 and 41 taps: --reach 10 20) the model runs once and each reach gets its columns.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import cv2
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from peers_per_sequence import triplets  # noqa: E402


def psnr(mse):
    return 10 * np.log10(255.0 ** 2 / mse)


def middle_frame(tween, model, weights_dir, first, last, work):
    """The frame `tween` puts between `first` and `last` at factor 2 (its second output frame)."""
    source, out = os.path.join(work, "in"), os.path.join(work, "out")
    for d in (source, out):
        shutil.rmtree(d, ignore_errors=True)
    os.makedirs(source)
    shutil.copyfile(first, os.path.join(source, "000000.png"))
    shutil.copyfile(last, os.path.join(source, "000001.png"))
    command = [tween, source, "-o", out + "/", "--factor", "2", "--model", model]
    if weights_dir:
        command += ["--weights-dir", weights_dir]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(done.stderr.strip() or f"{tween} failed on {first}")
    frames = sorted(os.listdir(out))
    return cv2.imread(os.path.join(out, frames[1]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir")
    parser.add_argument("--model", default="sepconv")
    parser.add_argument("--reach", type=float, nargs="+", default=[12], help="px; (K − 1) / 2 for K taps")
    parser.add_argument("--tween", default=".build/release/tween")
    parser.add_argument("--weights-dir")
    args = parser.parse_args()
    if not os.access(args.tween, os.X_OK):
        sys.exit(f"{args.tween}: not found (build it with swift build -c release --product tween)")

    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    reaches = args.reach
    head = " | ".join(f"beyond ±{r:g} px | share of squared error | bound ±{r:g}" for r in reaches)
    print(f"| sequence | {args.model} | {head} |")
    print("|---|---|" + "---|---|---|" * len(reaches))
    totals = []
    with tempfile.TemporaryDirectory() as work:
        for name, (first, middle, last) in triplets(args.dir):
            f0, f1 = cv2.imread(first), cv2.imread(last)
            truth = cv2.imread(middle).astype(np.float64)
            g0, g1 = (cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in (f0, f1))
            half = np.maximum(np.linalg.norm(dis.calc(g0, g1, None), axis=2),
                              np.linalg.norm(dis.calc(g1, g0, None), axis=2)) / 2
            frame = middle_frame(args.tween, args.model, args.weights_dir, first, last, work)
            error = ((frame.astype(np.float64) - truth) ** 2).mean(axis=2)
            row, scores = [], [psnr(error.mean())]
            for reach in reaches:
                far = half > reach
                bounded = error.copy()
                if far.any() and not far.all():
                    bounded[far] = error[~far].mean()
                share = error[far].sum() / error.sum()
                scores.append(psnr(bounded.mean()))
                row.append(f"{far.mean() * 100:.2f}% | {share * 100:.1f}% | {scores[-1]:.2f}")
            totals.append(scores)
            print(f"| {name} | {scores[0]:.2f} | " + " | ".join(row) + " |")
    means = [float(np.mean(c)) for c in zip(*totals)]
    print(f"| mean | {means[0]:.2f} | " + " | ".join(f" | | {m:.2f}" for m in means[1:]) + " |")


if __name__ == "__main__":
    main()
