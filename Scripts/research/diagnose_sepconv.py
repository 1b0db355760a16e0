"""What a SepConv weight file's kernels do on benchmark triplets: whether they compensate motion or only blend.

For each sequence it prints the model's and blend's PSNR, then per head (Vertical1, Horizontal1, Vertical2,
Horizontal2) the 1-D kernel's sum (mean, spread across the frame), its centre of mass Σ (i − r)·kᵢ / Σ kᵢ in
pixels, the median spread of its taps about that centre, and the mean negative mass; then the mean kernel profile,
and which ReLU channels of the heads and of the decoder are alive. A motion-compensating model has centres that
follow the scene's motion (several pixels on Grove2 or Urban2) and sharp (spread < 1 px) kernels; a model that
only blends has near-constant centres and sums.

    python3 Scripts/research/diagnose_sepconv.py [--weights Sources/tween/Weights/sepconv.safetensors] [--against-dis] \
        ../shared/data/middlebury/Dimetrodon ../shared/data/middlebury/Grove2

With --against-dis it also compares the first frame's kernel centres with half of OpenCV DIS's flow (preset medium)
from the first frame to the last, the displacement to the middle frame, in bands of that displacement's length: the
band's share of pixels and of squared error, and the mean |centre| against the mean |DIS| (needs opencv-python).

Needs PyTorch, safetensors, numpy and Pillow (diagnostics only; nothing in the build or tests uses it). Reads the
frames from where they are and copies nothing."""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import load_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from sepconv import SepConv  # noqa: E402

HEADS = ("Vertical1", "Horizontal1", "Vertical2", "Horizontal2")


def load_model(path):
    weights = {k: v.float() for k, v in load_file(path).items()}
    widths = tuple(weights[f"moduleConv{i}.0.weight"].shape[0] for i in range(1, 6))
    model = SepConv(widths=widths, subnet_width=weights["moduleVertical1.0.weight"].shape[0],
                    kernel=weights["moduleVertical1.7.weight"].shape[0])
    model.load_state_dict(weights)
    return model.eval()


def read(path):
    return torch.from_numpy(np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255).permute(2, 0, 1)[None]


def triplet(folder):
    names = sorted(os.listdir(folder))
    middle = [n for n in names if "i" in os.path.splitext(n)[0][5:]] or [names[1]]
    outer = [n for n in names if n not in middle]
    return read(os.path.join(folder, outer[0])), read(os.path.join(folder, middle[0])), read(os.path.join(folder, outer[1]))


def alive(x):
    """Channels with more than 1% positive activations, and the mean activation."""
    fraction = (x > 0).float().mean((0, 2, 3))
    return f"{int((fraction > 0.01).sum())}/{len(fraction)} alive, mean {x.mean().item():.3f}"


