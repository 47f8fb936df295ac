#!/usr/bin/env python3
"""Decodes PNG files (8-bit greyscale, RGB or RGBA, not interlaced: what Chromium writes) with zlib alone
and prints, per file, one JSON object: width, height, distinct colours, and the share of pixels that
differ from the most common colour. A blank or one-colour screenshot has 1 colour and a share of 0."""
import json
import struct
import sys
import zlib


def pixels(path):
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG")
    offset, idat = 8, b""
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        chunk = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        offset += 12 + length
    if depth != 8 or interlace != 0 or colour not in (0, 2, 6):
        raise SystemExit(f"{path}: unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
    channels = {0: 1, 2: 3, 6: 4}[colour]
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    rows = []
    position = 0
    for _ in range(height):
        kind = raw[position]
        line = bytearray(raw[position + 1:position + 1 + stride])
        position += 1 + stride
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            upper_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
            elif kind == 4:
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else upper_left)
                line[i] = (line[i] + predictor) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


for path in sys.argv[1:]:
    width, height, channels, rows = pixels(path)
    counts = {}
    for row in rows[::2]:
        for x in range(0, len(row), channels * 2):
            colour = row[x:x + channels]
            counts[colour] = counts.get(colour, 0) + 1
    total = sum(counts.values())
    print(json.dumps({
        "file": path, "width": width, "height": height, "colours": len(counts),
        "other_than_background": round(1 - max(counts.values()) / total, 4),
    }))
