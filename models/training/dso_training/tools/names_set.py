#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real deep-sky photographs (Debian's `stellarium-data`) as FITS frames with a WCS and a known main object.

Why: issue 13 asks that the main catalogued object of a real frame be named in at least 9 of 10 frames, and only 8
real FITS frames exist here. Stellarium ships 555 real photographs with the J2000 RA/Dec of their four corners
(`dso_training.datagen.stellarium` reads them); placed on the sky with a TAN WCS, each becomes a frame whose main object
is known, for `dso-detect detect` and `names_eval.py` to measure naming on.

Per photograph: the luminance as 16-bit mono (BZERO 32768), rows in the PNG's stored order (the driver keeps stored
order: frame row 0 = FITS row 1); CRVAL = the sky position of the image centre (mean of the corners' unit vectors);
the corners projected onto the tangent plane there (xi east, eta north, degrees) and CD, CRPIX fitted to their pixel
positions by least squares. Texture coordinate (0,0) is the image's bottom-left (row = (1 - v)·H): checked with
`--check-flip`, which compares the brightness at the predicted positions of catalogued objects under both choices.
Photographs whose fit misses a corner by more than 2 % of the image size are skipped.

The main object (OpenNGC, `models/data/openngc.tsv`): the one the file name names (m1dumont → M 1, n7000 → NGC
7000, ic434 → IC 434) when its centre is in the image (rule `file`); otherwise the most prominent object (major axis
× 10^(-0.4·mag)) whose centre is in the central 50 % of the image (rule `prominence`); none → the photograph is
skipped. Output: `<stem>.fits` and `names.tsv` (file, main object as OpenNGC's display name, rule) in a folder
under /tmp by default. The images are their authors' (credits: /usr/share/doc/stellarium-data/copyright): never
write them into the repository.

Stellarium's textures have their sky clipped to black (they are blended over Stellarium's own sky): 50–90 % of the
pixels of many are exactly 0, which no camera frame is. `--sky SIGMA` adds a pedestal and Gaussian noise so that
the frames have a sky to measure against.

    python3 -m dso_training.tools.names_set [--out /tmp/names-set] [--count N] [--seed S] [--sky SIGMA]
"""

import argparse
import csv
import math
import os
import random
import re
import sys
import zlib

import numpy as np

from ..common.paths import CATALOG_TSV
from ..datagen import stellarium
from ..datagen.catalog import DsoObject
from ..datagen.fits import write_fits_u16

CATALOG = str(CATALOG_TSV)
MAX_RESIDUAL = 0.02  # of the image's long side
FILE_PREFIX = {"m": "M", "n": "NGC", "ngc": "NGC", "ic": "IC", "p": "PGC", "u": "UGC", "barnard": "B"}


def display_name(row: dict) -> str:
    """OpenNGC's display name as the Rust catalogue writes it (`M 1`, `NGC 7000`, `IC 434`, `ESO 056-115`)."""
    if row["messier"]:
        return f"M {int(row['messier'])}"
    m = re.fullmatch(r"([A-Za-z]+)(\d+)(.*)", row["name"])
    if not m:
        return row["name"]
    prefix, num, tail = m.groups()
    if prefix in ("ESO", "PGC", "UGC", "MWSC") and tail:
        return f"{prefix} {num}{tail}"
    sep = " " if tail.startswith(" ") else ""
    return f"{prefix} {num.lstrip('0')}{sep}{tail.strip()}"


def load_catalog(path: str = CATALOG) -> list[dict]:
    """The embedded catalogue's rows with numbers parsed and `display` and `vec` (unit vector) added."""
    with open(path, encoding="utf-8") as f:
        lines = [line for line in f if not line.startswith("#")]
    rows = list(csv.DictReader(lines, delimiter="\t"))
    for r in rows:
        r["ra"], r["dec"] = float(r["ra_deg"]) % 360.0, float(r["dec_deg"])
        r["major"] = float(r["maj_arcmin"]) if r["maj_arcmin"] else None
        r["mag"] = float(r["mag"]) if r["mag"] else None
        r["display"] = display_name(r)
    ra, dec = np.radians([r["ra"] for r in rows]), np.radians([r["dec"] for r in rows])
    vecs = np.column_stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])
    for r, v in zip(rows, vecs):
        r["vec"] = v
    return rows


