#!/usr/bin/env python3
"""Converts an official (or standard-port) PyTorch checkpoint of a research-guide model into Tween's safetensors.

    python3 Scripts/convert_checkpoint.py superslomo SuperSloMo.ckpt superslomo.safetensors
    python3 Scripts/convert_checkpoint.py sepconv network-l1.pytorch sepconv.safetensors

Needs Python and numpy only (the pickle reader of convert_rife.py). Key names stay as in the checkpoint:
- Super SloMo (avinashpaliwal/Super-SloMo's `SuperSloMo.ckpt`): a dict whose `state_dictFC` and `state_dictAT`
  hold the two U-Nets; written as `state_dictFC.<key>` and `state_dictAT.<key>`.
- SepConv (sniklaus/sepconv-slomo's `network-l1.pytorch` / `network-lf.pytorch`): keys `moduleConv1.0.weight`, …
  (a `module.`/`net.` prefix, if any, is dropped). The official network reads B, G, R; Tween feeds R, G, B, so the
  first layer's input channels are permuted (frame 1 and frame 2 each reversed), which gives the same outputs.
"""
import argparse, os, sys
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_rife import load_checkpoint, write_safetensors

def superslomo(ckpt):
    if not isinstance(ckpt, dict) or "state_dictFC" not in ckpt or "state_dictAT" not in ckpt:
        sys.exit("not a Super SloMo checkpoint: expected a dict with state_dictFC and state_dictAT")
    tensors = {}
    for part in ("state_dictFC", "state_dictAT"):
        for k, v in ckpt[part].items():
            tensors[f"{part}.{k[len('module.'):] if k.startswith('module.') else k}"] = np.asarray(v)
    meta = {"architecture": "Super SloMo", "input": "RGB 0..1 minus mean (0.429, 0.431, 0.397)",
            "widths": ",".join(str(tensors[f"state_dictFC.{k}.weight"].shape[0])
                               for k in ("conv1", "down1.conv1", "down2.conv1", "down3.conv1", "down4.conv1", "down5.conv1"))}
    for k in ("epoch", "valPSNR", "Detail"):
        if k in ckpt: meta[f"checkpoint_{k}"] = str(ckpt[k])
    return tensors, meta

def sepconv(ckpt):
    state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else None
    if state is None or not any("moduleConv1" in k for k in state):
        sys.exit("not a SepConv checkpoint: no moduleConv1 keys")
    tensors = {}
    for k, v in state.items():
        for prefix in ("module.", "net."):
            if k.startswith(prefix): k = k[len(prefix):]
        tensors[k] = np.asarray(v)
    # B, G, R → R, G, B for both frames.
    tensors["moduleConv1.0.weight"] = tensors["moduleConv1.0.weight"][:, [2, 1, 0, 5, 4, 3]]
    meta = {"architecture": "SepConv", "input": "RGB 0..1 (first layer permuted from the official BGR)",
            "kernel_size": str(tensors["moduleVertical1.7.weight"].shape[0])}
    return tensors, meta

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", choices=["superslomo", "sepconv"])
    ap.add_argument("checkpoint"); ap.add_argument("out")
    ap.add_argument("--source", default="", help="where the checkpoint came from (recorded in the metadata)")
    args = ap.parse_args()
    if not os.path.isfile(args.checkpoint):
        sys.exit(f"{args.checkpoint}: no such file")
    if os.path.exists(args.out):
        sys.exit(f"{args.out}: already exists (remove it first)")
    tensors, meta = {"superslomo": superslomo, "sepconv": sepconv}[args.model](load_checkpoint(args.checkpoint))
    meta.update({"source": args.source or os.path.basename(args.checkpoint), "converted_by": "Scripts/convert_checkpoint.py"})
    tmp = args.out + ".partial"
    write_safetensors(tensors, tmp, meta)
    os.replace(tmp, args.out)
    print(f"{args.out}: {len(tensors)} tensors, {sum(v.size for v in tensors.values()):,} parameters")

if __name__ == "__main__":
    main()
