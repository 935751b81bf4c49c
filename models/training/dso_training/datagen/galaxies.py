# SPDX-License-Identifier: GPL-3.0-or-later
"""Synthetic galaxies: ellipticals (Sersic), spirals (bulge + exponential disc with logarithmic arms, dust and
H II knots), edge-on discs with dust lanes, and clumpy dwarfs.

Profiles: Sersic (1968) I(r) = I0 exp(-b_n (r/r_e)^(1/n)), b_n ~ 2n - 1/3 + 4/(405 n) (Ciotti & Bertin 1999);
exponential discs (n = 1), vertical sech^2 discs (van der Kruit & Searle 1981); logarithmic spiral arms of pitch
10-30 deg. Every profile is scaled so it falls to 1 noise sigma at the requested visible radius, and `amp` is the
surface brightness (in sigmas) at 5 % of that radius, so the cusp of an n = 4 profile does not decide the
brightness. Colours: old bulges and ellipticals ~4300 K, discs ~6000 K, arms ~10000 K, H II knots H-alpha red.
"""

from __future__ import annotations

import math

import numpy as np

from .colour import band_flux, emission_colour
from .noise import fractal_density
from .objects import GALAXY, Rendered, Window


def sersic_b(n: float) -> float:
    return 2.0 * n - 1.0 / 3.0 + 4.0 / (405.0 * n)


def sersic_profile(r: np.ndarray, radius: float, amp: float, n: float, eps: float = 0.05,
                   cap: float = 60.0) -> np.ndarray:
    """Sersic light equal to 1 at `radius` and `amp` at eps*radius (capped at cap*amp in the cusp). Fainter than
    1.5 at eps*radius, the shape of amp = 1.5 is scaled down: the object never reaches 1 at `radius`."""
    b = sersic_b(n)
    if amp < 1.5:
        return sersic_profile(r, radius, 1.5, n, eps, cap) * np.float32(max(amp, 0.0) / 1.5)
    k = math.log(amp) / (b * (1.0 - eps ** (1.0 / n)))  # (radius / r_e)^(1/n)
    r_e = radius / k ** n
    i0_log = b * k
    prof = np.exp(i0_log - b * (np.maximum(r, 1e-3) / r_e) ** (1.0 / n))
    return np.minimum(prof, cap * amp).astype(np.float32)


def _rot(yy, xx, angle, q):
    c, s = math.cos(angle), math.sin(angle)
    u = c * xx + s * yy
    v = (-s * xx + c * yy) / q
    return u, v


def elliptical(rng: np.random.Generator, win: Window, size: float, amp: float) -> Rendered:
    yy, xx = win.grids()
    u, v = _rot(yy, xx, rng.uniform(0, math.pi), rng.uniform(0.5, 1.0))
    prof = sersic_profile(np.hypot(u, v), size / 2, amp, rng.uniform(2.5, 5.0))
    col = band_flux(rng.uniform(3900, 4700))
    return Rendered(GALAXY, "elliptical", win, light=prof[None] * col[:, None, None].astype(np.float32))


def spiral(rng: np.random.Generator, win: Window, size: float, amp: float) -> Rendered:
    radius = size / 2
    yy, xx = win.grids()
    q = rng.uniform(0.3, 1.0)
    u, v = _rot(yy, xx, rng.uniform(0, math.pi), q)
    r = np.hypot(u, v)
    theta = np.arctan2(v, u)
    amp_d = max(amp, 2.0)
    h = radius / math.log(amp_d)
    disc = amp_d * np.exp(-r / h)
    n_arms = int(rng.choice([2, 2, 2, 3, 4]))
    pitch = math.radians(rng.uniform(10, 30))
    phase = n_arms * (theta - np.log(np.maximum(r, 0.5) / h) / math.tan(pitch)) + rng.uniform(0, 2 * math.pi)
    arm_a, arm_k = rng.uniform(0.5, 0.9), rng.uniform(2, 5)
    wave = ((1 + np.cos(phase)) / 2) ** arm_k
    r_b = radius * rng.uniform(0.06, 0.16)
    fade = 1 - np.exp(-(r / (1.5 * r_b)) ** 2)  # arms start outside the bulge
    arms = 1 - arm_a * fade + arm_a * fade * wave * 2.0
    clumps = fractal_density(rng, (win.h, win.w), beta=2.3, contrast=rng.uniform(0.3, 0.7))
    dust = 1 - rng.uniform(0.2, 0.6) * fade * ((1 + np.cos(phase - rng.uniform(0.4, 0.9))) / 2) ** (arm_k + 2)
    bulge = sersic_profile(np.hypot(u, v * q / max(q, 0.7)), r_b * 2.5, amp_d * rng.uniform(2, 8),
                           rng.uniform(1.5, 3.0))
    c_b, c_d, c_a = band_flux(4300), band_flux(6000), band_flux(11000)
    mix = np.clip(wave * fade, 0, 1)[None]
    disc_l = (disc * arms * clumps * dust)[None] * ((1 - mix) * c_d[:, None, None] + mix * c_a[:, None, None])
    light = (disc_l + bulge[None] * c_b[:, None, None]).astype(np.float32)
    out = Rendered(GALAXY, "spiral", win, light=light)
    _hii_knots(rng, out, win, (wave * fade * disc) ** 2, amp_d)
    return out


