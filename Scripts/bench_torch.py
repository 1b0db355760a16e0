#!/usr/bin/env python3
"""PyTorch (CPU) timings of the layers `tween bench engine` measures, for side-by-side comparison.
Usage: python3 Scripts/bench_torch.py [--threads N] [--repeats R] [--json]
Needs PyTorch's CPU wheel (pip install torch); never used by the tests."""
import argparse, json, statistics, time
import torch
import torch.nn.functional as F

LAYERS = [  # name, cin, cout, size, kernel
    ("conv3x3_32_32_256", 32, 32, 256, 3),
    ("conv3x3_64_64_128", 64, 64, 128, 3),
    ("conv3x3_128_128_64", 128, 128, 64, 3),
    ("conv3x3_256_256_32", 256, 256, 32, 3),
    ("conv7x7_6_32_256", 6, 32, 256, 7),
    ("conv1x1_64_64_128", 64, 64, 128, 1),
    # The compact models' 720p layer shapes (forward only).
    ("conv7x7_20_8_960", 20, 8, 960, 7),
    ("conv7x7_8_8_960", 8, 8, 960, 7),
    ("conv3x3_16_8_960", 16, 8, 960, 3),
    ("conv5x5_16_16_480", 16, 16, 480, 5),
    ("conv3x3_32_16_480", 32, 16, 480, 3),
]

# (cin, cout, size, kernel, batch): Super SloMo width 8 at 256² × 4, DVF width 8 at 128² × 8 (`tween bench engine`'s
# trainingRows).
TRAINING = [(20, 8, 256, 7, 4), (8, 8, 256, 7, 4), (16, 8, 256, 3, 4), (8, 16, 128, 5, 4), (32, 16, 128, 3, 4), (64, 32, 64, 3, 4),
            (24, 8, 128, 5, 8), (16, 16, 64, 5, 8)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []

    def timed(fn):
        fn()  # warm-up
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1e3

    def row(name, pas, ms, flops):
        rows.append({"name": name, "pass": pas, "ms": ms, "gflops": flops / (ms * 1e-3) / 1e9})

    with torch.inference_mode():
        for name, cin, cout, size, k in LAYERS:
            x = torch.randn(1, cin, size, size)
            w = torch.randn(cout, cin, k, k) * 0.05
            b = torch.randn(cout) * 0.01
            row(name, "forward", timed(lambda: F.conv2d(x, w, b, padding=k // 2)), 2 * cout * size * size * cin * k * k)
        x = torch.randn(1, 64, 128, 128)
        w = torch.randn(64, 32, 4, 4) * 0.05
        row("deconv4x4s2_64_32_128", "forward", timed(lambda: F.conv_transpose2d(x, w, stride=2, padding=1)),
            2 * 64 * 128 * 128 * 32 * 16)
        x = torch.randn(1, 32, 360, 640)
        row("upsample2x_32_360x640", "forward",
            timed(lambda: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)), 12 * 32 * 720 * 1280)
        img = torch.randn(1, 3, 720, 1280)
        ys, xs = torch.meshgrid(torch.arange(720.0), torch.arange(1280.0), indexing="ij")
        gx = (xs + 3.3 * torch.sin(ys / 40)) / 1279 * 2 - 1
        gy = (ys - 2.7 * torch.cos(xs / 50)) / 719 * 2 - 1
        grid = torch.stack([gx, gy], dim=-1)[None]
        row("warp_3_720x1280", "forward",
            timed(lambda: F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=True)), 12 * 3 * 720 * 1280)
    for name, cin, cout, size, k in LAYERS[:4]:
        x = torch.randn(1, cin, size, size, requires_grad=True)
        w = (torch.randn(cout, cin, k, k) * 0.05).requires_grad_(True)
        b = torch.zeros(cout, requires_grad=True)
        y = F.conv2d(x, w, b, padding=k // 2)
        g = torch.randn_like(y)
        row(name, "backward", timed(lambda: torch.autograd.grad(y, (x, w, b), g, retain_graph=True)),
            4 * cout * size * size * cin * k * k)
    # Backward of the remaining layers (autograd; d input and d weights as the engine's rows).
    for name, cin, cout, size, k in LAYERS[4:6]:
        x = torch.randn(1, cin, size, size, requires_grad=True)
        w = (torch.randn(cout, cin, k, k) * 0.05).requires_grad_(True)
        y = F.conv2d(x, w, padding=k // 2)
        g = torch.randn_like(y)
        row(name, "backward", timed(lambda: torch.autograd.grad(y, (x, w), g, retain_graph=True)), 4 * cout * size * size * cin * k * k)
    x = torch.randn(1, 64, 128, 128, requires_grad=True)
    w = (torch.randn(64, 32, 4, 4) * 0.05).requires_grad_(True)
    y = F.conv_transpose2d(x, w, stride=2, padding=1)
    g = torch.randn_like(y)
    row("deconv4x4s2_64_32_128", "backward", timed(lambda: torch.autograd.grad(y, (x, w), g, retain_graph=True)),
        4 * 64 * 128 * 128 * 32 * 16)
    x = torch.randn(1, 32, 360, 640, requires_grad=True)
    y = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    g = torch.randn_like(y)
    row("upsample2x_32_360x640", "backward", timed(lambda: torch.autograd.grad(y, (x,), g, retain_graph=True)), 12 * 32 * 720 * 1280)
    img = torch.randn(1, 3, 720, 1280, requires_grad=True)
    ys, xs = torch.meshgrid(torch.arange(720.0), torch.arange(1280.0), indexing="ij")
    grid = torch.stack([(xs + 3.3 * torch.sin(ys / 40)) / 1279 * 2 - 1, (ys - 2.7 * torch.cos(xs / 50)) / 719 * 2 - 1], dim=-1)[None]
    grid.requires_grad_(True)
    y = F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=True)
    g = torch.randn_like(y)
    row("warp_3_720x1280", "backward", timed(lambda: torch.autograd.grad(y, (img, grid), g, retain_graph=True)), 24 * 3 * 720 * 1280)
    # The compact models' training shapes: forward, input gradient and weight gradient (with the bias's) apart.
    for cin, cout, size, k, batch in TRAINING:
        name = f"train{k}x{k}_{cin}_{cout}_{size}x{batch}"
        flops = 2 * cout * size * size * cin * k * k * batch
        x = torch.randn(batch, cin, size, size, requires_grad=True)
        w = (torch.randn(cout, cin, k, k) * 0.05).requires_grad_(True)
        b = torch.zeros(cout, requires_grad=True)
        with torch.no_grad():
            row(name, "forward", timed(lambda: F.conv2d(x, w, b, padding=k // 2)), flops)
        y = F.conv2d(x, w, b, padding=k // 2)
        g = torch.randn_like(y)
        row(name, "dX", timed(lambda: torch.autograd.grad(y, (x,), g, retain_graph=True)), flops)
        row(name, "dW", timed(lambda: torch.autograd.grad(y, (w, b), g, retain_graph=True)), flops)
    if args.json:
        print(json.dumps({"framework": f"torch {torch.__version__}", "threads": args.threads, "layers": rows}))
    else:
        for r in rows:
            print(f"{r['name']:<26}{r['pass']:<9}{r['ms']:9.2f} ms {r['gflops']:8.1f} GFLOP/s")

if __name__ == "__main__":
    main()
