# SPDX-License-Identifier: GPL-3.0-or-later
"""Synthetic nebulae: emission (H-alpha red H II regions), reflection (blue, around a hot star), dark clouds
(silhouetted against glow and background stars), planetaries (shells, sometimes bipolar) and supernova-remnant
filaments.

Texture is a lognormal power-law cloud field (noise.py); shape is a soft elliptical envelope distorted by large-scale
noise, so no two nebulae share an outline. Colours follow the emission lines (colour.py).
"""

from __future__ import annotations

import math

import numpy as np

from .colour import band_flux, emission_colour, oiii_colour, reflection_colour
from .noise import fractal_density, power_law_field, ridged
from .objects import NEBULA, Rendered, Window


def _envelope(rng, win: Window, radius: float, q_lo: float = 0.45, softness: float | None = None) -> np.ndarray:
    """Soft, irregular blob: 1 inside ~radius, falling to ~0.1 at the edge; its outline is perturbed."""
    yy, xx = win.grids()
    ang = rng.uniform(0, math.pi)
    q = rng.uniform(q_lo, 1.0)
    c, s = math.cos(ang), math.sin(ang)
    u = (c * xx + s * yy) / radius
    v = (-s * xx + c * yy) / (radius * q)
    r2 = u * u + v * v
    wobble = power_law_field(rng, (win.h, win.w), beta=4.0, k_min=1.0 / max(4.0 * radius, 8.0))
    p = softness if softness is not None else rng.uniform(1.0, 2.0)
    return np.exp(-2.3 * (r2 * np.exp(-0.35 * wobble)) ** p).astype(np.float32)


def _scale_to(light_lum: np.ndarray, amp: float) -> float:
    """Factor putting the 99.5th percentile of a map at `amp` (its maximum when the map is nearly all zero, as
    when only the edge of a small envelope falls inside the window)."""
    if not light_lum.size:
        return 0.0
    peak = float(light_lum.max())
    top = float(np.percentile(light_lum, 99.5))
    if top < 0.05 * peak:
        top = peak
    return amp / top if top > 1e-12 else 0.0


def emission(rng: np.random.Generator, win: Window, size: float, amp: float) -> Rendered:
    env = _envelope(rng, win, size / 2 * 0.8)
    tex = fractal_density(rng, (win.h, win.w), beta=rng.uniform(2.6, 3.4), contrast=rng.uniform(0.7, 1.4),
                          k_min=1.0 / max(size, 16.0))
    lum = env * tex
    if rng.random() < 0.6:  # dark lanes and globules inside
        dust = power_law_field(rng, (win.h, win.w), beta=3.0, k_min=1.0 / max(size / 2, 8.0))
        lum *= np.clip(1.0 - rng.uniform(0.4, 0.95) * np.clip(dust - 0.5, 0, None), 0.03, 1.0)
    lum *= _scale_to(lum, amp)
    col = emission_colour(oiii=rng.uniform(0.0, 0.8), reddening=rng.uniform(0.1, 0.6))
    light = lum[None] * col[:, None, None]
    if rng.random() < 0.35:  # an [O III]-bright core
        core = _envelope(rng, win, size / 2 * rng.uniform(0.2, 0.45)) * tex
        light += (core * _scale_to(core, amp * rng.uniform(0.3, 0.8)))[None] * oiii_colour()[:, None, None]
    out = Rendered(NEBULA, "emission", win, light=light.astype(np.float32), smooth=max(2.0, 0.03 * size))
    if rng.random() < 0.5:
        _embedded_stars(rng, out, win, env, n=int(rng.integers(3, 25)), snr=(30, 3000))
    return out


def _embedded_stars(rng, out: Rendered, win: Window, weight: np.ndarray, n: int, snr: tuple[float, float],
                    temp: tuple[float, float] = (9000, 25000)) -> None:
    flat = weight.ravel().astype(np.float64) ** 2
    if flat.sum() <= 0:
        return
    idx = rng.choice(flat.size, size=n, p=flat / flat.sum())
    out.stars_y = idx // win.w + win.y0 + rng.uniform(0, 1, n)
    out.stars_x = idx % win.w + win.x0 + rng.uniform(0, 1, n)
    out.stars_snr = np.exp(rng.uniform(math.log(snr[0]), math.log(snr[1]), n))
    out.stars_col = band_flux(rng.uniform(*temp, n))


def reflection(rng: np.random.Generator, win: Window, size: float, amp: float) -> Rendered:
    env = _envelope(rng, win, size / 2 * 0.75, softness=rng.uniform(0.6, 1.2))
    tex = fractal_density(rng, (win.h, win.w), beta=rng.uniform(3.0, 3.8), contrast=rng.uniform(0.4, 0.9),
                          k_min=1.0 / max(size, 16.0))
    lum = env * tex
    lum *= _scale_to(lum, amp * 0.7)
    col = reflection_colour(rng.uniform(9000, 20000))
    out = Rendered(NEBULA, "reflection", win, light=(lum[None] * col[:, None, None]).astype(np.float32),
                   smooth=max(2.0, 0.03 * size))
    # the illuminating star(s): bright, hot, near the centre
    n = int(rng.integers(1, 4))
    out.stars_y = win.cy + rng.normal(0, size * 0.05, n)
    out.stars_x = win.cx + rng.normal(0, size * 0.05, n)
    out.stars_snr = np.exp(rng.uniform(math.log(500), math.log(20000), n))
    out.stars_col = band_flux(rng.uniform(10000, 25000, n))
    return out


