#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the YOLO model sees: real raw frames (after the driver's own decoding, debayering, stretch and resampling)
side by side with the generated training images, measured in model pixels. Makes the figures and the table of
docs/REAL-SKY.md.

Real frames go through the Rust example `yolo_input` (`cargo build --release -p dso-models --example yolo_input`),
which writes the exact input tensors of every pass (whole frame, then tiles). Generated images are shrunk to the
320-px input as ultralytics does during training (cv2.INTER_LINEAR, 640 -> 320); real stretched patches (the dev
set, optional) as the driver does for a stretched frame (area average). Dev patches give numbers only: they never
appear in a figure (CC BY-NC-ND, evaluation only).

Measured on each input (letterbox padding cropped): background (median per channel), noise (1.4826 MAD of the
luminance minus its 5x5 median), stars (local maxima of the 3x3-smoothed luminance, 7-px apart, above the median by
max(8 noise, 0.08), unsaturated, per 10^4 model pixels), star FWHM in model pixels (2 sqrt(area at half maximum / pi)
of each star's 9x9 window; 1.6 px is the floor: one or two pixels) and peak above background, colour (background R-G,
B-G).

Usage (from the repository root, models/training on PYTHONPATH):
    python3 -m dso_training.datagen --out /tmp/dg --seed 7 --synthetic 30 --composite 30 --size 640 \
        --stretch-target 0.12:0.35 --val-fraction 0
    python3 -m dso_training.tools.realsky --shared ../shared --generated /tmp/dg --out docs/figures [--dev DIR]
