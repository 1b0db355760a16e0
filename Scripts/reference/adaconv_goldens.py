#!/usr/bin/env python3
"""Parity goldens for Tween's AdaConv, from the patch-by-patch reference in this folder (adaconv.py).

Small seeded random weights (widths 4, 4, 8, 8, conv5 8, K = 5), random batch-norm statistics so that inference-mode
normalisation matters, and conv6 scaled up so that the kernels are far from uniform. Frames 20 × 24 (480 patches of
79 × 79). Written to Fixtures/goldens/adaconv_small.safetensors: the weights, both frames, every pixel's kernels
and the frame, in inference mode. Tween evaluates the same network densely (dilated, one pass); the test compares.
Run by a developer: pip install torch safetensors && python3 Scripts/reference/adaconv_goldens.py
"""
import os, sys
import torch
from safetensors.torch import save_file
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adaconv

torch.manual_seed(0)
h, w = 20, 24
ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
def frame(dx, dy):
    return torch.stack([0.5 + 0.4 * torch.sin((xs - dx) / 3 + c) * torch.cos((ys - dy) / 4 - c) for c in range(3)])[None]
img0, img1 = frame(0, 0), frame(2, 1)

net = adaconv.AdaConv(widths=(4, 4, 8, 8), head=8, kernel=5)
with torch.no_grad():
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.uniform_(0.5, 1.5); m.bias.uniform_(-0.2, 0.2)
            m.running_mean.uniform_(-0.3, 0.3); m.running_var.uniform_(0.5, 1.5)
    net.conv6.weight.mul_(20)
net.eval()
with torch.no_grad():
    frame_out, kernels = adaconv.interpolate(net, img0, img1)
state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
tensors = {f"weights.{k}": v.clone().contiguous() for k, v in state.items()}
tensors.update({"img0": img0, "img1": img1, "out.kernels": kernels.contiguous(), "out.frame": frame_out.contiguous()})
print("largest tap per pixel, mean:", float(kernels.max(1).values.mean()), "frame range:", float(frame_out.min()), float(frame_out.max()))
save_file(tensors, "Fixtures/goldens/adaconv_small.safetensors", metadata={"source": "Scripts/reference/adaconv.py, seed 0"})