def fit_wcs(tile, flip: bool = True):
    """(crval, crpix, cd, residual as a fraction of the long side) for a tile; `flip`: v = 0 is the bottom row."""
    w, h = tile.width, tile.height
    uv = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=np.float64)
    # Box coordinates (origin at the top-left corner of the first stored row); FITS pixel = box + 0.5.
    px = np.column_stack([uv[:, 0] * w, ((1.0 - uv[:, 1]) if flip else uv[:, 1]) * h])
    xi, eta, _ = tile.plane.project([c[0] for c in tile.corners], [c[1] for c in tile.corners])
    a = np.column_stack([xi, eta, np.ones(4)])
    coef, *_ = np.linalg.lstsq(a, px, rcond=None)  # px = [xi eta 1] @ coef
    residual = float(np.hypot(*(a @ coef - px).T).max()) / max(w, h)
    m = coef[:2].T  # px - c = m @ (xi, eta)
    cd = np.linalg.inv(m)
    crpix = coef[2] + 0.5
    return (tile.plane.ra0, tile.plane.dec0), crpix, cd, residual


def sky_to_box(crval, crpix, cd, rows):
    """Box pixel coordinates (x, y arrays) of catalogue rows through a TAN WCS; NaN behind the plane."""
    plane = stellarium.TanPlane(*crval)
    xi, eta, z = plane.project([r["ra"] for r in rows], [r["dec"] for r in rows])
    p = np.linalg.inv(cd) @ np.vstack([xi, eta])
    x, y = p[0] + crpix[0] - 0.5, p[1] + crpix[1] - 0.5
    x[z <= 0], y[z <= 0] = np.nan, np.nan
    return x, y


def near(tile, catalog):
    """Catalogue rows within the tile's radius (plus a margin) of its centre."""
    c = tile.plane.centre
    cos_r = math.cos(math.radians(tile.radius_deg * 1.2 + 0.05))
    return [r for r in catalog if r["vec"] @ c > cos_r]


def file_object(stem: str, rows: list[dict]):
    """The catalogue row the file name names, or None."""
    s = stem.lower()
    m = re.match(r"(ngc|ic|barnard|m|n|p|u)_?(\d+)", s)
    if m:
        prefix, num = FILE_PREFIX[m.group(1)], int(m.group(2))
        for r in rows:
            if (prefix == "M" and r["messier"] and int(r["messier"]) == num) or \
               (prefix != "M" and re.fullmatch(rf"{prefix}0*{num}", r["name"])):
                return r
        return None
    word = re.sub(r"[^a-z]", "", s.split("-")[0])
    for r in rows:
        if any(re.sub(r"[^a-z]", "", c.lower()) == word for c in r["common"].split(",") if c):
            return r
    return None


def main_object(stem, tile, wcs, rows):
    """(row, rule) of the photograph's main object, or (None, reason)."""
    if not rows:
        return None, "no catalogued object near"
    x, y = sky_to_box(*wcs[:3], rows)
    w, h = tile.width, tile.height
    named = file_object(stem, rows)
    if named is not None:
        i = rows.index(named)
        if 0 <= x[i] < w and 0 <= y[i] < h:
            return named, "file"
    best, best_score = None, 0.0
    for r, xi, yi in zip(rows, x, y):
        if not (w / 4 <= xi <= 3 * w / 4 and h / 4 <= yi <= 3 * h / 4):
            continue
        score = (r["major"] or 0.5) * 10 ** (-0.4 * (r["mag"] if r["mag"] is not None else 15.0))
        if score > best_score:
            best, best_score = r, score
    return (best, "prominence") if best else (None, "nothing catalogued in the central 50 %")


def luminance_u16(path: str, sky: float = 0.0, seed: int = 0) -> np.ndarray:
    """The photograph's luminance (Rec. 601 weights), 8 → 16 bits, rows as stored; `sky` > 0 adds a pedestal of
    8·sky and Gaussian noise of σ = sky (16-bit units, seeded)."""
    rgb = stellarium.load_rgb(path)
    lum = (rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)) * 65535.0
    if sky > 0:
        lum = lum * (1.0 - 8 * sky / 65535.0) + 8 * sky + np.random.default_rng(seed).normal(0.0, sky, lum.shape)
    return np.clip(np.round(lum), 0, 65535).astype(np.uint16)


