#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The YOLO detector's pipeline in Python (numpy + OpenCV + onnxruntime), as the baseline of `driver/benches/yolo.rs`.

Same stages and the same tiling as the Rust detector (models/src/yolo) on the same 16-bit FITS file: FITS parse
(BZERO), AutoSTF parameters from the median/MAD, for each region (whole frame, then at most 3×3 tiles with 20 %
overlap, never smaller than the input) an area resize (cv2.INTER_AREA) then the stretch, grey letterbox, one ONNX
Runtime run, YOLOv8 decoding, inner-edge filtering of tile boxes, class-aware NMS (cv2.dnn.NMSBoxesBatched), and
the annotated JPEG (quality 85), binned like the driver's when the frame's long side exceeds --max-side (block means
with cv2.INTER_AREA, stretched after binning; 0 = full size).
Prints: `<median ms total> <median ms inside session.run> <runs>`.
Usage: python3 -m dso_training.tools.bench_yolo MODEL.onnx FRAME.fits [--rounds N] [--threads N] [--max-side PX]
"""
import argparse
import math
import time

import cv2
import numpy as np
import onnxruntime as ort

# The FITS parser is the naive baseline's; the stretch (AutoSTF parameters, midtones transfer) is the shared one.
from ..common.stretch import auto_params as stretch_params
from ..common.stretch import mtf
from .bench_naive import parse_fits


def regions(w, h, size, max_per_side=3, overlap=0.2, min_ratio=3.0):
    out = [(0, 0, w, h)]
    long = max(w, h)
    if long <= size * min_ratio:
        return out
    n = max_per_side
    t = max(math.ceil(long / (n - (n - 1) * overlap)), size)

    def count(length):
        return 1 if t >= length else min(math.ceil((length - t) / (t * (1 - overlap))) + 1, n)

    def starts(length, tl, k):
        if k <= 1 or tl >= length:
            return [0]
        return [round((length - tl) * i / (k - 1)) for i in range(k)]

    tw, th = min(t, w), min(t, h)
    for y in starts(h, th, count(h)):
        for x in starts(w, tw, count(w)):
            out.append((x, y, tw, th))
    return out


def pipeline(raw, session, size, stats, max_side=0):
    img = parse_fits(raw)
    h, w = img.shape
    c0, m = stretch_params(img)
    boxes, scores, classes = [], [], []
    name = session.get_inputs()[0].name
    for i, (x, y, rw, rh) in enumerate(regions(w, h, size)):
        s = min(size / max(rw, rh), 1.0)
        nw, nh = max(1, round(rw * s)), max(1, round(rh * s))
        crop = img[y:y + rh, x:x + rw]
        small = cv2.resize(crop, (nw, nh), interpolation=cv2.INTER_AREA) if (nw, nh) != (rw, rh) else crop
        small = mtf(m, np.clip((small - c0) / (1 - c0), 0, 1))
        inp = np.full((1, 3, size, size), 114 / 255, dtype=np.float32)
        px, py = (size - nw) // 2, (size - nh) // 2
        inp[0, :, py:py + nh, px:px + nw] = small[None]
        t = time.perf_counter()
        out = session.run(None, {name: inp})[0][0]
        stats["model"] += time.perf_counter() - t
        stats["runs"] += 1
        cls_scores = out[4:]
        best = cls_scores.argmax(0)
        conf = cls_scores[best, np.arange(out.shape[1])]
        keep = conf >= 0.05
        cx, cy, bw, bh = (out[k][keep] for k in range(4))
        sx, sy = nw / rw, nh / rh
        x0 = x + (cx - bw / 2 - px) / sx
        y0 = y + (cy - bh / 2 - py) / sy
        x1 = x + (cx + bw / 2 - px) / sx
        y1 = y + (cy + bh / 2 - py) / sy
        b = np.stack([np.clip(x0, 0, w), np.clip(y0, 0, h), np.clip(x1, 0, w), np.clip(y1, 0, h)], 1)
        if i > 0:
            mg = 2 * max(rw, rh) / size
            cut = ((x > 0) & (b[:, 0] <= x + mg)) | ((y > 0) & (b[:, 1] <= y + mg)) \
                | ((x + rw < w) & (b[:, 2] >= x + rw - mg)) | ((y + rh < h) & (b[:, 3] >= y + rh - mg))
            b, kc, kb = b[~cut], conf[keep][~cut], best[keep][~cut]
        else:
            kc, kb = conf[keep], best[keep]
        boxes.append(b)
        scores.append(kc)
        classes.append(kb)
    b = np.concatenate(boxes)
    sc = np.concatenate(scores)
    cl = np.concatenate(classes)
    xywh = np.stack([b[:, 0], b[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], 1)
    idx = cv2.dnn.NMSBoxesBatched(xywh.tolist(), sc.tolist(), cl.tolist(), 0.05, 0.5) if len(sc) else []
    kept = [xywh[i] for i in np.array(idx).ravel()[:300]]
    k = math.ceil(max(w, h) / max_side) if max_side and max(w, h) > max_side else 1
    if k > 1:
        img = cv2.resize(img, (math.ceil(w / k), math.ceil(h / k)), interpolation=cv2.INTER_AREA)
        c0, m = stretch_params(img)
    lo, hi = c0, 1.0
    rgb = cv2.cvtColor((mtf(m, np.clip((img - lo) / (hi - lo), 0, 1)) * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    for bx, by, bw, bh in kept[:50]:
        cv2.rectangle(rgb, (int(bx / k), int(by / k)), (int((bx + bw) / k), int((by + bh) / k)), (0, 255, 255), 2)
    ok, jpeg = cv2.imencode(".jpg", rgb, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return kept, jpeg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("frame")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--max-side", type=int, default=0, help="annotated JPEG's longest side (0: full size)")
    a = ap.parse_args()
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if a.threads:
        so.intra_op_num_threads = a.threads
    session = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    size = session.get_inputs()[0].shape[2]
    raw = open(a.frame, "rb").read()
    pipeline(raw, session, size, {"model": 0.0, "runs": 0}, a.max_side)  # warm-up, as the Rust side loads once
    totals, models, runs = [], [], 0
    for _ in range(a.rounds):
        stats = {"model": 0.0, "runs": 0}
        t = time.perf_counter()
        pipeline(raw, session, size, stats, a.max_side)
        totals.append((time.perf_counter() - t) * 1000)
        models.append(stats["model"] * 1000)
        runs = stats["runs"]
    totals.sort()
    models.sort()
    print(f"{totals[len(totals) // 2]:.1f} {models[len(models) // 2]:.1f} {runs}")


if __name__ == "__main__":
    main()
