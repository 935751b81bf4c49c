# SPDX-License-Identifier: GPL-3.0-or-later
"""Synthetic star clusters: globulars (Plummer-distributed resolved stars over an unresolved glow) and open
clusters (a loose group of bright, mostly hot stars with a few red giants).

A cluster is only a cluster if it stands out from the field, so membership is set against the scene's own star
counts: members are drawn above a brightness where the field holds few stars, and numerous enough that their
surface density is several times the field's. Positions follow a Plummer (1911) sphere projected on the sky,
Sigma(R) ~ (1 + R^2/a^2)^-2; member brightnesses a power law. The box encloses the members inside the radius
holding 90 % of them (globular: the larger of that and the glow's visible extent).
"""

from __future__ import annotations

import math

import numpy as np

from .colour import band_flux
from .galaxies import sersic_profile
from .objects import CLUSTER, Rendered, Window


def plummer_radii(rng: np.random.Generator, n: int, a: float, r_max: float) -> np.ndarray:
    """Projected radii of a Plummer sphere: the enclosed fraction of the projection is R^2/(R^2 + a^2)."""
    u = rng.uniform(0, (r_max ** 2 / (r_max ** 2 + a ** 2)), n)
    return a * np.sqrt(u / (1 - u))


def _members_box(ys, xs, cy, cx, frac: float = 0.9):
    d = np.hypot(ys - cy, xs - cx)
    if len(d) == 0:
        return None
    r = float(np.quantile(d, frac))
    sel = d <= r
    return (float(xs[sel].min()), float(ys[sel].min()), float(xs[sel].max()) + 1, float(ys[sel].max()) + 1)


def _snr_floor(field_density, area: float, field_count: float = 10.0, lo: float = 5.0) -> float:
    """The SNR above which the field puts at most `field_count` stars on the cluster's area: members drawn above
    it outnumber the field stars of the same brightness several times over."""
    s = lo
    while field_density(s) * area > field_count and s < 5000:
        s *= 1.25
    return s


def open_cluster(rng: np.random.Generator, win: Window, size: float, amp: float, field_density=None) -> Rendered:
    radius = size / 2
    area = math.pi * radius ** 2
    floor = _snr_floor(field_density, area, lo=20.0) if field_density else 20.0
    field_n = max(field_density(floor) * area, 3.0) if field_density else 5.0
    n = int(np.clip(rng.uniform(4, 10) * field_n, 15, 400))
    a = radius * rng.uniform(0.35, 0.8)
    r = plummer_radii(rng, n, a, radius)
    th = rng.uniform(0, 2 * math.pi, n)
    ys, xs = win.cy + r * np.sin(th), win.cx + r * np.cos(th)
    snr = floor * rng.random(n) ** (-1.0 / rng.uniform(0.6, 1.0))
    snr = np.minimum(snr, floor * 3000)
    temp = np.where(rng.random(n) < 0.12, rng.uniform(3500, 4800, n), rng.uniform(7000, 25000, n))
    out = Rendered(CLUSTER, "open", win)
    out.stars_y, out.stars_x, out.stars_snr, out.stars_col = ys, xs, snr, band_flux(temp)
    out.box = _members_box(ys, xs, win.cy, win.cx)
    return out


def globular(rng: np.random.Generator, win: Window, size: float, amp: float, field_density=None) -> Rendered:
    radius = size / 2
    area = math.pi * radius ** 2
    floor = _snr_floor(field_density, area, field_count=40.0) if field_density else 8.0
    n = int(np.clip(rng.uniform(5, 15) * (field_density(floor) * area if field_density else 50), 150, 5000))
    a = radius * rng.uniform(0.12, 0.3)
    r = plummer_radii(rng, n, a, radius * 1.2)
    th = rng.uniform(0, 2 * math.pi, n)
    ys, xs = win.cy + r * np.sin(th), win.cx + r * np.cos(th)
    snr = floor * rng.random(n) ** (-1.0 / rng.uniform(1.2, 1.8))
    snr = np.minimum(snr, floor * 400)
    temp = np.where(rng.random(n) < 0.3, rng.uniform(3800, 4600, n), rng.uniform(5000, 7500, n))
    yy, xx = win.grids()
    glow = sersic_profile(np.hypot(yy, xx), radius * rng.uniform(0.35, 0.7), max(amp, 3.0), 1.0)
    col = band_flux(5000)
    out = Rendered(CLUSTER, "globular", win, light=(glow[None] * col[:, None, None]).astype(np.float32))
    out.stars_y, out.stars_x, out.stars_snr, out.stars_col = ys, xs, snr, band_flux(temp)
    mb = _members_box(ys, xs, win.cy, win.cx, 0.85)
    sel = glow > 1.0
    if sel.any():
        gy, gx = np.nonzero(sel)
        gb = (win.x0 + gx.min(), win.y0 + gy.min(), win.x0 + gx.max() + 1, win.y0 + gy.max() + 1)
        mb = gb if mb is None else (min(mb[0], gb[0]), min(mb[1], gb[1]), max(mb[2], gb[2]), max(mb[3], gb[3]))
    out.box = mb
    return out


RENDERERS = {"open": open_cluster, "globular": globular}
