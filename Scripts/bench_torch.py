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
]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    with torch.inference_mode():
        for name, cin, cout, size, k in LAYERS:
            x = torch.randn(1, cin, size, size)
            w = torch.randn(cout, cin, k, k) * 0.05
            b = torch.randn(cout) * 0.01
            F.conv2d(x, w, b, padding=k // 2)  # warm-up
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                F.conv2d(x, w, b, padding=k // 2)
                times.append(time.perf_counter() - t0)
            ms = statistics.median(times) * 1e3
            flops = 2 * cout * size * size * cin * k * k
            rows.append({"name": name, "pass": "forward", "ms": ms, "gflops": flops / (ms * 1e-3) / 1e9})
    if args.json:
        print(json.dumps({"framework": f"torch {torch.__version__}", "threads": args.threads, "layers": rows}))
    else:
        for r in rows:
            print(f"{r['name']:<26}forward  {r['ms']:9.2f} ms {r['gflops']:8.1f} GFLOP/s")

if __name__ == "__main__":
    main()
