#!/usr/bin/python3
"""make_tasks.py: the 8x8 handwritten digits as .npy tasks for sparsetune.

    /usr/bin/python3 examples/digits/make_tasks.py [OUT_DIR]

Reads digits.csv.gz from Debian's python3-sklearn (1,797 images, 64 pixels
0..16, the label last on each row; only numpy is used to read it) and writes
to OUT_DIR (default digits/):

  A_x.npy, A_y.npy        task A: pixels / 16 (float32), labels 0-9 (int64)
  Bpix_x.npy, Bpix_y.npy  task B, input shift: the same images with their 64
                          pixels in a fixed random order, the same labels
  Blab_x.npy, Blab_y.npy  task B, output shift: the same images, each label
                          replaced by a fixed random permutation of 0-9

Both B tasks are A with one side of the mapping changed, so a fine-tune from
a model of A only has to undo that change: at the input layer for Bpix, at
the output layer for Blab. The permutations are drawn from numpy's default
generator with seed 0, so every run of this script writes the same files.
"""

import os
import sys

import numpy as np

SRC = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "digits"
    if not os.path.exists(SRC):
        sys.exit(f"make_tasks.py: {SRC} not found; install Debian's python3-sklearn "
                 "(scripts/install-deps --examples)")
    data = np.loadtxt(SRC, delimiter=",")
    if data.shape != (1797, 65):
        sys.exit(f"make_tasks.py: {SRC}: shape {data.shape}, expected (1797, 65)")
    x = (data[:, :64] / 16.0).astype(np.float32)
    y = data[:, 64].astype(np.int64)
    rng = np.random.default_rng(0)
    pix = rng.permutation(64)
    lab = rng.permutation(10)
    os.makedirs(out, exist_ok=True)
    np.save(f"{out}/A_x.npy", x)
    np.save(f"{out}/A_y.npy", y)
    np.save(f"{out}/Bpix_x.npy", np.ascontiguousarray(x[:, pix]))
    np.save(f"{out}/Bpix_y.npy", y)
    np.save(f"{out}/Blab_x.npy", x)
    np.save(f"{out}/Blab_y.npy", lab[y])
    print(f"make_tasks.py: wrote {out}/ (1797 samples; pixel order {pix[:6].tolist()}...; "
          f"label map {lab.tolist()})")


if __name__ == "__main__":
    main()