def dark(rng: np.random.Generator, win: Window, size: float, amp: float) -> Rendered:
    """A dark cloud: a transmission map (hides background stars and glow) in front of its own faint glow."""
    glow_env = _envelope(rng, win, size / 2 * 1.2, q_lo=0.6, softness=0.8)
    cloud_env = _envelope(rng, win, size / 2 * 0.6, q_lo=0.3)
    tex = fractal_density(rng, (win.h, win.w), beta=3.2, contrast=0.8, k_min=1.0 / max(size, 16.0))
    opacity = np.clip(cloud_env * tex * rng.uniform(1.2, 2.5), 0, 0.97)
    trans = (1.0 - opacity).astype(np.float32)
    glow = glow_env * fractal_density(rng, (win.h, win.w), beta=3.0, contrast=0.6, k_min=1.0 / max(size, 16.0))
    glow *= _scale_to(glow, max(3.0, amp * 0.4))
    col = emission_colour(oiii=0.1) if rng.random() < 0.6 else band_flux(4500)  # H-alpha or dusty glow
    light = (glow * trans)[None] * col[:, None, None]
    out = Rendered(NEBULA, "dark", win, light=light.astype(np.float32), transmission=trans,
                   smooth=max(2.0, 0.03 * size))
    # box: where the cloud is clearly opaque (what a person outlines), not the faint glow around it
    sel = opacity > 0.45
    if sel.any():
        ys, xs = np.nonzero(sel)
        out.box = (win.x0 + xs.min(), win.y0 + ys.min(), win.x0 + xs.max() + 1, win.y0 + ys.max() + 1)
    return out


def planetary(rng: np.random.Generator, win: Window, size: float, amp: float) -> Rendered:
    yy, xx = win.grids()
    radius = size / 2
    ang = rng.uniform(0, math.pi)
    c, s = math.cos(ang), math.sin(ang)
    q = rng.uniform(0.6, 1.0)
    u = c * xx + s * yy
    v = (-s * xx + c * yy) / q
    r = np.hypot(u, v)
    r_shell = radius * rng.uniform(0.45, 0.75)
    width = radius * rng.uniform(0.12, 0.3)
    shell = np.exp(-0.5 * ((r - r_shell) / width) ** 2) + rng.uniform(0.2, 0.7) * np.exp(-0.5 * (r / r_shell) ** 2)
    if rng.random() < 0.35:  # bipolar lobes along u
        lobes = np.exp(-0.5 * ((np.abs(u) - radius * 0.55) / (radius * 0.3)) ** 2 - 0.5 * (v / (radius * 0.35)) ** 2)
        shell = 0.5 * shell + lobes
    shell = shell.astype(np.float32)
    shell *= amp / max(float(shell.max()), 1e-6)
    outer = np.exp(-0.5 * ((r - r_shell * 1.1) / (width * 1.3)) ** 2).astype(np.float32) * amp * 0.4
    light = shell[None] * oiii_colour()[:, None, None] + outer[None] * emission_colour(0.2)[:, None, None]
    out = Rendered(NEBULA, "planetary", win, light=light.astype(np.float32), smooth=1.0)
    out.stars_y, out.stars_x = np.array([win.cy]), np.array([win.cx])
    out.stars_snr, out.stars_col = np.array([amp * rng.uniform(0.5, 3)]), band_flux(np.array([40000.0]))
    return out


def remnant(rng: np.random.Generator, win: Window, size: float, amp: float) -> Rendered:
    """Supernova-remnant / veil filaments: ridged noise on a thick shell."""
    yy, xx = win.grids()
    radius = size / 2
    r = np.hypot(xx, yy * rng.uniform(0.7, 1.0))
    shell = np.exp(-0.5 * ((r - radius * 0.7) / (radius * rng.uniform(0.12, 0.3))) ** 2)
    fil = ridged(rng, (win.h, win.w), beta=rng.uniform(3.6, 4.2), sharpness=rng.uniform(15, 50),
                 k_min=1.0 / max(size / 2, 16.0))
    # keep only some stretches of the filament network: remnants are broken arcs, not a lace
    keep = power_law_field(rng, (win.h, win.w), beta=3.5, k_min=1.0 / max(size / 3, 8.0))
    keep = np.clip(keep - rng.uniform(0.0, 0.8), 0.0, 1.0)
    lum = (shell * fil * keep).astype(np.float32)
    lum *= _scale_to(lum, amp)
    mix = rng.choice([0.1, 0.3, 0.85])  # H-alpha-red, mixed, or [O III]-teal
    col = (1 - mix) * emission_colour(0.2) + mix * oiii_colour()
    return Rendered(NEBULA, "remnant", win, light=(lum[None] * col[:, None, None]).astype(np.float32),
                    smooth=max(2.0, 0.03 * size))


RENDERERS = {"emission": emission, "reflection": reflection, "dark": dark, "planetary": planetary,
             "remnant": remnant}
