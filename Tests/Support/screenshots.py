#!/usr/bin/env python3
"""Screenshots of a rendered digest.html with headless Chromium, and a check that they show something.

    python3 Tests/Support/screenshots.py HTML_FILE OUT_DIR [--name sample]
    python3 Tests/Support/screenshots.py --check-only OUT_DIR [--name sample]   # check PNGs already there

writes OUT_DIR/NAME-600.png (desktop width), NAME-375.png (a phone) and NAME-600-dark.png
(prefers-color-scheme: dark), each as tall as the page, then checks every one: not blank (many colours,
a fair share of the pixels off the background), and the dark one really dark (its corner pixel the dark
page or card colour of the default templates, the light ones the light page or card colour). Prints one line per file; exits 1 when a check fails.

Chromium needs --no-sandbox when run as root. The page height is measured first (Chromium prints the DOM
after a small script has put the height into it), so the screenshot is the whole email and no more.
Only the standard library: PNG decoding is done here with zlib.
"""
import argparse
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

# The page and the card behind the email's text, in the default templates' light and dark schemes.
LIGHT_BACKGROUNDS = [(0xF2, 0xF3, 0xF5), (0xFF, 0xFF, 0xFF)]
DARK_BACKGROUNDS = [(0x11, 0x14, 0x18), (0x1B, 0x1F, 0x24)]


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("screenshots: chromium is not installed (apt-get install chromium)")


def run_chromium(arguments):
    base = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--hide-scrollbars", "--no-first-run", "--mute-audio", "--force-device-scale-factor=1"]
    return subprocess.run(base + arguments, capture_output=True, text=True, timeout=120)


def dark_flags(dark):
    # Blink's preferredColorScheme: 0 is dark, 1 is light. Both set explicitly, so the machine's
    # own setting cannot change the result.
    return ["--blink-settings=preferredColorScheme=0", "--force-dark-mode"] if dark else \
        ["--blink-settings=preferredColorScheme=1"]


def page_height(html_path, width, dark):
    with open(html_path, encoding="utf-8") as handle:
        html = handle.read()
    probe = html.replace(
        "</body>",
        "<script>document.body.setAttribute('data-height', "
        "String(Math.ceil(document.documentElement.getBoundingClientRect().height)));</script></body>")
    with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False, encoding="utf-8") as handle:
        handle.write(probe)
        probe_path = handle.name
    try:
        result = run_chromium(dark_flags(dark) + [f"--window-size={width},800", "--dump-dom",
                                                  "file://" + probe_path])
    finally:
        os.unlink(probe_path)
    match = re.search(r'data-height="(\d+)"', result.stdout)
    if not match:
        sys.exit(f"screenshots: could not measure the page height:\n{result.stderr[-2000:]}")
    return max(int(match.group(1)), 200)


def screenshot(html_path, out_path, width, dark, heights):
    # The dark rules change colours only, so one measurement serves both schemes at a width.
    if width not in heights:
        heights[width] = page_height(html_path, width, dark)
    height = heights[width]
    result = run_chromium(dark_flags(dark) + [f"--window-size={width},{height}", f"--screenshot={out_path}",
                                              "file://" + os.path.abspath(html_path)])
    if not os.path.exists(out_path):
        sys.exit(f"screenshots: chromium wrote no {out_path}:\n{result.stderr[-2000:]}")
    return height


def read_png(path, max_rows=None):
    """(width, height, rows of (r, g, b) tuples) for 8-bit RGB or RGBA PNGs, as Chromium writes them;
    only the first max_rows rows are decoded when it is given (decoding in Python is slow)."""
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    offset, chunks, header = 8, [], None
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        offset += 12 + length
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color not in (2, 6) or interlace:
        raise ValueError(f"{path}: unsupported PNG (depth {depth}, colour type {color})")
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    rows, previous, position = [], bytearray(stride), 0
    for _ in range(min(height, max_rows or height)):
        kind, line = raw[position], bytearray(raw[position + 1:position + 1 + stride])
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
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else upper_left)
                line[i] = (line[i] + predictor) & 0xFF
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, channels)])
        previous = line
    return width, height, rows


def near(color, target, tolerance=12):
    return all(abs(a - b) <= tolerance for a, b in zip(color, target))


def check(path, dark):
    """A sentence on what is wrong with the screenshot, or None."""
    # The top of the email (its name, the note, the first items) is enough to tell a blank picture.
    width, height, rows = read_png(path, max_rows=700)
    background = rows[2][2]
    expected = DARK_BACKGROUNDS if dark else LIGHT_BACKGROUNDS
    if not any(near(background, colour, 4) for colour in expected):
        wanted = " or ".join("#" + bytes(colour).hex() for colour in expected)
        return f"background is #{bytes(background).hex()}, expected {wanted}"
    colours, differing, total = set(), 0, 0
    for row in rows[::4]:
        for pixel in row[::4]:
            colours.add(pixel)
            total += 1
            if not near(pixel, background, 4):
                differing += 1
    # Text on a plain background: a few percent of the pixels at least, and antialiasing's many shades.
    if len(colours) < 50 or differing < total // 50:
        return f"looks blank: {len(colours)} colours, {differing} of {total} sampled pixels off the background"
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check-only", action="store_true", help="check the PNGs in OUT_DIR, take none")
    parser.add_argument("paths", nargs="+", help="HTML_FILE OUT_DIR, or OUT_DIR with --check-only")
    parser.add_argument("--name", default="sample")
    args = parser.parse_args()
    if len(args.paths) != (1 if args.check_only else 2):
        parser.error("give HTML_FILE OUT_DIR, or --check-only OUT_DIR")
    out = args.paths[-1]
    os.makedirs(out, exist_ok=True)
    failed = False
    heights = {}
    for width, dark, suffix in ((600, False, "600"), (375, False, "375"), (600, True, "600-dark")):
        path = os.path.join(out, f"{args.name}-{suffix}.png")
        if args.check_only:
            if not os.path.exists(path):
                print(f"{path}: missing")
                failed = True
                continue
            shown_width, height, _ = read_png(path, max_rows=1)
            if shown_width != width:
                print(f"{path}: {shown_width} px wide, expected {width}")
                failed = True
                continue
        else:
            height = screenshot(args.paths[0], path, width, dark, heights)
        problem = check(path, dark)
        print(f"{path}: {width}x{height}{' dark' if dark else ''}: {problem or 'ok'}")
        failed = failed or problem is not None
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
