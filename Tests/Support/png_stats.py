#!/usr/bin/env python3
"""Prints, per PNG file (as Chromium writes them), one JSON object: width, height, distinct colours, and
the share of pixels that differ from the most common colour. A blank or one-colour screenshot has 1
colour and a share of 0. The PNG decoding is screenshots.py's."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from screenshots import read_png  # noqa: E402

for path in sys.argv[1:]:
    width, height, rows = read_png(path)
    counts = {}
    for row in rows[::2]:
        for colour in row[::2]:
            counts[colour] = counts.get(colour, 0) + 1
    total = sum(counts.values())
    print(json.dumps({
        "file": path, "width": width, "height": height, "colours": len(counts),
        "other_than_background": round(1 - max(counts.values()) / total, 4),
    }))
