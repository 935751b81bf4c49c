# SPDX-License-Identifier: GPL-3.0-or-later
"""What the sky, the optics and the sensor add to the astronomical signal: sky glow with light-pollution gradients
and moon glow, vignetting, satellite and aircraft trails, shot and read noise, hot pixels, saturation, bias and
16-bit quantisation.

Everything is in electrons of the stack sum (N sub-frames); a stack averages, which only rescales to ADU, so the
frame keeps the noise statistics of the real stacks: variance = signal + N * read^2 (shot noise drawn as a
Gaussian, accurate above ~20 e- and orders of magnitude faster than Poisson for a million pixels).
"""

from __future__ import annotations

import math

import numpy as np

from .colour import band_flux
from .priors import Scene


def sky_glow(rng: np.random.Generator, scene: Scene, shape: tuple[int, int]) -> np.ndarray:
    """(3, H, W) sky in electrons: level x colour, a linear+quadratic light-pollution gradient, moon glow."""
    h, w = shape
    yy = (np.arange(h, dtype=np.float32)[:, None] + 0.5) / max(h, w)
    xx = (np.arange(w, dtype=np.float32)[None, :] + 0.5) / max(h, w)
    th = rng.uniform(0, 2 * math.pi)
    proj = math.cos(th) * xx + math.sin(th) * yy
    proj = proj - proj.mean()
    span = float(proj.max() - proj.min()) or 1.0
    curv = rng.uniform(0, 0.6)
    grad = proj / span + curv * ((proj / span) ** 2 - 0.08)
    grad_e = scene.gradient_sigma * scene.sigma_e * grad
    # light pollution is warmer (sodium/LED) than the dark sky: the gradient gets its own tint
    tint = np.array([rng.uniform(1.0, 1.6), 1.0, rng.uniform(0.5, 1.0)], dtype=np.float32)
    sky = np.empty((3, h, w), dtype=np.float32)
    for c in range(3):
        sky[c] = scene.sky_e * scene.sky_colour[c] + grad_e * tint[c] * scene.sky_colour[c]
    if scene.moon:
        ang = rng.uniform(0, 2 * math.pi)
        dist = rng.uniform(0.8, 2.5)  # moon-side point, in image widths from the centre
        py, px = 0.5 * h / max(h, w) + dist * math.sin(ang), 0.5 * w / max(h, w) + dist * math.cos(ang)
        d = np.sqrt((yy - py) ** 2 + (xx - px) ** 2)
        scale = rng.uniform(0.3, 1.5)
        glow = np.exp(-(d - d.min()) / scale)
        amp = rng.uniform(3.0, 60.0) * scene.sigma_e
        col = band_flux(5800, scatter_power=rng.uniform(1.0, 3.0)) * scene.gains
        col = col / col[1]
        for c in range(3):
            sky[c] += (amp * col[c]) * glow
    return np.maximum(sky, 0.0)


def vignetting(rng: np.random.Generator, strength: float, shape: tuple[int, int]) -> np.ndarray | None:
    """Multiplicative fall-off 1 - v (r/r0)^2 about an optical centre that may lie off the image (a patch cut
    from a larger frame)."""
    if strength <= 0:
        return None
    h, w = shape
    s = max(h, w)
    cy, cx = h / 2 + rng.uniform(-1, 1) * s, w / 2 + rng.uniform(-1, 1) * s
    yy = np.arange(h, dtype=np.float32)[:, None] - cy
    xx = np.arange(w, dtype=np.float32)[None, :] - cx
    r2 = (yy * yy + xx * xx) / (1.5 * s) ** 2
    return np.clip(1.0 - strength * r2, 0.3, 1.0).astype(np.float32)


def _line(shape, rng, width: float):
    """Distance map to a random line crossing the image, and the coordinate along it."""
    h, w = shape
    th = rng.uniform(0, math.pi)
    py, px = rng.uniform(0, h), rng.uniform(0, w)
    yy = np.arange(h, dtype=np.float32)[:, None] - py
    xx = np.arange(w, dtype=np.float32)[None, :] - px
    along = xx * math.cos(th) + yy * math.sin(th)
    perp = -xx * math.sin(th) + yy * math.cos(th)
    return np.exp(-0.5 * (perp / width) ** 2), along, perp, th


def add_trails(rng: np.random.Generator, scene: Scene, img: np.ndarray) -> None:
    """Satellite (a straight line, sometimes flaring) and aircraft (parallel dashed navigation lights) trails. In
    a stack of N subs a trail is in one sub only, so it is N times fainter relative to the stack's sky."""
    _, h, w = img.shape
    sw = max(0.6, scene.fwhm / 2.3548)
    if scene.satellite:
        prof, along, _, _ = _line((h, w), rng, sw)
        amp = rng.uniform(5, 300) / math.sqrt(scene.n_subs) * scene.sigma_e
        flare = 1 + rng.uniform(0, 2) * np.exp(-0.5 * ((along - rng.uniform(-w / 2, w / 2)) / rng.uniform(20, 200)) ** 2)
        col = band_flux(5800) * scene.gains
        for c in range(3):
            img[c] += (amp * col[c]) * prof * flare
    if scene.aircraft:
        prof0, along, perp, th = _line((h, w), rng, sw)
        period = rng.uniform(15, 60)
        duty = (np.mod(along, period) < period * rng.uniform(0.2, 0.5)).astype(np.float32)
        amp = rng.uniform(50, 500) / math.sqrt(scene.n_subs) * scene.sigma_e
        lights = [(0.0, np.array([1.0, 1.0, 1.0])), (rng.uniform(4, 10), np.array([1.0, 0.05, 0.05])),
                  (-rng.uniform(4, 10), np.array([0.05, 1.0, 0.3]))]
        for offset, col in lights:
            prof = np.exp(-0.5 * ((perp - offset) / sw) ** 2)
            for c in range(3):
                img[c] += (amp * col[c] * scene.gains[c]) * prof * duty


def expose(rng: np.random.Generator, scene: Scene, signal_e: np.ndarray) -> tuple[np.ndarray, float]:
    """Noise, hot pixels, saturation and 16-bit ADU: (3, H, W) electrons -> (3, H, W) uint16, and the bias."""
    c, h, w = signal_e.shape
    signal_e = np.nan_to_num(signal_e, nan=0.0, posinf=scene.full_well_e, neginf=0.0)  # never poison a frame
    read_var = scene.n_subs * scene.read_e ** 2
    noise = rng.standard_normal(signal_e.shape, dtype=np.float32)
    img = signal_e + noise * np.sqrt(np.maximum(signal_e, 0.0) + read_var)
    n_hot = rng.poisson(scene.hot_pixels_per_mpix * h * w / 1e6)
    if n_hot:
        hy, hx = rng.integers(0, h, n_hot), rng.integers(0, w, n_hot)
        hc = rng.integers(0, 3, n_hot)
        val = np.exp(rng.uniform(math.log(20), math.log(3000), n_hot)) * scene.sigma_e
        white = rng.random(n_hot) < 0.3  # in an RGB stack a hot pixel may be in all channels
        img[hc, hy, hx] += val
        for ch in range(3):
            img[ch, hy[white], hx[white]] += val[white]
    img = np.clip(img, 0.0, scene.full_well_e)
    bias = float(rng.uniform(200, 2500))
    adu = bias + img * ((65535.0 - bias) / scene.full_well_e)
    return np.clip(np.rint(adu), 0, 65535).astype(np.uint16), bias
