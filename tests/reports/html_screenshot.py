#!/usr/bin/env python3
"""report.html in a real browser: headless Chromium renders the sample report
(write_sample_report) to a PNG; the test fails when the page is blank, when the
browser logs an error about the page (a console message, a resource it could
not load: the report must need nothing from anywhere), or when Chromium itself
fails. Without Chromium (Debian package `chromium`) the test is skipped (exit
77), and fails under MODELC_REQUIRE_ALL=1.

  html_screenshot.py WRITE_SAMPLE_REPORT [SCREENSHOT.png]"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

SKIP = 77
WIDTH, HEIGHT = 1300, 2000


def fail(message):
    sys.exit("html_screenshot: " + message)


def png_pixels(path):
    """(width, height, rows of RGB tuples) of an 8-bit RGB or RGBA PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path} is not a PNG")
    pos, chunks, idat = 8, {}, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            chunks["IHDR"] = body
        elif kind == b"IDAT":
            idat += body
    width, height, depth, color = struct.unpack(">IIBB", chunks["IHDR"][:10])
    if depth != 8 or color not in (2, 6):
        fail(f"unexpected PNG format: depth {depth}, color type {color}")
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 255
        rows.append([tuple(line[x * channels:x * channels + 3]) for x in range(width)])
        previous = line
    return width, height, rows


def page_errors(log):
    """Lines of Chromium's log that are about the page, not the sandbox or D-Bus."""
    about_page = re.compile(r"CONSOLE|Failed to load resource|net::ERR_|Uncaught|Refused to|blocked", re.I)
    return [line for line in log.splitlines() if about_page.search(line)]


def main():
    writer = sys.argv[1]
    keep = sys.argv[2] if len(sys.argv) > 2 else None
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        if os.environ.get("MODELC_REQUIRE_ALL", "0") not in ("", "0"):
            fail("chromium is not installed (scripts/install-deps.sh installs it)")
        print("html_screenshot: chromium is not installed; skipped")
        return SKIP
    with tempfile.TemporaryDirectory(prefix="modelc-html-") as tmp:
        page = os.path.join(tmp, "report.html")
        shot = os.path.join(tmp, "report.png")
        subprocess.run([writer, page], check=True)
        # Nothing for the browser to fetch: no attribute or style that names another file or a URL.
        text = open(page, encoding="utf-8").read()
        fetches = re.findall(r"""(?:\bsrc\s*=|\bhref\s*=|url\(|@import|<script|<link)[^>]{0,60}""", text, re.I)
        if fetches:
            fail("the report would fetch: " + "; ".join(fetches))
        command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   "--user-data-dir=" + os.path.join(tmp, "profile"), "--enable-logging=stderr", "--v=0",
                   "--hide-scrollbars", "--screenshot=" + shot, f"--window-size={WIDTH},{HEIGHT}", "file://" + page]
        run = subprocess.run(command, capture_output=True, text=True, timeout=180)
        log = run.stdout + run.stderr
        if run.returncode != 0 or not os.path.exists(shot):
            fail(f"chromium failed (exit {run.returncode}):\n{log[-3000:]}")
        errors = page_errors(log)
        if errors:
            fail("the browser logged errors about the page:\n" + "\n".join(errors))
        width, height, rows = png_pixels(shot)
        if (width, height) != (WIDTH, HEIGHT):
            fail(f"screenshot is {width}x{height}, expected {WIDTH}x{HEIGHT}")
        pixels = [p for row in rows[::4] for p in row[::4]]
        inked = sum(1 for p in pixels if sum(p) < 600) / len(pixels)
        colors = {p for p in pixels}
        # modelc's bars are blue (#1f6feb): the charts were drawn, not just text.
        blue = sum(1 for (r, g, b) in pixels if b > 200 and r < 80 and 90 < g < 140)
        if inked < 0.01 or len(colors) < 20 or blue < 20:
            fail(f"the page looks blank: {inked:.1%} inked pixels, {len(colors)} colours, {blue} blue bar pixels")
        if keep:
            shutil.copy(shot, keep)
        print(f"html_screenshot: {width}x{height}, {inked:.1%} inked, {len(colors)} colours, no page errors")
    return 0


sys.exit(main())
