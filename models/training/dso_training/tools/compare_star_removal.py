#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Compare the naive detector's classical star remover with the pretrained starrem2k13 network on real frames.

Both removers get exactly the same input, the image the naive detector works on: the frame's luminance (Bayer frames
binned 2×2 into super-pixels), binned by the smallest integer factor that brings the long side to 1024 px or less,
and stretched with the same AutoSTF constants as `models/src/stretch.rs`. Ours runs through the Rust example
`starless` (`cargo build --release -p dso-models --examples`), the network through ONNX Runtime, tiled 512×512 with
overlap. Measured:
  * stars: at bright isolated local maxima outside the objects, the fraction of the star's flux (4-px aperture
    minus an 8–12-px annulus) that is gone afterwards, and the residual left in the aperture in noise sigmas;
  * objects: flux kept inside catalogue apertures (NGC galaxies placed with the frame's WCS and OpenNGC sizes; the
    M 13 core found as the peak of the heavily smoothed frame), for the whole aperture and for its 5-px core.

Usage (from the repository root, models/training on PYTHONPATH; ../shared is the team's shared folder):
    python3 -m dso_training.tools.compare_star_removal --shared ../shared --out /tmp/star-removal
Needs numpy, astropy and onnxruntime (pip install numpy astropy onnxruntime==1.31.1).
"""
import argparse
import csv
import os
import struct
import subprocess
import sys
import tempfile
import time
import warnings
import zlib

import numpy as np

from ..common.stretch import MAD_TO_SIGMA, stretch_plane

# Frames and the objects to measure in each: (file, [(name, source)]) where source is "ngc" (WCS + OpenNGC) or
# "peak" (brightest smoothed spot, for M 13 whose frame has no WCS).
FRAMES = [
    ("ngc4535-autofocus3.fits", [("NGC4535", "ngc"), ("NGC4492", "ngc"), ("NGC4472", "ngc"), ("NGC4526", "ngc")]),
    ("M13_blue_0001.fits", [("M13", "peak")]),
    ("Light_NGC7023_10.0s_IRCUT_20240730-224436_wcs.fit", [("NGC7023", "ngc")]),
    ("HorseHead.fits", []),
]
MODEL_SIZE = 512  # starrem2k13 input is [1, 512, 512]
MODEL_SCALE = 382.0  # starrem2k13.py: input = gray8 / 382, output * 382 (upstream's normalisation)
OVERLAP = 64
WORK_SIZE = 1024  # NaiveParams::work_size


def load_gray(path):
    from astropy.io import fits

    with fits.open(path) as hdus:
        hdu = next(h for h in hdus if h.data is not None)
        data, header = hdu.data.astype(np.float32), hdu.header
    if data.ndim == 3:
        data = data.mean(0)
    binning = 1
    if "BAYERPAT" in header:  # colour sensor: 2×2 super-pixels give luminance without demosaicing artefacts
        data, binning = bin_mean(data, 2), 2
    f = -(-max(data.shape) // WORK_SIZE)
    return bin_mean(data, f), header, binning * f


def bin_mean(x, f):
    if f <= 1:
        return x
    h, w = x.shape
    return x[: h // f * f, : w // f * f].reshape(h // f, f, w // f, f).mean((1, 3))


def auto_stretch(x):
    """The frame scaled to [0, 1], then the shared AutoSTF (the driver's: shadows −2.8 σ, background to 0.25)."""
    x = x - np.nanmin(x)
    x = x / max(float(np.nanmax(x)), 1e-12)
    return stretch_plane(x)


def noise_sigma(x):
    d = np.abs(np.diff(x, axis=1)).ravel()
    return MAD_TO_SIGMA * float(np.median(d)) / np.sqrt(2)


def run_network(img, model):
    import onnxruntime as ort

    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    h, w = img.shape
    step = MODEL_SIZE - 2 * OVERLAP
    ny, nx = max(1, -(-(h - 2 * OVERLAP) // step)), max(1, -(-(w - 2 * OVERLAP) // step))
    ph, pw = ny * step + 2 * OVERLAP, nx * step + 2 * OVERLAP
    gray8 = np.round(np.clip(img, 0, 1) * 255).astype(np.float32)
    padded = np.pad(gray8, ((0, ph - h), (0, pw - w)), mode="reflect")
    out = np.zeros_like(padded)
    for ty in range(ny):
        for tx in range(nx):
            y0, x0 = ty * step, tx * step
            tile = padded[y0 : y0 + MODEL_SIZE, x0 : x0 + MODEL_SIZE]
            pred = sess.run(None, {"args_0": (tile / MODEL_SCALE)[None]})[0][0, :, :, 0] * MODEL_SCALE
            # Keep each tile's centre; the first row/column also keep their outer margin.
            ys, xs = (0 if ty == 0 else OVERLAP), (0 if tx == 0 else OVERLAP)
            out[y0 + ys : y0 + MODEL_SIZE - OVERLAP, x0 + xs : x0 + MODEL_SIZE - OVERLAP] = pred[
                ys : MODEL_SIZE - OVERLAP, xs : MODEL_SIZE - OVERLAP
            ]
    return np.clip(out[:h, :w], 0, 255) / 255.0


def run_ours(img, binary):
    with tempfile.TemporaryDirectory() as d:
        src, dst, mask = (os.path.join(d, n) for n in ("in.npy", "out.npy", "mask.npy"))
        np.save(src, img.astype(np.float32))
        subprocess.run([binary, src, dst, mask], check=True)
        return np.load(dst), np.load(mask)


def max_filter(x, r):
    p = np.pad(x, r, mode="edge")
    v = np.lib.stride_tricks.sliding_window_view(p, (2 * r + 1, 2 * r + 1))
    return v.max(axis=(2, 3))


def ring(x, cx, cy, r0, r1):
    h, w = x.shape
    y, xx = np.ogrid[:h, :w]
    d2 = (xx - cx) ** 2 + (y - cy) ** 2
    return x[(d2 >= r0 * r0) & (d2 <= r1 * r1)]


def aperture_flux(x, cx, cy, r, bg_r0, bg_r1):
    """Sum of (x − annulus median) inside radius r."""
    h, w = x.shape
    y0, y1, x0, x1 = max(0, int(cy - bg_r1)), min(h, int(cy + bg_r1) + 1), max(0, int(cx - bg_r1)), min(w, int(cx + bg_r1) + 1)
    sub = x[y0:y1, x0:x1]
    bg = np.median(ring(sub, cx - x0, cy - y0, bg_r0, bg_r1))
    yy, xx = np.ogrid[y0:y1, x0:x1]
    inside = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    return float((sub[inside] - bg).sum()), sub[inside] - bg


def find_stars(img, sigma, exclude, limit=300):
    """Up to `limit` of the brightest isolated stars: 7×7 local maxima standing ≥ 6 σ above their 8–12-px annulus,
    at least 15 px from the border, outside the object apertures, with no brighter maximum within 12 px."""
    h, w = img.shape
    peaks = img == max_filter(img, 3)
    peaks &= img > np.median(img) + 5 * sigma
    peaks[:15], peaks[-15:], peaks[:, :15], peaks[:, -15:] = False, False, False, False
    cand = []
    for y, x in zip(*np.nonzero(peaks)):
        if any((x - ex) ** 2 + (y - ey) ** 2 < (er + 15) ** 2 for ex, ey, er in exclude):
            continue
        height = img[y, x] - np.median(ring(img[y - 12 : y + 13, x - 12 : x + 13], 12, 12, 8, 12))
        if height > 6 * sigma:
            cand.append((height, x, y))
    cand.sort(reverse=True)
    keep = []
    for height, x, y in cand:
        if all((x - kx) ** 2 + (y - ky) ** 2 > 144 for kx, ky in keep):
            keep.append((x, y))
        if len(keep) >= limit:
            break
    return keep


def object_apertures(header, shape, objects, catalog, img, binning):
    out = []
    for name, source in objects:
        if source == "peak":
            k = 31  # box-smooth 31×31 via cumulative sums, then the brightest spot
            c = np.cumsum(np.cumsum(np.pad(img, k // 2 + 1, mode="edge"), 0), 1)
            s = c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]
            s = s[: shape[0], : shape[1]]
            cy, cx = np.unravel_index(np.argmax(s), s.shape)
            out.append((name, float(cx), float(cy), 30.0))
            continue
        from astropy.wcs import WCS

        row = catalog.get(name)
        if row is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wcs = WCS(header)
            x, y = wcs.all_world2pix([[float(row["ra_deg"]), float(row["dec_deg"])]], 0)[0]
            scale = float(np.mean([abs(s.to_value("deg")) for s in wcs.proj_plane_pixel_scales()])) * 3600  # arcsec / px
        # Binned pixel (i, j) covers original pixels i·b … i·b + b − 1: centre at (x + 0.5) / b − 0.5.
        x, y, scale = (x + 0.5) / binning - 0.5, (y + 0.5) / binning - 0.5, scale * binning
        major = float(row["majax_arcmin"] or 1.0) * 60 / scale
        if 0 <= x < shape[1] and 0 <= y < shape[0]:
            out.append((name, float(x), float(y), float(np.clip(major / 2, 8, 120))))
    return out


def write_png(path, gray):
    """8-bit greyscale PNG with the standard library only."""
    g = (np.clip(gray, 0, 1) * 255).astype(np.uint8)
    raw = b"".join(b"\x00" + row.tobytes() for row in g)

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    hdr = struct.pack(">IIBBBBB", g.shape[1], g.shape[0], 8, 0, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", hdr) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--binary", default="target/release/examples/starless")
    ap.add_argument("--out", default=None, help="folder for side-by-side PNG crops")
    a = ap.parse_args()
    model = os.path.join(a.shared, "models", "starrem2k13_model.onnx")
    catalog = {r["name"]: r for r in csv.DictReader(open(os.path.join(a.shared, "data", "catalogs", "openngc_from_pyongc_1.2.2.csv")))}
    if a.out:
        os.makedirs(a.out, exist_ok=True)
    print("| frame | method | time s | stars | star flux removed (median, 10th pct) | residual σ (median) |")
    print("|---|---|---|---|---|---|")
    objects_rows = []
    for fname, objects in FRAMES:
        raw, header, binning = load_gray(os.path.join(a.shared, "data", "real-fits", fname))
        img = auto_stretch(raw)
        sigma = noise_sigma(img)
        apertures = object_apertures(header, img.shape, objects, catalog, img, binning)
        stars = find_stars(img, sigma, [(x, y, r) for _, x, y, r in apertures])
        results = {}
        t = time.time()
        results["classical (ours)"] = run_ours(img, a.binary)[0]
        t_ours = time.time() - t
        t = time.time()
        results["starrem2k13"] = run_network(img, model)
        t_net = time.time() - t
        for method, out in results.items():
            removed, resid = [], []
            for x, y in stars:
                f_in, _ = aperture_flux(img, x, y, 4, 8, 12)
                f_out, pix = aperture_flux(out, x, y, 4, 8, 12)
                if f_in > 0:
                    removed.append(1 - f_out / f_in)
                    resid.append(float(np.sqrt(np.mean(pix**2))) / sigma)
            secs = t_ours if method.startswith("classical") else t_net
            if removed:
                print(f"| {fname} | {method} | {secs:.1f} | {len(removed)} | {np.median(removed):.1%}, {np.percentile(removed, 10):.1%} | {np.median(resid):.2f} |")
            for name, x, y, r in apertures:
                whole = aperture_flux(out, x, y, r, 1.5 * r, 2 * r)[0] / aperture_flux(img, x, y, r, 1.5 * r, 2 * r)[0]
                core = aperture_flux(out, x, y, 5, 1.5 * r, 2 * r)[0] / aperture_flux(img, x, y, 5, 1.5 * r, 2 * r)[0]
                objects_rows.append(f"| {name} ({fname}) | {method} | {r:.0f} | {whole:.1%} | {core:.1%} |")
        if a.out:
            # Side by side: input | ours | network, a 256-px crop around the first object (or the centre).
            cx, cy = (apertures[0][1], apertures[0][2]) if apertures else (img.shape[1] / 2, img.shape[0] / 2)
            x0 = int(np.clip(cx - 128, 0, max(0, img.shape[1] - 256)))
            y0 = int(np.clip(cy - 128, 0, max(0, img.shape[0] - 256)))
            crops = [p[y0 : y0 + 256, x0 : x0 + 256] for p in (img, results["classical (ours)"], results["starrem2k13"])]
            write_png(os.path.join(a.out, os.path.splitext(fname)[0] + "_compare.png"), np.hstack(crops))
        sys.stdout.flush()
    print()
    print("| object | method | aperture radius px | flux kept (aperture) | flux kept (5-px core) |")
    print("|---|---|---|---|---|")
    print("\n".join(objects_rows))


if __name__ == "__main__":
    main()
