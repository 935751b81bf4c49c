# SPDX-License-Identifier: GPL-3.0-or-later
"""Writing what was generated: stretched JPEG, YOLO labels, linear 16-bit FITS with capture-software headers, and
the ultralytics `data.yaml`.

FITS headers carry what INDI and capture programs write (compare `ccd_simulator_with_wcs.fits` and the Seestar
frames in shared/data/real-fits): EXPTIME, GAIN, XPIXSZ/YPIXSZ, PIXSIZE1/PIXSIZE2 (the INDI CCD simulator's
directory mode refuses files without PIXSIZE1), FOCALLEN, ROWORDER='TOP-DOWN' (row 0 is the top of the image),
BAYERPAT with XBAYROFF/YBAYROFF for mosaics, DATE-OBS and INSTRUME. Values that describe no real exposure (the
date, the optics) are drawn from the image's own random stream, so files are byte-identical for a seed.
"""

from __future__ import annotations

import datetime as dt
import io
import os

import numpy as np
from PIL import Image

from .bayer import demosaic, mosaic
from .catalog import CLASSES
from .fits import write_fits_u16
from .priors import Scene
from ..common.stretch import to_8bit, to_8bit_linked

PIXEL_SIZES_UM = (2.4, 2.9, 3.76, 3.8, 4.63)  # IMX178/462/533/1600/294 class sensors
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def yolo_lines(labels, w: int, h: int) -> str:
    """`class cx cy w h` per box, normalised to [0, 1], six decimals."""
    out = []
    for lab in labels:
        x0, y0 = min(max(lab.x0, 0.0), w), min(max(lab.y0, 0.0), h)
        x1, y1 = min(max(lab.x1, 0.0), w), min(max(lab.y1, 0.0), h)
        if x1 - x0 <= 0 or y1 - y0 <= 0:
            continue
        out.append(f"{lab.cls} {(x0 + x1) / 2 / w:.6f} {(y0 + y1) / 2 / h:.6f} {(x1 - x0) / w:.6f} {(y1 - y0) / h:.6f}")
    return "\n".join(out) + ("\n" if out else "")


def display_rgb(adu: np.ndarray, bayer: str | None) -> np.ndarray:
    """The linear planes a viewer sees: the frame itself, or the mosaic demosaiced again (bilinear)."""
    if bayer:
        return demosaic(mosaic(adu, bayer), bayer) / 65535.0
    return adu.astype(np.float32) / 65535.0


def jpeg_bytes(planes: np.ndarray, target: float, quality: int = 92, gains=None) -> bytes:
    """AutoSTF-stretched 8-bit JPEG of (3, H, W) linear planes in [0, 1]: per channel (unlinked), or, given the
    sensor `gains`, colour-calibrated and linked (stretch.to_8bit_linked)."""
    buf = io.BytesIO()
    rgb = to_8bit(planes, target) if gains is None else to_8bit_linked(planes, gains, target)
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality, optimize=False)
    return buf.getvalue()


def header_cards(rng: np.random.Generator, scene: Scene, bias: float, bayer: str | None, obj: str,
                 history: str) -> list[tuple]:
    """FITS cards (after the mandatory ones) describing a plausible capture of this frame."""
    pix = float(rng.choice(PIXEL_SIZES_UM))
    scale = rng.uniform(1.2, 3.8)  # arcsec per pixel of smart telescopes and small refractors
    focal = round(206.265 * pix / scale, 1)
    when = EPOCH + dt.timedelta(seconds=int(rng.integers(0, 2 * 365 * 86400)))
    sub = 10.0
    egain = scene.full_well_e / (65535.0 - bias)  # electrons per ADU of this stack sum
    cards = [("ROWORDER", "TOP-DOWN", "Row order"),
             ("INSTRUME", "DSO Detector datagen", "Camera (synthetic)"),
             ("TELESCOP", "Synthetic refractor", "Telescope"),
             ("OBSERVER", "dso_training.datagen", "Observer"),
             ("OBJECT", obj[:60], "Object name"),
             ("EXPTIME", round(sub * scene.n_subs, 3), "Total Exposure Time (s)"),
             ("EXPOSURE", round(sub * scene.n_subs, 3), "Total Exposure Time (s)"),
             ("STACKCNT", int(scene.n_subs), "Number of stacked sub-frames"),
             ("CCD-TEMP", round(float(rng.uniform(-10, 25)), 2), "CCD Temperature (Celsius)"),
             ("PIXSIZE1", pix, "Pixel Size 1 (microns)"),
             ("PIXSIZE2", pix, "Pixel Size 2 (microns)"),
             ("XBINNING", 1, "Binning factor in width"),
             ("YBINNING", 1, "Binning factor in height"),
             ("XPIXSZ", pix, "X binned pixel size in microns"),
             ("YPIXSZ", pix, "Y binned pixel size in microns"),
             ("FRAME", "Light", "Frame Type"),
             ("IMAGETYP", "Light Frame", "Frame Type"),
             ("FOCALLEN", focal, "Focal Length (mm)"),
             ("SCALE", round(scale, 4), "arcsecs per pixel"),
             ("GAIN", int(rng.choice([0, 80, 100, 120, 200])), "Gain"),
             ("EGAIN", round(egain, 5), "Electrons per ADU"),
             ("OFFSET", int(round(bias)), "Bias level (ADU)"),
             ("DATE-OBS", when.strftime("%Y-%m-%dT%H:%M:%S.000"), "UTC start date of observation")]
    if bayer:
        cards += [("BAYERPAT", bayer, "Bayer color pattern"),
                  ("XBAYROFF", 0, "X offset of Bayer array"),
                  ("YBAYROFF", 0, "Y offset of Bayer array")]
    cards += [("CREATOR", "DSO Detector dso_training.datagen", "GPL-3.0-or-later"),
              ("COMMENT", None, "Synthetic frame; linear, not calibrated; see docs/DATAGEN.md"),
              ("HISTORY", None, history[:70])]
    return cards


def write_fits_frame(path: str, adu: np.ndarray, bayer: str | None, cards: list[tuple]) -> None:
    """Mosaic (2-D) when `bayer`, else a 3-plane RGB cube (NAXIS3 = 3, planes R, G, B)."""
    data = mosaic(adu, bayer).astype(np.uint16) if bayer else adu
    write_fits_u16(path, np.ascontiguousarray(data), cards)


def write_data_yaml(out: str) -> None:
    names = "\n".join(f"  {i}: {n}" for i, n in enumerate(CLASSES))
    # no `path:` key: ultralytics then takes the folder holding data.yaml, so the set can be moved (and two runs
    # with one seed are byte-identical wherever they are written)
    text = (f"# Generated by python3 -m dso_training.datagen (GPL-3.0-or-later); see docs/DATAGEN.md\n"
            f"train: images/train\nval: images/val\nnc: {len(CLASSES)}\nnames:\n{names}\n")
    with open(os.path.join(out, "data.yaml"), "w", encoding="utf-8") as f:
        f.write(text)


def make_dirs(out: str, fits: bool) -> None:
    for split in ("train", "val"):
        os.makedirs(os.path.join(out, "images", split), exist_ok=True)
        os.makedirs(os.path.join(out, "labels", split), exist_ok=True)
    if fits:
        os.makedirs(os.path.join(out, "fits"), exist_ok=True)
