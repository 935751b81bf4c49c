# SPDX-License-Identifier: GPL-3.0-or-later
"""Bayer colour-filter mosaics: make one from an RGB image, and demosaic one back (bilinear).

One-shot-colour cameras (the Seestar S50's IMX462, most smart telescopes) record one colour per pixel in a 2x2
pattern named by its top-left 2x2 cell read row by row (`BAYERPAT`, e.g. 'GRBG' = G R / B G). The generator
mosaics its linear frames so FITS files look like raw captures, and demosaics them again for the JPEG so the
network also sees interpolation artefacts. Bilinear interpolation is what KStars and INDI previews use.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import convolve

PATTERNS = ("RGGB", "GRBG", "GBRG", "BGGR")
_CHANNEL = {"R": 0, "G": 1, "B": 2}


def channel_map(pattern: str) -> np.ndarray:
    """2x2 array of channel indices (0=R, 1=G, 2=B) for a pattern name."""
    pattern = pattern.upper()
    if pattern not in PATTERNS:
        raise ValueError(f"unknown Bayer pattern {pattern!r}; expected one of {PATTERNS}")
    return np.array([[_CHANNEL[pattern[0]], _CHANNEL[pattern[1]]],
                     [_CHANNEL[pattern[2]], _CHANNEL[pattern[3]]]])


def masks(shape: tuple[int, int], pattern: str) -> np.ndarray:
    """Boolean (3, H, W) masks: which pixels carry R, G, B."""
    cmap = channel_map(pattern)
    h, w = shape
    idx = np.tile(cmap, ((h + 1) // 2, (w + 1) // 2))[:h, :w]
    return np.stack([idx == c for c in range(3)])


def mosaic(rgb: np.ndarray, pattern: str) -> np.ndarray:
    """(3, H, W) planes -> (H, W) mosaic keeping each pixel's own colour."""
    m = masks(rgb.shape[1:], pattern)
    return np.where(m[0], rgb[0], np.where(m[1], rgb[1], rgb[2]))


_K_RB = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=np.float64) / 4.0
_K_G = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]], dtype=np.float64) / 4.0


def demosaic(raw: np.ndarray, pattern: str) -> np.ndarray:
    """(H, W) mosaic -> (3, H, W) float planes by bilinear interpolation (edges mirrored)."""
    raw = np.asarray(raw, dtype=np.float64)
    m = masks(raw.shape, pattern)
    out = np.empty((3,) + raw.shape)
    for c in range(3):
        kernel = _K_G if c == 1 else _K_RB
        sparse = np.where(m[c], raw, 0.0)
        weight = convolve(m[c].astype(np.float64), kernel, mode="mirror")
        out[c] = convolve(sparse, kernel, mode="mirror") / np.maximum(weight, 1e-12)
    return out
