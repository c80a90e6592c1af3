#!/usr/bin/env python3
"""Draws Keyhole's icon (a keyhole on an indigo rounded square) and writes every file Tauri's
bundler expects, with the standard library only: RGBA PNGs, an .ico and an .icns that embed PNGs.
Run it from anywhere: `python3 icons/make-icons.py`."""
import math
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def coverage(size, x, y):
    """Fraction of pixel (x, y) inside each shape, by 4x4 supersampling."""
    bg = hole = 0
    for sy in range(4):
        for sx in range(4):
            u = (x + (sx + 0.5) / 4) / size
            v = (y + (sy + 0.5) / 4) / size
            # Rounded square with margin 0.04 and corner radius 0.2.
            m, r = 0.04, 0.2
            cx = min(max(u, m + r), 1 - m - r)
            cy = min(max(v, m + r), 1 - m - r)
            if math.hypot(u - cx, v - cy) <= r:
                bg += 1
                # Keyhole: a circle over a trapezoid.
                in_circle = math.hypot(u - 0.5, v - 0.40) <= 0.15
                half = 0.06 + (v - 0.42) * 0.22
                in_stem = 0.42 <= v <= 0.78 and abs(u - 0.5) <= half
                if in_circle or in_stem:
                    hole += 1
    return bg / 16, hole / 16


def draw(size):
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            bg, hole = coverage(size, x, y)
            top = (79, 70, 229)  # indigo
            bottom = (49, 46, 129)
            t = y / max(size - 1, 1)
            color = [round(top[i] * (1 - t) + bottom[i] * t) for i in range(3)]
            if bg > 0:
                f = hole / bg
                color = [round(c * (1 - f) + 250 * f) for c in color]
            row += bytes(color) + bytes([round(255 * bg)])
        rows.append(bytes(row))
    return png(size, b"".join(rows))


def png(size, raw):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def ico(pngs):
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = 6 + 16 * len(pngs)
    entries, blobs = b"", b""
    for size, data in pngs:
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
        blobs += data
    return header + entries + blobs


def icns(pngs):
    body = b"".join(kind + struct.pack(">I", len(data) + 8) + data for kind, data in pngs)
    return b"icns" + struct.pack(">I", len(body) + 8) + body


def main():
    cache = {}

    def get(size):
        if size not in cache:
            cache[size] = draw(size)
        return cache[size]

    # Every hicolor size a desktop asks for: the bundler installs each PNG listed in
    # tauri.conf.json under /usr/share/icons/hicolor/<w>x<h>/apps/.
    files = {f"{s}x{s}.png": get(s) for s in (16, 24, 32, 48, 64, 128, 256, 512)}
    files |= {
        "128x128@2x.png": get(256),
        "icon.png": get(512),
        "icon.ico": ico([(s, get(s)) for s in (16, 24, 32, 48, 64, 256)]),
        "icon.icns": icns([(b"icp4", get(16)), (b"icp5", get(32)), (b"ic07", get(128)), (b"ic08", get(256)), (b"ic09", get(512))]),
    }
    for name, data in files.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
        print(f"wrote icons/{name} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
