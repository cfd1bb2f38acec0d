#!/usr/bin/python3
"""Writes the PyTorch fixtures of tests/test_safetensors.c into tests/data/safetensors/.

Run with Debian's python3 (torch 1.13, numpy; the `safetensors` package is not
needed): /usr/bin/python3 tests/data/make_safetensors.py

The files follow the safetensors layout (u64 little-endian header length, JSON
header padded with spaces to a multiple of 8, raw little-endian tensor bytes),
with keys sorted by name and data in that order, as safetensors.torch.save_file
lays them out:

  sequential.safetensors      state_dict() of torch.nn.Sequential(nn.Linear(3, 5),
                              nn.ReLU(), nn.Linear(5, 2)) after torch.manual_seed(0):
                              F32 tensors 0.weight, 0.bias, 2.weight, 2.bias
  sequential_f64.safetensors  the same weights as F64 under a "model." prefix
                              (model.0.weight, ...), as a wrapper module would name them
  sequential_io.txt           the model's float32 outputs on fixed inputs:
                              a line "B in out", then B lines of in inputs and out outputs
"""
import json
import os
import struct

import numpy as np
import torch

SEED = 0
X = [[0.5, -1.25, 2.0],
     [-0.75, 0.25, 1.5],
     [1.0, 1.0, -1.0],
     [0.0, -2.0, 0.125]]


def write_safetensors(path, tensors, metadata):
    """tensors: dict name -> numpy array (F32 or F64), written in sorted order."""
    dtypes = {np.dtype("float32"): ("F32", "<f4"), np.dtype("float64"): ("F64", "<f8")}
    header = {"__metadata__": metadata}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        arr = tensors[name]
        tag, le = dtypes[arr.dtype]
        raw = np.ascontiguousarray(arr, dtype=le).tobytes()
        header[name] = {"dtype": tag, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)


def main():
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "safetensors")
    os.makedirs(out_dir, exist_ok=True)

    torch.manual_seed(SEED)
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2))
    state = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    write_safetensors(os.path.join(out_dir, "sequential.safetensors"), state,
                      {"format": "pt"})
    write_safetensors(os.path.join(out_dir, "sequential_f64.safetensors"),
                      {"model." + k: v.astype(np.float64) for k, v in state.items()},
                      {"format": "pt", "activation": "relu"})

    x = torch.tensor(X, dtype=torch.float32)
    with torch.no_grad():
        y = model(x).numpy()
    with open(os.path.join(out_dir, "sequential_io.txt"), "w") as f:
        f.write(f"{len(X)} 3 2\n")
        for xi, yi in zip(X, y):
            # %.9g round-trips float32 exactly.
            f.write(" ".join("%.9g" % v for v in list(xi) + [float(v) for v in yi]) + "\n")


if __name__ == "__main__":
    main()
