#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Variants of the YOLO detector's preparation of a raw frame, scored on the real FITS with a known main object
(docs/REAL-SKY.md, measurement 2).

A numpy replica of the detector (`models/src/yolo/`): FITS /65535, bilinear debayer (`datagen.bayer`, as the
driver's), AutoSTF per channel with the constants of `models/src/stretch.rs`, whole-frame pass plus the same tiles
(`tiling.rs`: at most 3 per side, 20 % overlap, only for frames longer than 3x the input), area resampling,
letterbox, ONNX Runtime, boxes cut by inner tile edges dropped, class-aware NMS 0.5, nested-box rule 0.8, confidence
= score^0.34. It reproduces the driver's top boxes to +-0.01 (NGC 7023 frame 1 is a 0.43/0.46 tie that the two
bilinear debayers tip either way). Prints, per frame: the rank, confidence, class and size of the best box whose
centre lies inside the object's catalogue ellipse and whose long side is x0.3-x3 of its visible extent; the most
confident box; the confidences of boxes >= 0.5 over more than half the frame.

Usage (from the repository root, models/training on PYTHONPATH):
    python3 -m dso_training.tools.realsky_variants --shared ../shared --variant current [--target 0.25] [--clip -2.8]
Variants: current (the driver), modelscale (stretch statistics measured on the shrunk region), work (each region
shrunk to 2x the input, stretched there, then shrunk 2x: the training images' path), blur:S (Gaussian of S model px
after the stretch), lblur:S (before it), superpixel (2x2 superpixel debayer; boxes mapped back to full size).
"""
import argparse
import glob
import os

import cv2
import numpy as np
import onnxruntime as ort
from scipy import ndimage as ndi

from ..common.paths import WEIGHTS
from ..common.stretch import auto_params, mtf
from ..datagen.bayer import channel_map, demosaic
from ..datagen.fits import read_fits

POWER = 0.34  # models/src/yolo/mod.rs DEFAULT_MODEL_SCORE_POWER
NAMES = ["galaxy", "nebula", "cluster"]
# stem -> (x, y, catalogue diameter px, visible diameter px, object). Centres: light peak (M 94, M 49, M 13) or WCS +
# OpenNGC (NGC 7023, Barnard 33); visible diameter: where the 4x4-binned radial profile meets 1 sigma of the sky.
TRUTH = {
    "Light_M94_10.0s_IRCUT_20250326-212046": (605, 957, 194, 72, "M 94"),
    "Light_M94_10.0s_IRCUT_20250326-212057": (606, 957, 194, 72, "M 94"),
    "Light_NGC7023_10.0s_IRCUT_20240730-224436_wcs": (470, 973, 253, 100, "NGC 7023"),
    "Light_NGC7023_10.0s_IRCUT_20240730-224448_wcs": (471, 973, 253, 96, "NGC 7023"),
    "ngc4535-autofocus3": (2062, 878, 230, 40, "M 49"),
    "M13_blue_0001": (661, 513, 250, 224, "M 13"),
    "HorseHead": (549, 446, 357, 357, "Barnard 33"),
}


def load(path, superpixel=False):
    h, d = read_fits(path)
    d = np.clip(d / 65535.0, 0, 1).astype(np.float32)
    if d.ndim == 2 and "BAYERPAT" in h:
        pat = h["BAYERPAT"].strip()
        if not superpixel:
            return demosaic(d, pat).astype(np.float32)
        hh, ww = d.shape[0] // 2 * 2, d.shape[1] // 2 * 2
        cm = channel_map(pat)
        out, n = np.zeros((3, hh // 2, ww // 2), np.float32), np.zeros(3)
        for dy in range(2):
            for dx in range(2):
                out[cm[dy, dx]] += d[dy:hh:2, dx:ww:2]
                n[cm[dy, dx]] += 1
        return out / n[:, None, None]
    return d[None] if d.ndim == 2 else d


def curve(v, p):
    return mtf(p[1], (v - p[0]) / max(1 - p[0], 1e-7)).astype(np.float32)


def area(img, w, h):
    return np.stack([cv2.resize(c, (w, h), interpolation=cv2.INTER_AREA) for c in img])


def regions(w, h, inp=320, n=3, ov=0.2, ratio=3.0):
    whole = (0, 0, w, h)
    if max(w, h) <= inp * ratio:
        return [whole]
    t = max(int(np.ceil(max(w, h) / (n - (n - 1) * ov))), inp)

    def count(length):
        return 1 if t >= length else min(int(np.ceil((length - t) / (t * (1 - ov)))) + 1, n)

    def starts(length, tt, k):
        return [0] if k <= 1 or tt >= length else [round((length - tt) * i / (k - 1)) for i in range(k)]

    tw, th = min(t, w), min(t, h)
    return [whole] + [(x, y, tw, th) for y in starts(h, th, count(h)) for x in starts(w, tw, count(w))]


def prepare(lin, reg, variant, frame_params, target, clip, size=320):
    x, y, w, h = reg
    sub = lin[:, y:y + h, x:x + w]
    s = min(size / max(w, h), 1.0)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    kind, _, arg = variant.partition(":")
    if kind in ("current", "superpixel"):
        r = area(sub, nw, nh)
        r = np.stack([curve(r[c], frame_params[c]) for c in range(len(r))])
    elif kind == "modelscale":
        r = area(sub, nw, nh)
        r = np.stack([curve(c, auto_params(c, target, clip)) for c in r])
    elif kind == "work":
        s2 = min(2 * size / max(w, h), 1.0)
        ww, hh = max(1, round(w * s2)), max(1, round(h * s2))
        r = area(sub, ww, hh) if (ww, hh) != (w, h) else sub
        r = area(np.stack([curve(c, auto_params(c, target, clip)) for c in r]), nw, nh)
    elif kind == "blur":
        r = area(sub, nw, nh)
        r = np.stack([ndi.gaussian_filter(curve(r[c], frame_params[c]), float(arg), mode="nearest") for c in range(len(r))])
    elif kind == "lblur":
        r = area(sub, nw, nh)
        r = np.stack([curve(ndi.gaussian_filter(r[c], float(arg), mode="nearest"), frame_params[c]) for c in range(len(r))])
    else:
        raise SystemExit(f"unknown variant {variant}")
    out = np.full((3, size, size), 114 / 255, np.float32)
    px, py = (size - nw) // 2, (size - nh) // 2
    for c in range(3):
        out[c, py:py + nh, px:px + nw] = r[min(c, len(r) - 1)]
    return out, (x, y, nw / w, nh / h, px, py)


def run_model(sess, inp, floor):
    out = sess.run(None, {sess.get_inputs()[0].name: inp[None]})[0][0]
    sc, cl = out[4:].max(0), out[4:].argmax(0)
    k = sc >= floor
    b, sc, cl = out[:4, k].T, sc[k], cl[k]
    return [(float(s), int(c), [bb[0] - bb[2] / 2, bb[1] - bb[3] / 2, bb[0] + bb[2] / 2, bb[1] + bb[3] / 2])
            for s, c, bb in zip(sc, cl, b)]


def detect(sess, lin, variant, target, clip, floor=0.02):
    _, h, w = lin.shape
    fp = [auto_params(c, target, clip) for c in lin]
    found = []
    for i, reg in enumerate(regions(w, h)):
        inp, (ox, oy, sx, sy, px, py) = prepare(lin, reg, variant, fp, target, clip)
        for s, c, b in run_model(sess, inp, floor ** (1 / POWER)):
            fb = [ox + (b[0] - px) / sx, oy + (b[1] - py) / sy, ox + (b[2] - px) / sx, oy + (b[3] - py) / sy]
            fb = [min(max(fb[0], 0), w), min(max(fb[1], 0), h), min(max(fb[2], 0), w), min(max(fb[3], 0), h)]
            if i > 0:
                x, y, rw, rh = reg
                m = 2 * max(rw, rh) / 320
                if ((x > 0 and fb[0] <= x + m) or (y > 0 and fb[1] <= y + m) or (x + rw < w and fb[2] >= x + rw - m)
                        or (y + rh < h and fb[3] >= y + rh - m)):
                    continue
            if fb[2] > fb[0] and fb[3] > fb[1]:
                found.append((s ** POWER, c, fb))
    found.sort(key=lambda t: -t[0])
    keep = []
    for s, c, b in found:
        a1 = (b[2] - b[0]) * (b[3] - b[1])
        ok = True
        for _, c2, b2 in keep:
            ix = max(0, min(b[2], b2[2]) - max(b[0], b2[0])) * max(0, min(b[3], b2[3]) - max(b[1], b2[1]))
            a2 = (b2[2] - b2[0]) * (b2[3] - b2[1])
            if (c == c2 and ix / (a1 + a2 - ix) > 0.5) or ix / min(a1, a2) >= 0.8:
                ok = False
                break
        if ok:
            keep.append((s, c, b))
    return keep[:300], (w, h)


def score(stem, keep, wh):
    x, y, cat, vis, _ = TRUTH[stem]
    best = None
    for rank, (s, c, b) in enumerate(keep):
        size = max(b[2] - b[0], b[3] - b[1])
        if np.hypot((b[0] + b[2]) / 2 - x, (b[1] + b[3]) / 2 - y) <= cat / 2 and 0.3 * vis <= size <= 3 * vis:
            best = f"#{rank + 1}, {s:.2f} {NAMES[c]}, {size:.0f} px"
            break
    top = f"{keep[0][0]:.2f} {NAMES[keep[0][1]]}" if keep else "-"
    big = [round(s, 2) for s, c, b in keep if (b[2] - b[0]) * (b[3] - b[1]) > 0.5 * wh[0] * wh[1] and s >= 0.5]
    return best or "not boxed", top, big


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--model", default=str(WEIGHTS / "dso_yolo.onnx"))
    ap.add_argument("--variant", default="current")
    ap.add_argument("--target", type=float, default=0.25)
    ap.add_argument("--clip", type=float, default=-2.8)
    a = ap.parse_args()
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(a.model, so)
    for stem in TRUTH:
        path = glob.glob(os.path.join(a.shared, "data", "real-fits", stem + ".fit*"))[0]
        binned = a.variant == "superpixel" and "BAYERPAT" in read_fits(path)[0]
        lin = load(path, superpixel=binned)
        keep, wh = detect(sess, lin, a.variant, a.target, a.clip)
        if binned:
            keep = [(s, c, [v * 2 for v in b]) for s, c, b in keep]
            wh = (wh[0] * 2, wh[1] * 2)
        best, top, big = score(stem, keep, wh)
        print(f"{a.variant}\t{a.target}\t{a.clip}\t{TRUTH[stem][4]}\t{stem[:24]}\tobject: {best}\ttop: {top}\t> half: {big}",
              flush=True)


if __name__ == "__main__":
    main()