Needs numpy, scipy, pillow and opencv-python (installers/requirements.txt).
"""
import argparse
import glob
import os
import subprocess
import tempfile

import cv2
import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage as ndi

from ..common.stretch import robust_sigma

PAD = 114 / 255
# real frames with their main object: file stem -> (x, y) in frame pixels (light peak, or the WCS + OpenNGC), name
REAL = {
    "Light_M94_10.0s_IRCUT_20250326-212046": (605, 957, "M 94, Seestar S50 10 s"),
    "Light_NGC7023_10.0s_IRCUT_20240730-224436_wcs": (470, 973, "NGC 7023, Seestar S50 10 s"),
    "ngc4535-autofocus3": (2062, 878, "M 49, ASI1600 2 s"),
    "M13_blue_0001": (661, 513, "M 13, CCD 5 s"),
}


def content(x):
    """(3, S, S) input -> the part that is not letterbox padding."""
    m = np.any(np.abs(x - PAD) > 1e-6, axis=0)
    ys, xs = np.where(m)
    return x[:, ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def stars(lum, noise):
    """Isolated unsaturated star peaks: (ys, xs) of local maxima well above the background."""
    sm = ndi.uniform_filter(lum, 3)
    b0 = float(np.median(lum))
    mx = (sm == ndi.maximum_filter(sm, 7)) & (lum > b0 + max(8 * noise, 0.08))
    h, w = lum.shape
    out = []
    for y, x in zip(*np.where(mx)):
        if 4 <= y < h - 4 and 4 <= x < w - 4 and lum[y - 4:y + 5, x - 4:x + 5].max() < 0.95:
            out.append((y, x))
    return out, b0


def measure(x):
    x = content(x).astype(np.float32)
    lum = x.mean(0)
    bg = [float(np.median(c)) for c in x]
    hp = lum - ndi.median_filter(lum, 5)
    noise = robust_sigma(hp)
    found, b0 = stars(lum, noise)
    fwhm, peak = [], []
    for y, xx in found:
        win = lum[y - 4:y + 5, xx - 4:xx + 5] - b0
        pk = win.max()
        fwhm.append(2 * np.sqrt((win >= pk / 2).sum() / np.pi))
        peak.append(pk)
    return {
        "bg": bg[1], "noise": noise, "stars": 1e4 * len(found) / lum.size,
        "fwhm": float(np.median(fwhm)) if fwhm else float("nan"), "peak": float(np.median(peak)) if peak else float("nan"),
        "r_g": bg[0] - bg[1], "b_g": bg[2] - bg[1],
    }


def profile(x, radius=6):
    """Mean star profile (normalised to its peak) at 0..radius model pixels."""
    x = content(x).astype(np.float32)
    lum = x.mean(0)
    hp = lum - ndi.median_filter(lum, 5)
    noise = robust_sigma(hp)
    found, b0 = stars(lum, noise)
    yy, xx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    rr = np.hypot(yy, xx)
    acc = []
    for y, x0 in found:
        if radius <= y < lum.shape[0] - radius and radius <= x0 < lum.shape[1] - radius:
            w = lum[y - radius:y + radius + 1, x0 - radius:x0 + radius + 1] - b0
            acc.append([w[(rr >= r - 0.5) & (rr < r + 0.5)].mean() / max(w.max(), 1e-6) for r in range(radius + 1)])
    return np.mean(acc, 0) if acc else None


def resized(path, interp):
    im = cv2.imread(path)[:, :, ::-1].astype(np.float32) / 255
    h, w = im.shape[:2]
    s = min(320 / max(h, w), 1)
    if s < 1:
        im = cv2.resize(im, (round(w * s), round(h * s)), interpolation=interp)
    return im.transpose(2, 0, 1)


def model_inputs(binary, frame, order, tmp):
    """Runs yolo_input; returns [(region (x, y, w, h), input)] for every pass."""
    stem = os.path.join(tmp, os.path.basename(frame).rsplit(".", 1)[0] + "_" + order)
    out = subprocess.run([binary, frame, stem, "320", order], check=True, capture_output=True, text=True).stdout
    passes = []
    for line in out.splitlines():
        i, reg = line.split("\t")[:2]
        x, y, wh = reg.split()
        w, h = wh.split("x")
        passes.append(((int(x), int(y), int(w), int(h)), np.load(f"{stem}_r{i}.npy")))
    return passes


def crop_at(inp, reg, xy, half=64):
    """A (2 half)^2 crop of a model input centred on frame point xy, as uint8 HWC."""
    (rx, ry, rw, rh), s = reg, 320 / max(reg[2], reg[3])
    nw, nh = round(rw * s), round(rh * s)
    px, py = (320 - nw) // 2, (320 - nh) // 2
    cx, cy = px + (xy[0] - rx) * s, py + (xy[1] - ry) * s
    x0 = int(np.clip(cx - half, 0, 320 - 2 * half))
    y0 = int(np.clip(cy - half, 0, 320 - 2 * half))
    c = inp[:, y0:y0 + 2 * half, x0:x0 + 2 * half]
    return (np.clip(c, 0, 1) * 255).round().astype(np.uint8).transpose(1, 2, 0)


def tile_with(passes, xy):
    """The tile whose centre is nearest the point (the whole pass when there are no tiles)."""
    if len(passes) == 1:
        return passes[0]
    return min(passes[1:], key=lambda p: np.hypot(p[0][0] + p[0][2] / 2 - xy[0], p[0][1] + p[0][3] / 2 - xy[1]))


def panel_grid(rows, titles, path, cell=160, zoom=2):
    """Rows of HWC uint8 crops, each shown zoom x (nearest), titled, saved as PNG."""
    n = max(len(r) for r in rows)
    w, h = n * cell * zoom, len(rows) * (cell * zoom + 14)
    img = Image.new("RGB", (w, h), (255, 255, 255))
    d = ImageDraw.Draw(img)
    for i, (row, trow) in enumerate(zip(rows, titles)):
        for j, (c, t) in enumerate(zip(row, trow)):
            y = i * (cell * zoom + 14)
            img.paste(Image.fromarray(c).resize((cell * zoom, cell * zoom), Image.NEAREST), (j * cell * zoom, y + 14))
            d.text((j * cell * zoom + 3, y + 2), t, fill=(0, 0, 0))
    img.save(path, optimize=True)


def line_chart(series, path, xlabel, ylabel, xmax, ylog=False, size=(560, 300)):
    """Minimal line chart: series = [(label, colour, xs, ys)]."""
    W, H, L, B = size[0], size[1], 50, 30
    img = Image.new("RGB", size, (255, 255, 255))
    d = ImageDraw.Draw(img)
    ys_all = np.concatenate([np.asarray(s[3], float) for s in series])
    tf = (lambda v: np.log10(np.maximum(v, 1e-6))) if ylog else (lambda v: v)
    lo, hi = (tf(ys_all[ys_all > 0]).min(), tf(ys_all).max()) if ylog else (min(0, ys_all.min()), ys_all.max())
    def px(x, y):
        return L + (W - L - 10) * x / xmax, H - B - (H - B - 10) * (tf(y) - lo) / max(hi - lo, 1e-9)
    d.rectangle([L, 10, W - 10, H - B], outline=(0, 0, 0))
    for k in range(5):
        xv = xmax * k / 4
        d.text((px(xv, 0 if not ylog else 10 ** lo)[0] - 8, H - B + 4), f"{xv:g}", fill=(0, 0, 0))
    d.text((W // 2 - 30, H - 14), xlabel, fill=(0, 0, 0))
    for v, yy in ((hi, 10), (lo, H - B - 10)):
        d.text((4, yy), f"{10 ** v:.0e}" if ylog else f"{v:.2f}", fill=(0, 0, 0))
    d.text((2, 2), ylabel + (" (log)" if ylog else ""), fill=(0, 0, 0))
    for i, (label, colour, xs, ys) in enumerate(series):
        pts = [px(x, y) for x, y in zip(xs, ys) if (y > 0 or not ylog)]
        d.line(pts, fill=colour, width=2)
        d.text((W - 200, 14 + 12 * i), label, fill=colour)
    img.save(path, optimize=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--generated", required=True, help="a dso_training.datagen output folder")
    ap.add_argument("--dev", help="real stretched patches (numbers only)")
    ap.add_argument("--out", default="docs/figures")
    ap.add_argument("--bin", default="target/release/examples/yolo_input")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="realsky-")
    gen_files = sorted(glob.glob(os.path.join(a.generated, "images", "*", "*.jpg")))
    gen = [resized(f, cv2.INTER_LINEAR) for f in gen_files]
    rows = []  # (label, stats)
    real = {}
    for stem, (x, y, name) in REAL.items():
        frame = glob.glob(os.path.join(a.shared, "data", "real-fits", stem + ".fit*"))[0]
        passes = model_inputs(a.bin, frame, "after", tmp)
        real[stem] = passes
        rows.append((f"{name}: whole frame", measure(passes[0][1])))
        if len(passes) > 1:
            rows.append((f"{name}: tile with the object", measure(tile_with(passes, (x, y))[1])))
    gstats = [measure(g) for g in gen]
    keys = ["bg", "noise", "stars", "fwhm", "peak", "r_g", "b_g"]
    for q, lab in [(10, "p10"), (50, "median"), (90, "p90")]:
        rows.append((f"generated training images ({len(gen)}), {lab}",
                     {k: float(np.nanpercentile([s[k] for s in gstats], q)) for k in keys}))
    if a.dev:
        dev = [resized(f, cv2.INTER_AREA) for f in sorted(glob.glob(os.path.join(a.dev, "*")))]
        dstats = [measure(d) for d in dev]
        rows.append((f"real stretched patches (dev, {len(dev)}), median",
                     {k: float(np.nanmedian([s[k] for s in dstats])) for k in keys}))
    print("| input (model pixels) | background | noise σ | stars / 10⁴ px | star FWHM px | star peak | R−G | B−G |")
    print("|---|---|---|---|---|---|---|---|")
    for lab, s in rows:
        print(f"| {lab} | {s['bg']:.3f} | {s['noise']:.4f} | {s['stars']:.1f} | {s['fwhm']:.2f} | {s['peak']:.2f} "
              f"| {s['r_g']:+.3f} | {s['b_g']:+.3f} |")

    # figure 1: what the model sees, real (whole pass, tile) vs generated, 160x160 model pixels each, shown 2x
    top, mid, t1, t2 = [], [], [], []
    for stem, (x, y, name) in list(REAL.items())[:3]:
        reg, inp = real[stem][0]
        top.append(crop_at(inp, reg, (x, y)))
        t1.append(name.split(",")[0] + ": whole frame")
        reg, inp = tile_with(real[stem], (x, y))
        mid.append(crop_at(inp, reg, (x, y)))
        t2.append(name.split(",")[0] + ": tile")
    picks, bottom, t3 = [], [], []
    for f, g in zip(gen_files, gen):
        lab = f.replace("images", "labels").rsplit(".", 1)[0] + ".txt"
        boxes = [list(map(float, l.split())) for l in open(lab)] if os.path.exists(lab) else []
        if boxes and len(picks) < 3 and boxes[0][3] < 0.5:
            picks.append(f)
            cx, cy = boxes[0][1] * 640, boxes[0][2] * 640
            bottom.append(crop_at(g, (0, 0, 640, 640), (cx, cy)))
            t3.append("generated " + ["galaxy", "nebula", "cluster"][int(boxes[0][0])])
    panel_grid([top, mid, bottom], [t1, t2, t3], os.path.join(a.out, "realsky-inputs.png"), cell=128, zoom=1)

    # figure 2: luminance histograms of the inputs
    bins = np.linspace(0, 1, 65)
    def hist(xs):
        h = sum(np.histogram(content(x).mean(0), bins)[0] for x in xs).astype(float)
        return h / h.sum()
    mids = (bins[:-1] + bins[1:]) / 2
    series = [
        ("real raw, whole frame (3 frames)", (200, 0, 0), mids, hist([real[s][0][1] for s in list(REAL)[:3]])),
        ("real raw, object tile (3 frames)", (230, 120, 0), mids,
         hist([tile_with(real[s], REAL[s][:2])[1] for s in list(REAL)[:3]])),
        ("generated training images", (0, 0, 200), mids, hist(gen)),
    ]
    if a.dev:
        series.append(("real stretched patches (dev)", (0, 150, 0), mids, hist(dev)))
    line_chart(series, os.path.join(a.out, "realsky-histograms.png"), "input value (luminance)", "share of pixels", 1.0,
               ylog=True)

    # figure 3: mean star profiles in model pixels
    def mean_profile(xs):
        ps = [p for p in (profile(x) for x in xs) if p is not None]
        return np.mean(ps, 0)
    r = np.arange(7)
    series = [
        ("real raw, whole frame", (200, 0, 0), r, mean_profile([real[s][0][1] for s in list(REAL)[:3]])),
        ("real raw, object tile", (230, 120, 0), r, mean_profile([tile_with(real[s], REAL[s][:2])[1] for s in list(REAL)[:3]])),
        ("generated training images", (0, 0, 200), r, mean_profile(gen)),
    ]
    if a.dev:
        series.append(("real stretched patches (dev)", (0, 150, 0), r, mean_profile(dev)))
    line_chart(series, os.path.join(a.out, "realsky-star-profiles.png"), "radius (model pixels)",
               "star profile / peak", 6.0)

    # figure 4: the two curve orders on the same tile (before/after of the option measured in REAL-SKY.md)
    stem = list(REAL)[0]
    x, y, name = REAL[stem]
    frame = glob.glob(os.path.join(a.shared, "data", "real-fits", stem + ".fit*"))[0]
    after = tile_with(real[stem], (x, y))
    before = tile_with(model_inputs(a.bin, frame, "before", tmp), (x, y))
    panel_grid([[crop_at(after[1], after[0], (x, y)), crop_at(before[1], before[0], (x, y))]],
               [[name.split(",")[0] + ": stretch after", "stretch before shrinking"]],
               os.path.join(a.out, "realsky-curve-order.png"), cell=128, zoom=1)
    for f in sorted(glob.glob(os.path.join(a.out, "realsky-*.png"))):
        print(f"{f}: {os.path.getsize(f) // 1024} KiB")


if __name__ == "__main__":
    main()
