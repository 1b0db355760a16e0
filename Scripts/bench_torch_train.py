"""Times training steps (forward, backward, optimiser) of Tween's trainable models in PyTorch CPU, for
`Scripts/bench-train.sh`, which runs it alternately with `tween bench train`.

Each model is the reference implementation in Scripts/reference/ at the shipped recipe's widths, with the loss terms
and weights of its last stage (Sources/Training/Students/*.swift) and its optimiser, on the same synthetic batch as
`TrainingBenchmark.batch` (a smooth pattern moving 3, 2 pixels over the gap; the teacher's flows, mask and frame
filled in). The census term is written the way RIFE's official code writes it (a convolution with one-hot 7x7
filters), the separable local filter as a loop over kernel rows on an unfolded view (the reference's full unfold is
the definition, far too large to train with). Needs PyTorch (pip install torch); no test uses it.

    python3 Scripts/bench_torch_train.py --model superslomo --threads 2 [--steps 4] [--repeats 3] [--json]
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
import dvf as dvf_ref  # noqa: E402
import sepconv as sepconv_ref  # noqa: E402
import superslomo as superslomo_ref  # noqa: E402

# The shipped recipes' last stages (runs/*/recipe.json; `tween bench train` reads them from the weight files).
SETTINGS = {
    "superslomo": dict(crop=256, batch=4, lr=3e-4, optimizer="adam"),
    "sepconv": dict(crop=128, batch=8, lr=1e-4, optimizer="adam"),
    "dvf": dict(crop=128, batch=8, lr=3e-4, optimizer="adam"),
}


def synthetic_batch(n, s):
    """TrainingBenchmark.batch: frames at shifts 0, 1/2, 1 of (3, 2) px, flows from t (-1.5, -1) and (1.5, 1)."""
    ys, xs = torch.meshgrid(torch.arange(s, dtype=torch.float64), torch.arange(s, dtype=torch.float64), indexing="ij")

    def frame(i, shift):
        planes = []
        for c in range(3):
            u, v, phase = xs - 3 * shift, ys - 2 * shift, float(i + c)
            planes.append(0.5 + 0.25 * torch.sin(0.11 * u + 0.7 * phase) * torch.cos(0.07 * v - 0.3 * phase)
                          + 0.15 * torch.sin(0.023 * (u + v) + phase))
        return torch.stack(planes).float()

    first = torch.stack([frame(i, 0) for i in range(n)])
    middle = torch.stack([frame(i, 0.5) for i in range(n)])
    last = torch.stack([frame(i, 1) for i in range(n)])
    flow = torch.tensor([-1.5, -1, 1.5, 1]).view(1, 4, 1, 1).expand(n, 4, s, s).contiguous()
    mask = torch.full((n, 1, s, s), 0.5)
    return dict(first=first, middle=middle, last=last, flow=flow, mask=mask, frame=middle.clone(), t=0.5)


def l1(a, b):
    return (a - b).abs().mean()


def smoothness(f):
    return (f[:, :, :, 1:] - f[:, :, :, :-1]).abs().mean() + (f[:, :, 1:] - f[:, :, :-1]).abs().mean()


_CENSUS = torch.eye(49).view(49, 1, 7, 7)[[i for i in range(49) if i != 24]]


def census(a, b):
    """Loss.census: 7x7 ternary census of the channel mean, replicate-padded, 48 neighbours."""
    def transform(x):
        gray = x.mean(1, keepdim=True)
        patches = F.conv2d(F.pad(gray, [3, 3, 3, 3], mode="replicate"), _CENSUS)
        d = patches - gray
        return d / torch.sqrt(d * d + 0.81)
    d = (transform(a) - transform(b)) ** 2
    return (d / (d + 0.1)).mean()


class SuperSloMoStep:
    def __init__(self, batch):
        self.net = superslomo_ref.SuperSloMo([w * 8 for w in (1, 2, 4, 8, 16, 16)], linear_output=True)
        self.mean = torch.tensor(superslomo_ref.MEAN).view(1, 3, 1, 1)

    def loss(self, b):
        i0, i1, it = b["first"] - self.mean, b["last"] - self.mean, b["middle"] - self.mean
        f01, f10 = self.net.flows(i0, i1)
        s = self.net.synthesise(i0, i1, f01, f10, b["t"])
        w = superslomo_ref.backwarp
        rec = l1(s["frame"], it)
        warp = (l1(w(i0, s["approxT0"]), it) + l1(w(i1, s["approxT1"]), it) + l1(w(i0, f10), i1) + l1(w(i1, f01), i0)) * 0.5
        smooth = (smoothness(f01) + smoothness(f10)) / 204
        cen = census(s["frame"] + self.mean, b["middle"]) * 0.1
        t0, t1 = b["flow"][:, :2], b["flow"][:, 2:]
        distil = (l1(s["flowT0"], t0) + l1(s["flowT1"], t1) + l1(s["approxT0"], t0) + l1(s["approxT1"], t1)) * 0.01
        return rec + warp + smooth + cen + distil


def separable_filter(padded, vertical, horizontal):
    """out(c,y,x) = sum_i vertical(i,y,x) sum_j horizontal(j,y,x) padded(c, y+i, x+j), one kernel row at a time."""
    k, h, w = vertical.shape[1:]
    hz = horizontal.permute(0, 2, 3, 1).unsqueeze(1)               # [n, 1, h, w, k]
    out = 0
    for i in range(k):
        rows = padded[:, :, i:i + h].unfold(3, k, 1)               # [n, c, h, w, k], a view
        out = out + (rows * hz).sum(-1) * vertical[:, i:i + 1]
    return out


class SepConvStep:
    KERNEL, ALPHA = 25, 1 / 16

    def __init__(self, batch):
        self.net = sepconv_ref.SepConv(widths=tuple(8 * w for w in (1, 2, 4, 8, 8)), subnet_width=16, kernel=self.KERNEL)

    def loss(self, b):
        m, a, c = self.net, b["first"], b["last"]
        combined = m.trunk(a, c)
        r = self.KERNEL // 2
        kernels, displacement = {}, 0
        # The displacement decoder: each head's first hidden channel encodes its displacement (teacher order h1 v1 h2 v2).
        for channel, name in enumerate(("moduleHorizontal1", "moduleVertical1", "moduleHorizontal2", "moduleVertical2")):
            head = getattr(m, name)
            hidden = head[:4](combined)
            kernels[name] = head[4:](hidden)
            target = F.avg_pool2d(b["flow"][:, channel:channel + 1], 2).clamp(-r, r)
            displacement = displacement + l1(hidden[:, :1] / self.ALPHA - r, target)
        p1 = separable_filter(F.pad(a, [r] * 4, mode="replicate"), kernels["moduleVertical1"], kernels["moduleHorizontal1"])
        p2 = separable_filter(F.pad(c, [r] * 4, mode="replicate"), kernels["moduleVertical2"], kernels["moduleHorizontal2"])
        w0 = dvf_ref.warp(a, b["flow"][:, :2]) * 0.5
        w1 = dvf_ref.warp(c, b["flow"][:, 2:]) * 0.5
        k = kernels
        gain = (k["moduleVertical1"].sum(1) * k["moduleHorizontal1"].sum(1) + k["moduleVertical2"].sum(1) * k["moduleHorizontal2"].sum(1))
        return (l1(p1 + p2, b["middle"]) + (l1(p1, w0) + l1(p2, w1)) * 0.5 + displacement * (0.1 / 4)
                + ((gain - 1) ** 2).mean() * 10)


class DVFStep:
    def __init__(self, batch):
        self.net = dvf_ref.DVF(tuple(8 * w for w in (1, 2, 4, 4, 2, 1)), flow_scale=128.0, scales=3)
        self.net.train()

    def loss(self, b):
        v = self.net(b["first"], b["last"])
        d, w0 = v[:, 0:2] * 128.0, (v[:, 2:3] + 1) * 0.5
        t = b["t"]
        frame = (dvf_ref.warp(b["first"], -t * d) * ((1 - t) * w0) + dvf_ref.warp(b["last"], (1 - t) * d) * (t * (1 - w0))) \
            / ((1 - t) * w0 + t * (1 - w0))
        target = b["flow"][:, 2:4] - b["flow"][:, 0:2]
        return (l1(frame, b["middle"]) + smoothness(d) / 204 + smoothness(w0) * 0.005 + census(frame, b["middle"]) * 0.1
                + l1(d, target) * 0.01 + l1(w0, b["mask"]) * 0.1)


STEPS = {"superslomo": SuperSloMoStep, "sepconv": SepConvStep, "dvf": DVFStep}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", action="append", choices=sorted(STEPS), help="repeatable; default: all")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    rows = []
    for name in args.model or ["superslomo", "sepconv", "dvf"]:
        cfg = SETTINGS[name]
        step = STEPS[name](cfg["batch"])
        batch = synthetic_batch(cfg["batch"], cfg["crop"])
        opt = (torch.optim.Adam if cfg["optimizer"] == "adam" else torch.optim.Adamax)(step.net.parameters(), lr=cfg["lr"])

        def run(n):
            for _ in range(n):
                opt.zero_grad(set_to_none=True)
                loss = step.loss(batch)
                loss.backward()
                opt.step()
            return float(loss.detach())

        run(1)   # warm-up
        rates, loss = [], 0.0
        for _ in range(args.repeats):
            start = time.perf_counter()
            loss = run(args.steps)
            rates.append(args.steps * cfg["batch"] / (time.perf_counter() - start))
        median = statistics.median(rates)
        rows.append(dict(model=name, crop=cfg["crop"], batch=cfg["batch"], threads=args.threads,
                         samples_per_second=median, runs=rates, loss=loss))
        if not args.json:
            print(f"{name} crop {cfg['crop']} batch {cfg['batch']}, {args.threads} thread(s), PyTorch {torch.__version__}: "
                  f"{median:.2f} samples/s (runs {', '.join(f'{r:.2f}' for r in rates)}; loss {loss:.4f})")
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
