#!/usr/bin/env python3
"""Writes Fixtures/goldens/engine.json: small inputs and PyTorch's outputs (and input gradients for a fixed
upstream gradient) for the engine's operations. Run by a developer with PyTorch's CPU wheel:
    pip install torch && python3 Scripts/make_goldens.py
The tests read the JSON only; they never need PyTorch."""
import json
import torch
import torch.nn.functional as F

torch.manual_seed(0)
cases = []

def rnd(*shape, scale=1.0):
    return (torch.rand(*shape, dtype=torch.float64) * 2 - 1).float() * scale

def add(name, op, inputs, params=None):
    ts = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    out = op(**ts)
    up = rnd(*out.shape)
    (out * up).sum().backward()
    cases.append({
        "name": name, "params": params or {},
        "inputs": {k: {"shape": list(v.shape), "data": v.flatten().tolist()} for k, v in inputs.items()},
        "output": {"shape": list(out.shape), "data": out.detach().flatten().tolist()},
        "upstream": up.flatten().tolist(),
        "grads": {k: t.grad.flatten().tolist() for k, t in ts.items()},
    })

x = rnd(2, 3, 7, 9)
w = rnd(4, 3, 3, 3, scale=0.5)
b = rnd(4)
add("conv3x3_pad1", lambda x, w, b: F.conv2d(x, w, b, padding=1), {"x": x, "w": w, "b": b}, {"stride": 1, "padding": 1})
add("conv3x3_stride2", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), {"x": x, "w": w, "b": b}, {"stride": 2, "padding": 1})
add("conv3x3_dilation2", lambda x, w: F.conv2d(x, w, padding=2, dilation=2), {"x": x, "w": w}, {"padding": 2, "dilation": 2})
add("conv3x3_reflect", lambda x, w: F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), w), {"x": x, "w": w}, {"padding": 1, "mode": "reflect"})
add("conv3x3_replicate", lambda x, w: F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), w), {"x": x, "w": w}, {"padding": 1, "mode": "replicate"})
wg = rnd(6, 1, 3, 3, scale=0.5)
xg = rnd(1, 6, 5, 8)
add("conv_groups", lambda x, w: F.conv2d(x, w, padding=1, groups=6), {"x": xg, "w": wg}, {"padding": 1, "groups": 6})
xt = rnd(1, 4, 5, 6)
wt = rnd(4, 3, 4, 4, scale=0.5)
bt = rnd(3)
add("deconv4x4_s2", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1), {"x": xt, "w": wt, "b": bt}, {"stride": 2, "padding": 1})
xs = rnd(1, 2, 5, 6)
grid = rnd(1, 4, 5, 2, scale=1.2)
for align in (True, False):
    for pad in ("zeros", "border"):
        add(f"grid_sample_{pad}_align{int(align)}",
            lambda x, grid, a=align, p=pad: F.grid_sample(x, grid, mode="bilinear", padding_mode=p, align_corners=a),
            {"x": xs, "grid": grid}, {"align_corners": align, "padding": pad})
xp = rnd(1, 2, 6, 8)
add("avg_pool2", lambda x: F.avg_pool2d(x, 2), {"x": xp})
add("max_pool2", lambda x: F.max_pool2d(x, 2), {"x": xp})
for align in (True, False):
    add(f"bilinear_7x11_align{int(align)}", lambda x, a=align: F.interpolate(x, size=(7, 11), mode="bilinear", align_corners=a),
        {"x": xp}, {"align_corners": align})
    add(f"bilinear_up2_align{int(align)}", lambda x, a=align: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=a),
        {"x": xp}, {"align_corners": align})
add("nearest_7x11", lambda x: F.interpolate(x, size=(7, 11), mode="nearest"), {"x": xp})
add("pixel_shuffle2", lambda x: F.pixel_shuffle(x, 2), {"x": rnd(1, 8, 3, 4)})
xb = rnd(2, 3, 4, 5) * 2 + 0.5
add("batch_norm_train", lambda x, weight, bias: F.batch_norm(x, None, None, weight, bias, training=True, eps=1e-5),
    {"x": xb, "weight": rnd(3) + 1.5, "bias": rnd(3)})
add("softmax_channels", lambda x: F.softmax(x, dim=1), {"x": rnd(2, 4, 3, 3) * 3})
add("prelu", lambda x, weight: F.prelu(x, weight), {"x": rnd(1, 3, 4, 4), "weight": rnd(3) * 0.5})
add("pad_reflect", lambda x: F.pad(x, (2, 1, 1, 2), mode="reflect"), {"x": rnd(1, 2, 4, 5)})

with open("Fixtures/goldens/engine.json", "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f)
print(f"{len(cases)} cases from torch {torch.__version__}")
