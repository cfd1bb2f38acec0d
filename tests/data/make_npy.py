#!/usr/bin/python3
"""make_npy.py: writes the .npy fixtures of tests/test_npy.c with real NumPy.

Run with Debian's python3 (which has numpy) from anywhere:
    /usr/bin/python3 tests/data/make_npy.py
The files land in tests/data/npy/ beside this script; each is under 1 KB.
tests/test_npy.c asserts the values written here, so change both together.
"""
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npy")


def save(name, a, version=None):
    path = os.path.join(OUT, name)
    if version is None:
        np.save(path, a)
    else:
        with open(path, "wb") as f:
            np.lib.format.write_array(f, a, version=version)
    assert os.path.getsize(path) < 1024, name


def main():
    os.makedirs(OUT, exist_ok=True)
    # Readable by st_npy_read.
    save("f32_2d.npy", np.array([[1.5, -2.25, 0.0], [3e-3, -0.0, 1e10]], dtype=np.float32))
    save("f64_1d.npy", np.array([0.1, -2.5, 1e-3, 12345.678], dtype=np.float64))
    save("i64_labels.npy", np.array([0, 1, 2, 1, 0, -3], dtype=np.int64))
    save("i32_2d.npy", np.array([[1, -2], [16777216, -16777216]], dtype=np.int32))
    save("v2_f32.npy", np.array([[1.0], [2.0], [3.0]], dtype=np.float32), version=(2, 0))
    save("v3_f64.npy", np.array([[0.5, 0.25]], dtype=np.float64), version=(3, 0))
    # Refused by st_npy_read, each with its own message.
    save("f32_fortran.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
    save("f32_bigendian.npy", np.array([1, 2, 3], dtype=">f4"))
    save("f16.npy", np.array([1, 2, 3], dtype=np.float16))
    save("f32_3d.npy", np.zeros((2, 1, 2), dtype=np.float32))


if __name__ == "__main__":
    main()
