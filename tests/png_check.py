#!/usr/bin/env python3
"""png_check.py FILE WIDTH HEIGHT: checks that FILE is a valid PNG of the
given size whose pixels are not blank: it decodes the image (zlib and the
five PNG row filters, written out here so that no imaging package is
needed) and requires at least 1% non-white pixels and at least 6 distinct
colours (the lines of a run figure). Exit 0 on success, 1 with a message."""

import struct
import sys
import zlib


def fail(msg):
    print(f"png_check: {sys.argv[1]}: {msg}")
    sys.exit(1)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def main():
    path, want_w, want_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("not a PNG (bad signature)")
    pos, idat, ihdr = 8, b"", None
    while pos + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if len(body) != n:
            fail("truncated chunk")
        if zlib.crc32(kind + body) != struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]:
            fail(f"bad CRC in {kind!r}")
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + n
    if ihdr is None:
        fail("no IHDR")
    w, h, depth, ctype, _, _, interlace = ihdr
    if (w, h) != (want_w, want_h):
        fail(f"size {w}x{h}, expected {want_w}x{want_h}")
    if depth != 8 or ctype not in (2, 6) or interlace:
        fail(f"unsupported layout: depth {depth}, colour type {ctype}, interlace {interlace}")
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    if len(raw) != h * (stride + 1):
        fail("pixel data has the wrong length")
    prev = bytearray(stride)
    colored, colors = 0, set()
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                line[i] = (line[i] + paeth(a, b, c)) & 255
            elif f != 0:
                fail(f"bad filter {f} on row {y}")
        for x in range(0, stride, bpp * 2):  # every other pixel is plenty
            px = bytes(line[x:x + 3])
            if px != b"\xff\xff\xff":
                colored += 1
                if len(colors) < 64:
                    colors.add(px)
        prev = line
    frac = colored / (w * h / 2)
    if frac < 0.01:
        fail(f"blank: only {100 * frac:.2f}% non-white pixels")
    if len(colors) < 6:
        fail(f"only {len(colors)} distinct colours")
    print(f"png_check: {path}: {w}x{h}, {100 * frac:.1f}% non-white, {len(colors)}+ colours")


main()
