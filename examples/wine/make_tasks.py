#!/usr/bin/python3
"""make_tasks.py: sklearn's wine data as .npy tasks for sparsetune.

    /usr/bin/python3 examples/wine/make_tasks.py [OUT_DIR]

Reads wine_data.csv from Debian's python3-sklearn (178 wines, 13 chemical
measurements, 3 cultivars; only numpy is used to read it), splits the rows
once into a training part (70%) and a test part (30%), scales every column to
mean 0 and standard deviation 1 with the training part's statistics, and
writes to OUT_DIR (default wine/), each task as train_x/train_y and
test_x/test_y (float32 inputs, int64 labels 0-2):

  A_*      task A: the wines as they are
  perm_*   task B, input shift: the 13 columns in a fixed random order
  swap_*   task B, output shift: the labels turned one step (0->1, 1->2, 2->0)

Both B tasks are A with one side of the mapping changed: a fine-tune from a
model of A only has to undo it, in the first layer for perm, in the last for
swap. The split and the column order come from numpy's default generator
with seed 0, so every run of this script writes the same files.
"""

import os
import sys

import numpy as np

SRC = "/usr/lib/python3/dist-packages/sklearn/datasets/data/wine_data.csv"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "wine"
    if not os.path.exists(SRC):
        sys.exit(f"make_tasks.py: {SRC} not found; install Debian's python3-sklearn "
                 "(scripts/install-deps --examples)")
    data = np.loadtxt(SRC, delimiter=",", skiprows=1)
    if data.shape != (178, 14):
        sys.exit(f"make_tasks.py: {SRC}: shape {data.shape}, expected (178, 14)")
    x, y = data[:, :13], data[:, 13].astype(np.int64)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    n_train = int(round(0.7 * len(y)))
    parts = {"train": order[:n_train], "test": order[n_train:]}
    mean = x[parts["train"]].mean(axis=0)
    std = x[parts["train"]].std(axis=0)
    x = ((x - mean) / std).astype(np.float32)
    cols = rng.permutation(13)
    tasks = {"A": (x, y), "perm": (np.ascontiguousarray(x[:, cols]), y), "swap": (x, (y + 1) % 3)}
    os.makedirs(out, exist_ok=True)
    for name, (tx, ty) in tasks.items():
        for part, rows in parts.items():
            np.save(f"{out}/{name}_{part}_x.npy", tx[rows])
            np.save(f"{out}/{name}_{part}_y.npy", ty[rows])
    print(f"make_tasks.py: wrote {out}/ ({n_train} training and {len(y) - n_train} test wines; "
          f"column order of perm {cols.tolist()})")


if __name__ == "__main__":
    main()
