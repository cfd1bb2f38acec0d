#!/usr/bin/env python3
"""close.py FIXTURE NOW [RTOL]: exit 0 when NOW holds FIXTURE's text and
numbers, each number within RTOL (default 1e-5) relative to the larger of
the two, or 0 and 0, or both NaN. .safetensors files: the same header, every
float32 within RTOL of max(1, |a|, |b|). Uses the standard library only.

For the golden test where OpenBLAS runs another kernel than the fixtures'
(OPENBLAS_CORETYPE other than Haswell): matrix products and LAPACK's SVD
round differently there, by about 1e-7 relative, so the files cannot match
byte for byte."""

import math
import re
import struct
import sys


def close(a, b, rtol):
    if a == b or (math.isnan(a) and math.isnan(b)):
        return True
    return abs(a - b) <= rtol * max(abs(a), abs(b))


def text(fa, fb, rtol):
    split = re.compile(r'([,\s:\[\]{}"()=]+)')
    ta = split.split(open(fa, encoding="utf-8", errors="replace").read())
    tb = split.split(open(fb, encoding="utf-8", errors="replace").read())
    if len(ta) != len(tb):
        return "another number of fields"
    for x, y in zip(ta, tb):
        if x == y:
            continue
        try:
            fx, fy = float(x), float(y)
        except ValueError:
            return f"text {x!r} against {y!r}"
        if not close(fx, fy, rtol):
            return f"{x} against {y}"
    return None


def tensors(fa, fb, rtol):
    da, db = open(fa, "rb").read(), open(fb, "rb").read()
    n = struct.unpack("<Q", da[:8])[0]
    if da[: 8 + n] != db[: 8 + n] or len(da) != len(db):
        return "another header or size"
    count = (len(da) - 8 - n) // 4
    va = struct.unpack(f"<{count}f", da[8 + n :])
    vb = struct.unpack(f"<{count}f", db[8 + n :])
    for i, (x, y) in enumerate(zip(va, vb)):
        if not (x == y or abs(x - y) <= rtol * max(1.0, abs(x), abs(y))):
            return f"float {i}: {x} against {y}"
    return None


def main():
    fa, fb = sys.argv[1], sys.argv[2]
    rtol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-5
    why = tensors(fa, fb, rtol) if fa.endswith(".safetensors") else text(fa, fb, rtol)
    if why:
        print(f"{fb}: {why}")
        sys.exit(1)


if __name__ == "__main__":
    main()
