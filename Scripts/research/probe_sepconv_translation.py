"""How fast can the compact SepConv learn motion at all? A probe on the simplest motion there is.

Triplets are crops of the training photos moved by one global integer translation (even, up to ±R px on each axis,
so the middle frame is exact), so a perfect answer exists and any failure is the network's or the optimiser's, not
the data's. It trains the reference SepConv (Scripts/reference/sepconv.py) with Adam and an L1 loss for a fixed
wall-clock time and prints the validation PSNR (32 fixed crops) every 100 steps.

--decoder-start replaces each kernel head's last two convolutions by a fixed "displacement decoder": the head's
second ReLU channel 0 carries α·(d + r), the third convolution turns it into ramps relu(α(d + r) − αj) and the last
one into a bilinear tap pair of weight √½ at d, so the trunk only has to regress one displacement per head (as
Super SloMo's flow network does), supervised by an L1 on d (weight --displacement-loss, pixels).
--freeze-decoder keeps those two layers fixed.

    python3 Scripts/research/probe_sepconv_translation.py --start Sources/tween/Weights/sepconv.safetensors --seconds 240
    python3 Scripts/research/probe_sepconv_translation.py --start random --width 16 --seconds 240

Needs PyTorch, safetensors, numpy, Pillow and the photos of Scripts/fetch-training-media.sh (diagnostics only)."""
import argparse
import glob
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import load_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import sepconv as reference  # noqa: E402

HEADS = ("moduleHorizontal1", "moduleVertical1", "moduleHorizontal2", "moduleVertical2")


def separable_local_conv(padded, vertical, horizontal):
    """The reference's filter, one kernel row at a time (the same sum, far less memory than one unfold)."""
    k, h, _ = vertical.shape[1:]
    out = 0
    for i in range(k):
        rows = padded[:, :, i:i + h, :].unfold(3, k, 1)
        out = out + torch.einsum("nchwk,nkhw->nchw", rows, horizontal) * vertical[:, i:i + 1]
    return out


