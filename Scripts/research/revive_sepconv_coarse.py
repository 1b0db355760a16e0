#!/usr/bin/env python3
"""Re-initialise a SepConv checkpoint's idle coarse levels so that training can use them again.

In the trained compact SepConv the two coarsest levels (Conv5, Deconv5, Upsample5, Deconv4, Upsample4: 63% of the
parameters) barely fire (`Scripts/research/diagnose_sepconv.py`): a ReLU that never fires gets no gradient, so they stay
idle. This writes a copy whose Conv5, Deconv5, Upsample5 and Deconv4 convolutions are drawn afresh (He-uniform, as
a new `tween train` run starts), and whose last convolution on that path (Upsample4's, whose output d4 is added to
c4) is drawn the same way but scaled by --gate (0.1) with a zero bias: about half its ReLUs fire, so the path gets
gradient, while what it adds to the finer levels starts small. (A first probe gave that convolution zero weights and
a bias of 0.001 instead, a constant that changes nothing; with Adam at 2e-4, whose steps soon outweigh such a bias,
only 7 of d4's 64 channels still fired at step 500 although c5 and d5 had come alive (55 and 49 of 64), so the
path had closed again: runs/sepconv-revive/train-revive-bias-gate.log.) Only the model's tensors
are written, for `tween train --init-from`; optimiser moments and running means are dropped.

Needs numpy and safetensors (training tools only; nothing in the build or tests uses it).
Usage: Scripts/research/revive_sepconv_coarse.py CHECKPOINT OUT [--seed 0] [--gate 0.1]
"""
import argparse

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

FRESH = ("moduleConv5.", "moduleDeconv5.", "moduleUpsample5.", "moduleDeconv4.")
GATE = "moduleUpsample4.1."


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gate", type=float, default=0.1, help="scale of Upsample4's fresh weights")
    args = parser.parse_args()

    with safe_open(args.checkpoint, "np") as f:
        metadata = dict(f.metadata() or {})
        tensors = {k: f.get_tensor(k) for k in f.keys() if not k.startswith(("optimizer.", "average"))}
    rng = np.random.default_rng(args.seed)
    fresh = 0
    for name, value in tensors.items():
        if name.startswith(FRESH + (GATE,)):
            if name.endswith(".weight"):
                bound = np.sqrt(6.0 / value[0].size) * (args.gate if name.startswith(GATE) else 1)
                tensors[name] = rng.uniform(-bound, bound, value.shape).astype(np.float32)
            else:
                tensors[name] = np.zeros_like(value, dtype=np.float32)
            fresh += value.size
    if fresh == 0:
        raise SystemExit(f"{args.checkpoint}: no SepConv coarse-level tensors (moduleConv5.…) found")
    metadata["revived"] = f"{', '.join(p.rstrip('.') for p in FRESH)} fresh (seed {args.seed}); {GATE.rstrip('.')} fresh ×{args.gate}"
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}, args.out, metadata=metadata)
    total = sum(v.size for v in tensors.values())
    print(f"{args.out}: {fresh} of {total} parameters re-initialised")


if __name__ == "__main__":
    main()
