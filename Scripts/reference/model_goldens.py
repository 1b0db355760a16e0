#!/usr/bin/env python3
"""Parity goldens for Tween's Super SloMo and SepConv, from the reference implementations in this folder.

For each model: small seeded random weights are saved as an official-format PyTorch checkpoint (the port's
SuperSloMo.ckpt dict; SepConv's B, G, R state dict), converted with Scripts/convert_checkpoint.py, and written to
Fixtures/goldens/<model>_small.safetensors together with two input frames and the reference's outputs. The Swift
tests load the converted weights, so they check the converter as well as the model.
Run by a developer: pip install torch && python3 Scripts/reference/model_goldens.py
"""
import os, subprocess, sys, tempfile
import torch
from safetensors.torch import load_file, save_file
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from superslomo import SuperSloMo, MEAN
from sepconv import SepConv

torch.manual_seed(0)
out_dir = "Fixtures/goldens"
work = tempfile.mkdtemp()
h, w = 64, 96
ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
def frame(dx, dy):
    return torch.stack([0.5 + 0.4 * torch.sin((xs - dx) / 7 + c) * torch.cos((ys - dy) / 9 - c) for c in range(3)])[None]
img0, img1 = frame(0, 0), frame(3, 1)

def convert(model, ckpt):
    out = f"{work}/{model}.safetensors"
    subprocess.run([sys.executable, "Scripts/convert_checkpoint.py", model, ckpt, out, "--source", "model_goldens.py"], check=True)
    return load_file(out)

# Super SloMo, widths 4…16; the flow head is scaled up so the flows are several pixels and the warps matter.
net = SuperSloMo((4, 8, 8, 16, 16, 16)).eval()
with torch.no_grad():
    net.state_dictFC.conv3.weight.mul_(40); net.state_dictFC.conv3.bias.add_(torch.tensor([1.5, -0.5, -1.5, 0.5]))
    net.state_dictAT.conv3.weight.mul_(5)
ckpt = f"{work}/SuperSloMo.ckpt"
torch.save({"Detail": "Tween parity golden", "epoch": 0, "state_dictFC": net.state_dictFC.state_dict(),
            "state_dictAT": net.state_dictAT.state_dict()}, ckpt)
tensors = {f"weights.{k}": v for k, v in convert("superslomo", ckpt).items()}
mean = torch.tensor(MEAN).view(1, 3, 1, 1)
with torch.no_grad():
    f01, f10 = net.flows(img0 - mean, img1 - mean)
    tensors.update({"img0": img0, "img1": img1, "out.f01": f01.contiguous(), "out.f10": f10.contiguous()})
    for t in (0.5, 0.3):
        s = net.synthesise(img0 - mean, img1 - mean, f01, f10, t)
        tensors[f"out.t{t}.frame"] = (s["frame"] + mean).contiguous()
        tensors[f"out.t{t}.flowT0"] = s["flowT0"].contiguous()
    print("Super SloMo flow magnitude:", float(f01.abs().mean()), float(tensors["out.t0.5.flowT0"].abs().mean()))
save_file(tensors, f"{out_dir}/superslomo_small.safetensors", metadata={"source": "Scripts/reference/superslomo.py, seed 0"})

# SepConv, widths 4…16, kernel heads 8 wide, K = 7; saved B, G, R as the official file is.
net = SepConv((4, 8, 8, 16, 16), 8, 7).eval()
with torch.no_grad():
    for name in ("moduleVertical1", "moduleVertical2", "moduleHorizontal1", "moduleHorizontal2"):
        getattr(net, name)[7].bias.add_(0.1)     # 1-D kernels summing to about one, as trained ones do
state = {k: v.clone() for k, v in net.state_dict().items()}
state["moduleConv1.0.weight"] = state["moduleConv1.0.weight"][:, [2, 1, 0, 5, 4, 3]].contiguous()
ckpt = f"{work}/network-l1.pytorch"
torch.save(state, ckpt)
tensors = {f"weights.{k}": v for k, v in convert("sepconv", ckpt).items()}
with torch.no_grad():
    tensors.update({"img0": img0, "img1": img1, "out.frame": net(img0, img1).contiguous()})
    print("SepConv output mean:", float(tensors["out.frame"].mean()))
save_file(tensors, f"{out_dir}/sepconv_small.safetensors", metadata={"source": "Scripts/reference/sepconv.py, seed 0"})
