#!/usr/bin/env python3
"""Golden PSNR/SSIM values for the metric tests, computed by scikit-image with PEERS.md's conventions
(8-bit RGB; SSIM with a Gaussian window sigma 1.5, data range 255, population covariance, per channel, averaged).
Run by a developer: pip install scikit-image; python3 Scripts/make_metric_goldens.py"""
import json
import numpy as np
import imageio.v3 as iio
from skimage.metrics import structural_similarity, peak_signal_noise_ratio

root = "Fixtures/triplets/seq/a"
f0, f1, f2 = (iio.imread(f"{root}/frame{i}.png").astype(np.float64) for i in range(3))
# Blend at t = 0.5 the way `tween` does: in float, then rounded to 8 bits.
blend = np.clip(np.round((0.5 * (f0 / 255) + 0.5 * (f2 / 255)) * 255), 0, 255)

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