def diagnose(model, folder):
    a, truth, b = triplet(folder)
    h, w = a.shape[2:]
    pad = [0, (32 - w % 32) % 32, 0, (32 - h % 32) % 32]
    ap, bp = F.pad(a, pad, mode="replicate"), F.pad(b, pad, mode="replicate")
    m = model
    with torch.no_grad():
        c1 = m.moduleConv1(torch.cat([ap, bp], 1))
        c2 = m.moduleConv2(F.avg_pool2d(c1, 2))
        c3 = m.moduleConv3(F.avg_pool2d(c2, 2))
        c4 = m.moduleConv4(F.avg_pool2d(c3, 2))
        c5 = m.moduleConv5(F.avg_pool2d(c4, 2))
        d5 = m.moduleUpsample5(m.moduleDeconv5(F.avg_pool2d(c5, 2)))
        d4 = m.moduleUpsample4(m.moduleDeconv4(d5 + c5))
        d3 = m.moduleUpsample3(m.moduleDeconv3(d4 + c4))
        d2 = m.moduleUpsample2(m.moduleDeconv2(d3 + c3))
        combined = d2 + c2
        kernels = {n: getattr(m, "module" + n)(combined)[0, :, :h, :w] for n in HEADS}
        out = m(ap, bp)[:, :, :h, :w]
    psnr = lambda x: -10 * torch.log10(((x.clamp(0, 1) - truth) ** 2).mean()).item()
    print(f"{os.path.basename(folder.rstrip('/'))}: model {psnr(out):.2f} dB, blend {psnr((a + b) / 2):.2f} dB")
    k = m.kernel
    offsets = (torch.arange(k).float() - k // 2)[:, None, None]
    centres = {}
    for name, kern in kernels.items():
        total = kern.sum(0)
        centre = centres[name] = (kern * offsets).sum(0) / total
        spread = ((kern * (offsets - centre) ** 2).sum(0) / total).clamp(min=0).sqrt()
        print(f"  {name:11s} sum {total.mean():+.3f} (sd {total.std():.3f})  centre {centre.mean():+.2f} px "
              f"(|centre| {centre.abs().mean():.2f}, sd {centre.std():.2f})  spread median {spread.median():.2f} px  "
              f"negative mass {kern.clamp(max=0).sum(0).mean():+.3f}")
        print("    mean profile", " ".join(f"{v:+.2f}" for v in kern.mean((1, 2)).tolist()))
    with torch.no_grad():
        for name in HEADS:
            x, report = combined, []
            for layer in getattr(m, "module" + name):
                x = layer(x)
                if isinstance(layer, torch.nn.ReLU):
                    report.append(alive(x))
            print(f"  {name:11s} ReLUs: " + "; ".join(report))
    # Dead levels waste capacity: a level whose ReLUs never fire passes nothing on and gets no gradient.
    print("  encoder " + "; ".join(f"c{i + 1}: {alive(x)}" for i, x in enumerate((c1, c2, c3, c4, c5))))
    print("  decoder " + "; ".join(f"{n}: {alive(x)}" for n, x in (("d5 (moduleUpsample5)", d5), ("d4", d4),
                                                                     ("d3", d3), ("d2", d2))))
    return a, truth, b, out, {name: centre.numpy() for name, centre in centres.items()}


def against_dis(a, truth, b, out, centres):
    """Where the first frame's kernels point, against DIS's displacement to the middle frame (−flow / 2: the middle
    frame's pixel p shows the first frame's p − u/2), by bands of that displacement's length."""
    import cv2
    gray = lambda x: cv2.cvtColor((x[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8), cv2.COLOR_RGB2GRAY)
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(gray(a), gray(b), None)
    tx, ty = -flow[..., 0] / 2, -flow[..., 1] / 2
    length = np.hypot(tx, ty)
    error = ((out.clamp(0, 1) - truth) ** 2).mean(1)[0].numpy()
    for lo, hi in ((0, 1), (1, 3), (3, 6), (6, 9), (9, 13), (13, np.inf)):
        band = (length >= lo) & (length < hi)
        if not band.any():
            continue
        h, v = centres["Horizontal1"][band], centres["Vertical1"][band]
        print(f"  DIS {lo:>2}-{hi:<3} px: {band.mean() * 100:5.1f}% of pixels, {error[band].sum() / error.sum() * 100:5.1f}% of "
              f"squared error; |centre| x {np.abs(h).mean():.2f} against DIS {np.abs(tx[band]).mean():.2f}, "
              f"y {np.abs(v).mean():.2f} against {np.abs(ty[band]).mean():.2f}; |difference| x "
              f"{np.abs(h - tx[band]).mean():.2f}, y {np.abs(v - ty[band]).mean():.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", default="Sources/tween/Weights/sepconv.safetensors")
    parser.add_argument("--against-dis", action="store_true", help="compare the kernel centres with DIS's flow")
    parser.add_argument("folders", nargs="+", help="triplet folders (three frames each, the middle one named like frame10i11)")
    args = parser.parse_args()
    model = load_model(args.weights)
    for folder in args.folders:
        measured = diagnose(model, folder)
        if args.against_dis:
            against_dis(*measured)


if __name__ == "__main__":
    main()
