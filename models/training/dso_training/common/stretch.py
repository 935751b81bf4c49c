# SPDX-License-Identifier: GPL-3.0-or-later
"""AutoSTF display stretch (PixInsight / KStars defaults), the same as the driver's `models/src/stretch`, and the
MAD-to-sigma constant: written once here, used by the generator, the training scripts and the tools, so that every
script stretches a frame the way the detector will.

Per channel (unlinked): shadows at median - 2.8 x 1.4826 x MAD, then the midtones transfer function with the
balance that puts the median at 0.25. Median and MAD are taken like the Rust code does (every k-th sample when a
plane has more than 2^20 pixels, the upper median) so the detector sees the same pixels in training and in the
driver. `target` can be varied for augmentation (the smart-telescope JPEGs of the dev set are darker).

An unlinked stretch leaves a raw one-shot-colour frame's sensor response in the colours (green-tinted stars, as
in KStars on raw Seestar data). Smart telescopes instead colour-calibrate and stretch all channels alike; `linked`
does that: background neutralised, channels divided by the sensor gains, one AutoSTF computed on the mean of the
channels applied to all three.
"""

from __future__ import annotations

import numpy as np

SHADOWS_CLIP = -2.8
TARGET_BACKGROUND = 0.25
MAD_TO_SIGMA = 1.4826
MAX_SAMPLES = 1 << 20


def mtf(m: float, x: np.ndarray) -> np.ndarray:
    """Midtones transfer: 0 -> 0, m -> 0.5, 1 -> 1."""
    x = np.clip(x, 0.0, 1.0)
    den = (2.0 * m - 1.0) * x - m
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(den != 0, ((m - 1.0) * x) / np.where(den == 0, 1, den), 0.5)
    return np.clip(y, 0.0, 1.0)


def median_mad(plane: np.ndarray) -> tuple[float, float]:
    """Upper median and MAD from an evenly spaced subsample (as stretch.rs)."""
    flat = np.ravel(plane)
    if flat.size == 0:
        return 0.0, 0.0
    step = -(-flat.size // MAX_SAMPLES)
    s = flat[::step]
    s = s[np.isfinite(s)].astype(np.float32)
    if s.size == 0:
        return 0.0, 0.0
    mid = s.size // 2
    med = float(np.partition(s, mid)[mid])
    dev = np.abs(s - np.float32(med))
    return med, float(np.partition(dev, mid)[mid])


def robust_sigma(x: np.ndarray) -> float:
    """1.4826 x median absolute deviation of the finite values (exact medians, every sample): a Gaussian sigma
    that ignores stars."""
    x = np.asarray(x)
    x = x[np.isfinite(x)]
    med = np.median(x)
    return float(MAD_TO_SIGMA * np.median(np.abs(x - med)))


def auto_params(plane: np.ndarray, target: float = TARGET_BACKGROUND,
                clip: float = SHADOWS_CLIP) -> tuple[float, float]:
    """(shadows, midtones) for a plane in [0, 1]; `clip` is the shadows' distance from the median in sigmas."""
    med, mad = median_mad(plane)
    sigma = MAD_TO_SIGMA * mad
    shadows = min(max(med + clip * sigma, 0.0), 1.0) if sigma > 0 else 0.0
    rng = max(1.0 - shadows, np.finfo(np.float32).eps)
    x = min(max((med - shadows) / rng, 0.0), 1.0)
    midtones = float(mtf(target, np.array(x)))
    return shadows, midtones


def stretch_plane(plane: np.ndarray, target: float = TARGET_BACKGROUND) -> np.ndarray:
    """One linear plane in [0, 1] -> stretched float32 in [0, 1]."""
    shadows, m = auto_params(plane, target)
    rng = max(1.0 - shadows, np.finfo(np.float32).eps)
    return mtf(m, (np.asarray(plane, dtype=np.float32) - shadows) / rng).astype(np.float32)


def to_8bit(planes: np.ndarray, target: float = TARGET_BACKGROUND) -> np.ndarray:
    """(3, H, W) linear data in [0, 1] -> (H, W, 3) uint8, each channel stretched on its own."""
    out = np.stack([stretch_plane(p, target) for p in planes], axis=-1)
    return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)


def to_8bit_linked(planes: np.ndarray, gains, target: float = TARGET_BACKGROUND) -> np.ndarray:
    """(3, H, W) linear data -> (H, W, 3) uint8 with background neutralisation, white balance by 1/gains and one
    stretch for all channels."""
    g = np.asarray(gains, dtype=np.float32)
    g = g / g[1]
    med = [median_mad(p)[0] for p in planes]
    bal = np.stack([(planes[c] - med[c]) / g[c] + med[1] for c in range(3)]).astype(np.float32)
    shadows, m = auto_params(bal.mean(axis=0), target)
    rng = max(1.0 - shadows, np.finfo(np.float32).eps)
    out = np.stack([mtf(m, (bal[c] - shadows) / rng) for c in range(3)], axis=-1)
    return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)
