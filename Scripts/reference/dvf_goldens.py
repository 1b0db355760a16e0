#!/usr/bin/env python3
"""Parity goldens for Tween's Deep Voxel Flow, from the reference implementation in this folder (dvf.py).

Small seeded random weights (widths 4, 8, 8, 8, 8, 4), with random batch-norm statistics so that inference-mode
normalisation matters, and the output layer scaled up so that the voxel flow moves pixels; a flow scale of 16 px
(carried in the metadata, as a weight file does). Written to Fixtures/goldens/dvf_small.safetensors with two
frames, the voxel flow and the frames at t = 0.5 and 0.3 in inference mode, and the voxel flow of a batch of two
(the pair and the pair swapped) in training mode, where batch norm uses the batch's statistics. DVF has no public
checkpoint to convert: the weights are stored under the release's slim names directly. The same for the multi-scale
network (three scales, widths 4, 4, 8, 8, 4, 4, frames 64 x 96) in Fixtures/goldens/dvf_multiscale_small.safetensors.
Run by a developer: pip install torch safetensors && python3 Scripts/reference/dvf_goldens.py
"""
import os, sys
import torch
from safetensors.torch import save_file
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvf

torch.manual_seed(0)
h, w = 48, 64
ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
def frame(dx, dy):
    return torch.stack([0.5 + 0.4 * torch.sin((xs - dx) / 7 + c) * torch.cos((ys - dy) / 9 - c) for c in range(3)])[None]
img0, img1 = frame(0, 0), frame(3, 1)

def goldens(net, img0, img1, flow_scale, path):
    with torch.no_grad():
        for name, m in net.named_modules():
            if isinstance(m, dvf.SlimBatchNorm):
                m.beta.uniform_(-0.2, 0.2)
                m.moving_mean.uniform_(-0.3, 0.3)
                m.moving_variance.uniform_(0.5, 1.5)
        net.conv7.weights.mul_(8)
        net.conv7.biases.copy_(torch.tensor([0.2, -0.1, 0.1]))
    tensors = {f"weights.{k}": v.clone().contiguous() for k, v in net.state_dict().items()}
    with torch.no_grad():
        net.eval()
        voxel = net(img0, img1)
        tensors.update({"img0": img0, "img1": img1, "out.voxel": voxel.contiguous()})
        for t in (0.5, 0.3):
            tensors[f"out.t{t}.frame"] = dvf.sample(img0, img1, voxel, flow_scale, t).contiguous()
        net.train()
        tensors["out.train.voxel"] = net(torch.cat([img0, img1]), torch.cat([img1, img0])).contiguous()
        print(path, "DVF displacement, mean |D| px:", float((voxel[:, :2] * flow_scale).abs().mean()),
              "weight of frame 0:", float(((voxel[:, 2] + 1) / 2).mean()))
    save_file(tensors, path, metadata={"source": "Scripts/reference/dvf.py, seed 0", "flow_scale_px": str(flow_scale)})


flow_scale = 16.0
goldens(dvf.DVF((4, 8, 8, 8, 8, 4), flow_scale), img0, img1, flow_scale, "Fixtures/goldens/dvf_small.safetensors")
h, w = 64, 96
ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
goldens(dvf.DVF((4, 4, 8, 8, 4, 4), flow_scale, scales=3), frame(0, 0), frame(5, 2), flow_scale,
        "Fixtures/goldens/dvf_multiscale_small.safetensors")