def _hii_knots(rng, out: Rendered, win: Window, weight: np.ndarray, amp: float, n_max: int = 60) -> None:
    """H II regions: point-like pink knots placed where `weight` is high (spiral arms)."""
    flat = weight.ravel().astype(np.float64)
    total = flat.sum()
    if total <= 0:
        return
    n = int(rng.integers(5, n_max))
    idx = rng.choice(flat.size, size=n, p=flat / total)
    ys = idx // win.w + win.y0 + rng.uniform(0, 1, n)
    xs = idx % win.w + win.x0 + rng.uniform(0, 1, n)
    snr = amp * rng.uniform(0.5, 3.0, n)
    col = emission_colour(oiii=rng.uniform(0.0, 0.5))[None, :] * np.ones((n, 1)) + band_flux(15000)[None] * 0.3
    out.stars_y, out.stars_x, out.stars_snr, out.stars_col = ys, xs, snr, col


def edge_on(rng: np.random.Generator, win: Window, size: float, amp: float) -> Rendered:
    radius = size / 2
    yy, xx = win.grids()
    angle = rng.uniform(0, math.pi)
    u, v = _rot(yy, xx, angle, 1.0)
    amp_d = max(amp, 2.0)
    h = radius / math.log(amp_d)
    half_thick = radius * rng.uniform(0.06, 0.2)
    z0 = half_thick / math.acosh(math.sqrt(amp_d))
    e = np.exp(-2.0 * np.abs(v) / z0)
    disc = amp_d * np.exp(-np.abs(u) / h) * 4.0 * e / (1.0 + e) ** 2  # sech^2(v / z0) without overflow
    clumps = fractal_density(rng, (win.h, win.w), beta=2.5, contrast=0.3)
    lane_w = z0 * rng.uniform(0.25, 0.6)
    lane = 1 - rng.uniform(0.45, 0.95) * np.exp(-0.5 * ((v - rng.uniform(-0.4, 0.4) * z0) / lane_w) ** 2) \
        * np.exp(-np.abs(u) / (2.5 * h))
    bulge_r = radius * rng.uniform(0.12, 0.3)
    bulge = sersic_profile(np.hypot(u, v / 0.7), bulge_r, amp_d * rng.uniform(1, 5), rng.uniform(1.5, 3.5))
    c_b, c_d = band_flux(4400), band_flux(6200)
    light = ((disc * clumps)[None] * c_d[:, None, None] + bulge[None] * c_b[:, None, None]) * lane[None]
    return Rendered(GALAXY, "edge_on", win, light=light.astype(np.float32))


def dwarf(rng: np.random.Generator, win: Window, size: float, amp: float) -> Rendered:
    radius = size / 2
    yy, xx = win.grids()
    u, v = _rot(yy, xx, rng.uniform(0, math.pi), rng.uniform(0.4, 1.0))
    amp_d = max(amp * 0.5, 2.0)
    prof = sersic_profile(np.hypot(u, v), radius, amp_d, rng.uniform(0.6, 1.2))
    clumps = fractal_density(rng, (win.h, win.w), beta=2.6, contrast=rng.uniform(0.6, 1.1))
    col = band_flux(rng.uniform(6500, 11000))
    out = Rendered(GALAXY, "dwarf", win, light=(prof * clumps)[None] * col[:, None, None].astype(np.float32))
    if rng.random() < 0.5:
        _hii_knots(rng, out, win, prof * clumps ** 2, amp_d, n_max=15)
    return out


RENDERERS = {"elliptical": elliptical, "spiral": spiral, "edge_on": edge_on, "dwarf": dwarf}
