#!/usr/bin/env python3
"""The naive detector's pipeline in Python (numpy + OpenCV), as the baseline of the driver's benchmark.

Same stages as the Rust driver on the same FITS file: base64 decode of the BLOB, FITS parse (16-bit, BZERO),
auto-stretch (median/MAD midtones transfer), luminance binned to a 1024 px working size, white top-hat star mask,
inpainting, background subtraction, Canny, contours, boxes, and the annotated JPEG, binned (cv2.INTER_AREA) when the
frame's long side exceeds --max-side, as the driver does (0 = full size).
Prints: `<median ms> <peak RSS MiB>`.
Usage: python3 -m dso_training.tools.bench_naive FRAME.fits [--rounds N] [--max-side PX]
"""
import argparse
import base64
import resource
import time

import cv2
import numpy as np

from ..common.stretch import robust_sigma, stretch_plane


def parse_fits(raw: bytes) -> np.ndarray:
    header = {}
    pos = 0
    while True:
        block = raw[pos:pos + 2880]
        pos += 2880
        done = False
        for i in range(0, 2880, 80):
            card = block[i:i + 80].decode("ascii", "replace")
            key = card[:8].strip()
            if key == "END":
                done = True
                break
            if card[8:10] == "= ":
                header[key] = card[10:].split("/")[0].strip().strip("'").strip()
        if done:
            break
    w, h = int(header["NAXIS1"]), int(header["NAXIS2"])
    data = np.frombuffer(raw, dtype=">i2", count=w * h, offset=pos).reshape(h, w)
    return (data.astype(np.float32) + float(header.get("BZERO", 0))) / 65535.0


def pipeline(blob_b64: bytes, max_side: int = 0):
    raw = base64.b64decode(blob_b64)
    img = stretch_plane(parse_fits(raw))
    h, w = img.shape
    f = max(1, -(-max(w, h) // 1024))
    work = cv2.resize(img, (w // f, h // f), interpolation=cv2.INTER_AREA)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    tophat = cv2.morphologyEx(work, cv2.MORPH_TOPHAT, kernel)
    mask = (tophat > np.median(tophat) + 5 * robust_sigma(tophat)).astype(np.uint8)
    mask = cv2.dilate(mask, kernel)
    starless = cv2.inpaint((work * 255).astype(np.uint8), mask, 3, cv2.INPAINT_TELEA)
    background = cv2.GaussianBlur(starless, (0, 0), 32)
    residual = cv2.subtract(starless, background)
    smooth = cv2.GaussianBlur(residual, (0, 0), 2)
    edges = cv2.Canny(smooth, 20, 60)
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = [cv2.boundingRect(c) for c in contours]
    boxes = [(x * f, y * f, bw * f, bh * f) for x, y, bw, bh in boxes if bw * bh >= 16]
    k = -(-max(w, h) // max_side) if max_side and max(w, h) > max_side else 1
    if k > 1:
        img = cv2.resize(img, (-(-w // k), -(-h // k)), interpolation=cv2.INTER_AREA)
    rgb = cv2.cvtColor((img * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    for x, y, bw, bh in boxes[:20]:
        cv2.rectangle(rgb, (x // k, y // k), ((x + bw) // k, (y + bh) // k), (0, 255, 255), 2)
    ok, jpeg = cv2.imencode(".jpg", rgb, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return boxes, jpeg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("frame")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--max-side", type=int, default=0, help="annotated JPEG's longest side (0: full size)")
    ap.add_argument("--threads", type=int, default=1, help="OpenCV's threads (numpy's work stays on one)")
    a = ap.parse_args()
    cv2.setNumThreads(a.threads)
    blob = base64.b64encode(open(a.frame, "rb").read())
    times = []
    for _ in range(a.rounds):
        t = time.perf_counter()
        pipeline(blob, a.max_side)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{times[len(times) // 2]:.1f} {peak:.1f}")


if __name__ == "__main__":
    main()