def check_flip(tiles, catalog):
    """Prints the mean brightness (in image-median units) at the predicted positions of bright off-centre objects
    for both orientations: the right one puts them on light."""
    score = {True: [], False: []}
    for t in tiles:
        rows = [r for r in near(t, catalog) if r["mag"] is not None and r["mag"] < 11 and (r["major"] or 0) > 1]
        if not rows:
            continue
        lum = luminance_u16(t.image).astype(np.float64)
        med = np.median(lum) + 1.0
        for flip in (True, False):
            wcs = fit_wcs(t, flip)
            x, y = sky_to_box(*wcs[:3], rows)
            for xi, yi in zip(x, y):
                off = abs(yi / t.height - 0.5)
                if 0 <= xi < t.width and 0 <= yi < t.height and off > 0.15:
                    r = max(2, t.width // 100)
                    patch = lum[max(0, int(yi) - r):int(yi) + r + 1, max(0, int(xi) - r):int(xi) + r + 1]
                    score[flip].append(patch.mean() / med)
    for flip, s in score.items():
        print(f"v=0 {'bottom' if flip else 'top'}: {len(s)} objects, mean brightness {np.mean(s):.2f} × median, "
              f"median {np.median(s):.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="/tmp/names-set")
    ap.add_argument("--count", type=int, default=0, help="photographs, evenly chosen (0 = all)")
    ap.add_argument("--seed", type=int, default=0, help="offset of the even choice")
    ap.add_argument("--dir", default=stellarium.STELLARIUM_DIR)
    ap.add_argument("--sky", type=float, default=0.0,
                    help="add a sky: pedestal 8·SKY and Gaussian noise σ = SKY (16-bit units; the textures' skies "
                         "are clipped to black for blending in Stellarium, which no camera frame is)")
    ap.add_argument("--check-flip", action="store_true", help="only check the vertical orientation and exit")
    args = ap.parse_args()
    if not stellarium.available(args.dir):
        sys.exit(f"no textures.json in {args.dir}: apt-get install stellarium-data")
    catalog = load_catalog()
    # Only the tiles' geometry is used here (the main object comes from openngc.tsv); load_tiles wants at least one
    # object to box, so it gets a dummy at the south pole.
    dummy = DsoObject("none", "G", 0, 0.0, -90.0, None, None, 0.0, "", None)
    tiles = stellarium.load_tiles(args.dir, objects=[dummy])
    if args.count and args.count < len(tiles):
        step = len(tiles) / args.count
        start = random.Random(args.seed).random() * step
        tiles = [tiles[int(start + i * step)] for i in range(args.count)]
    if args.check_flip:
        check_flip(tiles, catalog)
        return
    os.makedirs(args.out, exist_ok=True)
    written, skipped = [], {"fit residual > 2 %": [], "no main object": []}
    for t in tiles:
        stem = os.path.splitext(os.path.basename(t.image))[0]
        wcs = fit_wcs(t)
        if wcs[3] > MAX_RESIDUAL:
            skipped["fit residual > 2 %"].append(f"{stem} ({100 * wcs[3]:.1f} %)")
            continue
        obj, rule = main_object(stem, t, wcs, near(t, catalog))
        if obj is None:
            skipped["no main object"].append(f"{stem} ({rule})")
            continue
        (ra0, dec0), crpix, cd, _ = wcs
        cards = [("CTYPE1", "RA---TAN"), ("CTYPE2", "DEC--TAN"), ("CRVAL1", ra0), ("CRVAL2", dec0),
                 ("CRPIX1", float(crpix[0])), ("CRPIX2", float(crpix[1])),
                 ("CD1_1", float(cd[0, 0])), ("CD1_2", float(cd[0, 1])),
                 ("CD2_1", float(cd[1, 0])), ("CD2_2", float(cd[1, 1])),
                 ("RADESYS", "ICRS"), ("EQUINOX", 2000.0), ("OBJECT", obj["display"]),
                 ("ROWORDER", "TOP-DOWN"), ("COMMENT", None, f"stellarium-data {os.path.basename(t.image)}"),
                 ("COMMENT", None, "credit: " + (t.credit.encode("ascii", "replace").decode()[:60] or "see copyright"))]
        pixels = luminance_u16(t.image, args.sky, zlib.crc32(stem.encode()))
        write_fits_u16(os.path.join(args.out, stem + ".fits"), pixels, cards)
        written.append((stem + ".fits", obj["display"], rule))
    with open(os.path.join(args.out, "names.tsv"), "w", encoding="utf-8") as f:
        f.writelines(f"{a}\t{b}\t{c}\n" for a, b, c in written)
    rules = {r: sum(1 for w in written if w[2] == r) for r in ("file", "prominence")}
    print(f"{args.out}: {len(written)} frames ({rules['file']} named by file, {rules['prominence']} by prominence) "
          f"of {len(tiles)} photographs")
    for reason, stems in skipped.items():
        print(f"skipped, {reason}: {len(stems)}" + (f": {', '.join(stems)}" if stems else ""))


if __name__ == "__main__":
    main()
