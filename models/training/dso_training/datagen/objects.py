# SPDX-License-Identifier: GPL-3.0-or-later
"""What every synthetic deep-sky object renderer returns, and the choice of which kind to draw.

Renderers evaluate their object only on the window where it overlaps the image (a galaxy twice the patch size costs
no more than the patch), in units of the stack's per-pixel noise sigma (G channel) and in true colour; the scene
applies the sensor's channel gains, the PSF and the noise. A label box is either explicit (clusters: where the
members are) or found by threshold: where the object's own noise-free light, smoothed on ~3 % of its size, is
above 1 sigma of the noise, which is what a person sees and boxes in an AutoSTF-stretched image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# classes (data.yaml order)
GALAXY, NEBULA, CLUSTER = 0, 1, 2


@dataclass
class Window:
    """The part of the image an object covers: origin, size, and offset grids (pixel centres minus the
    object centre), float32."""
    y0: int
    x0: int
    h: int
    w: int
    cy: float
    cx: float

    def grids(self) -> tuple[np.ndarray, np.ndarray]:
        yy = (np.arange(self.y0, self.y0 + self.h, dtype=np.float32) + 0.5 - self.cy)[:, None]
        xx = (np.arange(self.x0, self.x0 + self.w, dtype=np.float32) + 0.5 - self.cx)[None, :]
        return np.broadcast_to(yy, (self.h, self.w)), np.broadcast_to(xx, (self.h, self.w))


def window_for(shape: tuple[int, int], cy: float, cx: float, radius: float) -> Window | None:
    """Intersection of a square of half-size `radius` around (cy, cx) with the image; None if empty."""
    h, w = shape
    y0, y1 = max(0, int(math.floor(cy - radius))), min(h, int(math.ceil(cy + radius)))
    x0, x1 = max(0, int(math.floor(cx - radius))), min(w, int(math.ceil(cx + radius)))
    if y1 - y0 < 1 or x1 - x0 < 1:
        return None
    return Window(y0, x0, y1 - y0, x1 - x0, cy, cx)


@dataclass
class Rendered:
    """One object's contribution. `light` (3, h, w) true colour in noise sigmas on `win`; `transmission` (h, w)
    multiplies what lies behind (field stars, nebulosity); `stars` are point sources (y, x in image pixels,
    SNR as defined in measure_real, colours (n, 3)) the scene draws with its PSF; `box` (x0, y0, x1, y1) overrides
    the threshold box."""
    cls: int
    kind: str
    win: Window
    light: np.ndarray | None = None
    transmission: np.ndarray | None = None
    stars_y: np.ndarray = field(default_factory=lambda: np.zeros(0))
    stars_x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    stars_snr: np.ndarray = field(default_factory=lambda: np.zeros(0))
    stars_col: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    box: tuple[float, float, float, float] | None = None
    smooth: float = 2.0  # smoothing (px) of the threshold box


# Kinds by class with (min, max) visible diameter in px they make sense at, and relative frequency.
KINDS = {
    GALAXY: [("elliptical", 6, 700, 1.0), ("spiral", 20, 2000, 1.6), ("edge_on", 20, 2000, 0.9),
             ("dwarf", 8, 260, 0.6)],
    NEBULA: [("emission", 40, 2000, 2.2), ("reflection", 30, 900, 0.8), ("dark", 40, 1500, 0.6),
             ("planetary", 6, 120, 0.8), ("remnant", 80, 2000, 0.5)],
    CLUSTER: [("open", 30, 1400, 1.4), ("globular", 12, 900, 1.0)],
}


def choose_kind(rng: np.random.Generator, cls: int, size: float) -> str:
    """A kind of the class that fits a visible diameter (falls back to the nearest fitting one)."""
    options = [(k, f) for k, lo, hi, f in KINDS[cls] if lo <= size <= hi]
    if not options:
        k = min(KINDS[cls], key=lambda t: min(abs(size - t[1]), abs(size - t[2])))
        return k[0]
    weights = np.array([f for _, f in options])
    return options[int(rng.choice(len(options), p=weights / weights.sum()))][0]
