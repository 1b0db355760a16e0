#!/usr/bin/env python3
"""Golden PSNR/SSIM values for the metric tests, computed by scikit-image with docs/BENCHMARKS.md's conventions
(8-bit RGB; SSIM with a Gaussian window sigma 1.5, data range 255, population covariance, per channel, averaged).
Run by a developer: pip install scikit-image; python3 Scripts/make_metric_goldens.py"""
import json
import numpy as np
import imageio.v3 as iio
from skimage.metrics import structural_similarity, peak_signal_noise_ratio

root = "Fixtures/triplets/seq/a"
f0, f1, f2 = (iio.imread(f"{root}/frame{i}.png").astype(np.float64) for i in range(3))
# Blend at t = 0.5 exactly as `tween` computes it: samples scaled by the float32 reciprocal of 255, blended in
# float32, then rounded to 8 bits half away from zero.
def f32(v):
    return v.astype(np.float32) * (np.float32(1) / np.float32(255))
half = np.float32(0.5)
blend32 = half * f32(f0) + half * f32(f2)
blend = np.floor(np.clip(blend32.astype(np.float64), 0, 1) * 255 + 0.5)

def scores(a, b):
    return {
        "psnr": peak_signal_noise_ratio(b, a, data_range=255),
        "ssim": structural_similarity(a, b, data_range=255, channel_axis=2, gaussian_weights=True, sigma=1.5,
                                      use_sample_covariance=False),
    }

out = {"frame0_vs_frame1": scores(f0, f1), "blend_vs_frame1": scores(blend, f1)}
with open("Fixtures/goldens/metrics.json", "w") as f:
    json.dump(out, f, indent=2)
print(json.dumps(out, indent=2))