class Translations:
    def __init__(self, photos, crop, reach, seed):
        self.photos = [p for p in photos if min(p.shape[:2]) >= crop + 2 * reach + 4]
        self.crop, self.reach, self.rng = crop, reach, np.random.default_rng(seed)

    def batch(self, n):
        c, r, out = self.crop, self.reach, ([], [], [], [])
        for _ in range(n):
            p = self.photos[self.rng.integers(len(self.photos))]
            dx, dy = 2 * self.rng.integers(-r // 2, r // 2 + 1, size=2)
            y, x = self.rng.integers(r + 1, p.shape[0] - c - r - 1), self.rng.integers(r + 1, p.shape[1] - c - r - 1)
            out[0].append(p[y:y + c, x:x + c])
            out[1].append(p[y + dy // 2:y + dy // 2 + c, x + dx // 2:x + dx // 2 + c])
            out[2].append(p[y + dy:y + dy + c, x + dx:x + dx + c])
            out[3].append([dx / 2, dy / 2, -dx / 2, -dy / 2])  # tap offsets of h1, v1, h2, v2 (head order)
        image = lambda frames: torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).contiguous()
        return image(out[0]), image(out[1]), image(out[2]), torch.tensor(out[3], dtype=torch.float32)


def start_decoder(model, alpha):
    k, r, s = model.kernel, model.kernel // 2, 0.5 ** 0.5 / alpha
    with torch.no_grad():
        for name in HEADS:
            head = getattr(model, name)
            head[2].bias[0] = r * alpha
            head[2].weight[0] *= 0.1
            head[4].weight.zero_(); head[4].bias.zero_()
            for j in range(k):
                head[4].weight[j, 0, 1, 1] = 1
                head[4].bias[j] = -j * alpha
            head[7].weight.zero_(); head[7].bias.zero_()
            for i in range(k):  # tap i = s·(R(i−1) − 2R(i) + R(i+1)), R(−1) = R(0) + α, R(k) = 0
                if i >= 1:
                    head[7].weight[i, i - 1, 1, 1] += s
                else:
                    head[7].weight[i, 0, 1, 1] += s
                    head[7].bias[i] += s * alpha
                head[7].weight[i, i, 1, 1] -= 2 * s
                if i + 1 < k:
                    head[7].weight[i, i + 1, 1, 1] += s


def forward(model, a, b, alpha):
    m, r = model, model.kernel // 2
    c1 = m.moduleConv1(torch.cat([a, b], 1))
    c2 = m.moduleConv2(F.avg_pool2d(c1, 2))
    c3 = m.moduleConv3(F.avg_pool2d(c2, 2))
    c4 = m.moduleConv4(F.avg_pool2d(c3, 2))
    c5 = m.moduleConv5(F.avg_pool2d(c4, 2))
    d5 = m.moduleUpsample5(m.moduleDeconv5(F.avg_pool2d(c5, 2)))
    d4 = m.moduleUpsample4(m.moduleDeconv4(d5 + c5))
    d3 = m.moduleUpsample3(m.moduleDeconv3(d4 + c4))
    d2 = m.moduleUpsample2(m.moduleDeconv2(d3 + c3))
    combined, kernels, displacements = d2 + c2, [], []
    for name in HEADS:
        head = getattr(m, name)
        x = head[3](head[2](head[1](head[0](combined))))
        displacements.append(x[:, 0] / alpha - r)
        kernels.append(head[4:](x))
    p1, p2 = F.pad(a, [r] * 4, mode="replicate"), F.pad(b, [r] * 4, mode="replicate")
    out = separable_local_conv(p1, kernels[1], kernels[0]) + separable_local_conv(p2, kernels[3], kernels[2])
    return out, displacements


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--start", default="random", help="'random' or a SepConv weight file")
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--kernel", type=int, default=25)
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--reach", type=int, default=10, help="largest translation per axis, pixels")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=240)
    ap.add_argument("--decoder-start", action="store_true")
    ap.add_argument("--freeze-decoder", action="store_true")
    ap.add_argument("--displacement-loss", type=float, default=0.05)
    ap.add_argument("--alpha", type=float, default=1 / 16, help="decoder's scale of the displacement channel")
    ap.add_argument("--photos", default=os.path.expanduser("~/.local/share/tween/training-media/photos"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    w = args.width
    model = reference.SepConv(widths=(w, 2 * w, 4 * w, 8 * w, 8 * w), subnet_width=2 * w, kernel=args.kernel)
    if args.start != "random":
        model.load_state_dict({k: v.float() for k, v in load_file(args.start).items()})
    if args.decoder_start:
        start_decoder(model, args.alpha)
    frozen = {id(p) for n in HEADS for i in (4, 7) for p in getattr(model, n)[i].parameters()} if args.freeze_decoder else set()
    optimiser = torch.optim.Adam([p for p in model.parameters() if id(p) not in frozen], lr=args.lr)
    photos = [np.asarray(Image.open(f).convert("RGB"), dtype=np.float32) / 255 for f in sorted(glob.glob(args.photos + "/*"))]
    data = Translations(photos, args.crop, args.reach, seed=0)
    va, vm, vb, _ = data.batch(32)
    psnr = lambda x, g: (-10 * torch.log10(((x.clamp(0, 1) - g) ** 2).mean((1, 2, 3)))).mean().item()
    with torch.no_grad():
        print(f"blend {psnr((va + vb) / 2, vm):.2f} dB, start {psnr(forward(model, va, vb, args.alpha)[0], vm):.2f} dB")
    t0, step = time.time(), 0
    while time.time() - t0 < args.seconds:
        step += 1
        a, mid, b, d = data.batch(args.batch)
        out, displacements = forward(model, a, b, args.alpha)
        l1 = (out - mid).abs().mean()
        error = sum((x - d[:, i, None, None]).abs().mean() for i, x in enumerate(displacements)) / 4
        loss = l1 + (args.displacement_loss * 4 * error if args.decoder_start else 0)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % 100 == 0:
            with torch.no_grad():
                v = psnr(forward(model, va, vb, args.alpha)[0], vm)
            extra = f"  displacement error {error.item():.2f} px" if args.decoder_start else ""
            print(f"step {step}  {time.time() - t0:.0f} s  L1 {l1.item():.4f}  validation {v:.2f} dB{extra}", flush=True)


if __name__ == "__main__":
    main()
