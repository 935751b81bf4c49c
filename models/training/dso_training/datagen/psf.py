# SPDX-License-Identifier: GPL-3.0-or-later
"""Stars: Moffat point-spread functions, power-law number counts, black-body colours, halos and spikes.

Ground-based stellar images follow a Moffat profile I(r) ~ (1 + r^2/a^2)^-beta with beta ~ 2.5-4.5 (Moffat 1969,
A&A 3, 455; Trujillo et al. 2001, MNRAS 328, 977); FWHM = 2a sqrt(2^(1/beta) - 1). Both are measured on real
frames (real_sky_stats.json). Star counts follow N(>S) ~ S^-alpha with alpha measured there too. Thousands of
faint stars are splatted at once: every star gets a small stamp, all stamps are summed with one `np.bincount`
per channel; the few bright stars get large stamps (Moffat wings), optional halos and diffraction spikes.
"""

from __future__ import annotations

import math

import numpy as np


def moffat_alpha(fwhm: float, beta: float) -> float:
    """Moffat core width a for a FWHM and beta."""
    return fwhm / (2.0 * math.sqrt(2.0 ** (1.0 / beta) - 1.0))


def moffat_peak_per_flux(fwhm: float, beta: float) -> float:
    """Central intensity of a unit-flux Moffat: (beta - 1) / (pi a^2)."""
    a = moffat_alpha(fwhm, beta)
    return (beta - 1.0) / (math.pi * a * a)


def splat(canvas: np.ndarray, ys: np.ndarray, xs: np.ndarray, flux: np.ndarray, colours: np.ndarray,
          fwhm: float, beta: float, radius: int, ellip: float = 0.0, ell_angle: float = 0.0) -> None:
    """Adds Moffat stars (flux per star, colours (n, 3) multiplying the flux per channel) to canvas (3, H, W)
    in place, each on a (2 radius + 1)^2 stamp; stamps are clipped at the edges."""
    n = len(ys)
    if n == 0:
        return
    _, h, w = canvas.shape
    a = moffat_alpha(fwhm, beta)
    off = np.arange(-radius, radius + 1)
    oy, ox = np.meshgrid(off, off, indexing="ij")
    iy = np.floor(ys).astype(np.int64)[:, None] + oy.ravel()[None, :]
    ix = np.floor(xs).astype(np.int64)[:, None] + ox.ravel()[None, :]
    dy = (iy + 0.5 - ys[:, None]).astype(np.float32)
    dx = (ix + 0.5 - xs[:, None]).astype(np.float32)
    if ellip > 0:  # slightly elongated stars (tracking, optics): stretch along ell_angle
        c, s = math.cos(ell_angle), math.sin(ell_angle)
        u = (c * dx + s * dy) / (1.0 + ellip)
        v = -s * dx + c * dy
        r2 = (u * u + v * v) / (a * a)
        norm = (beta - 1.0) / (math.pi * a * a * (1.0 + ellip))
    else:
        r2 = (dx * dx + dy * dy) / (a * a)
        norm = (beta - 1.0) / (math.pi * a * a)
    prof = norm * (1.0 + r2) ** (-beta)
    prof *= flux[:, None].astype(np.float32)
    ok = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
    idx = (iy * w + ix)[ok]
    vals = prof[ok]
    rep = np.broadcast_to(np.arange(n)[:, None], ok.shape)[ok]
    for c_ in range(3):
        canvas[c_] += np.bincount(idx, weights=vals * colours[rep, c_], minlength=h * w).reshape(h, w).astype(
            np.float32)


def render_field(canvas: np.ndarray, rng: np.random.Generator, n: int, flux_min: float, alpha: float,
                 fwhm: float, beta: float, colours: np.ndarray, noise_sigma: float, flux_max: float = np.inf,
                 weight_map: np.ndarray | None = None, ellip: float = 0.0, ell_angle: float = 0.0):
    """Adds `n` stars with Pareto fluxes N(>F) ~ F^-alpha above `flux_min` (capped at flux_max) at uniform
    random positions (thinned by `weight_map` in [0, 1] where given: dust hides stars). Stamp size grows with
    brightness so wings are kept where they rise above ~0.05 sigma. Returns (ys, xs, fluxes) of the stars drawn."""
    _, h, w = canvas.shape
    ys = rng.uniform(0, h, n)
    xs = rng.uniform(0, w, n)
    flux = flux_min * rng.random(n) ** (-1.0 / alpha)
    flux = np.minimum(flux, flux_max)
    if weight_map is not None and n:
        keep = rng.random(n) < weight_map[ys.astype(int).clip(0, h - 1), xs.astype(int).clip(0, w - 1)]
        ys, xs, flux, colours = ys[keep], xs[keep], flux[keep], colours[keep]
    a = moffat_alpha(fwhm, beta)
    peak = flux * moffat_peak_per_flux(fwhm, beta)
    # radius where the profile falls to 0.05 sigma: peak (1 + r^2/a^2)^-beta = 0.05 sigma
    need = a * np.sqrt(np.maximum((peak / (0.05 * noise_sigma)) ** (1.0 / beta) - 1.0, 0.0))
    tiers = [(0, max(2, int(math.ceil(1.6 * fwhm)))), (1, max(4, int(math.ceil(4 * fwhm)))),
             (2, max(10, int(math.ceil(12 * fwhm)))), (3, max(24, int(math.ceil(40 * fwhm))))]
    lim = [t[1] for t in tiers]
    tier_of = np.searchsorted(np.array(lim[:-1]), need)
    for t, radius in tiers:
        sel = tier_of == t
        if sel.any():
            splat(canvas, ys[sel], xs[sel], flux[sel], colours[sel], fwhm, beta, radius, ellip, ell_angle)
    return ys, xs, flux


def add_halo(canvas: np.ndarray, y: float, x: float, flux: float, colour: np.ndarray, fwhm: float,
             rng: np.random.Generator) -> None:
    """Scattered-light halo of a bright star (a broad Moffat holding ~1-4 % of its flux), sometimes with the
    ring of an internal reflection (filter ghost), as seen around bright stars in refractor frames."""
    _, h, w = canvas.shape
    r_halo = fwhm * rng.uniform(6, 18)
    rad = int(min(max(h, w), 4 * r_halo))
    y0, y1 = max(0, int(y) - rad), min(h, int(y) + rad + 1)
    x0, x1 = max(0, int(x) - rad), min(w, int(x) + rad + 1)
    if y0 >= y1 or x0 >= x1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    r2 = (yy + 0.5 - y) ** 2 + (xx + 0.5 - x) ** 2
    frac = rng.uniform(0.01, 0.04)
    b = 1.6
    halo = (b - 1) / (math.pi * r_halo ** 2) * (1 + r2 / r_halo ** 2) ** (-b) * flux * frac
    if rng.random() < 0.3:  # filter-reflection ghost: a faint ring, slightly offset
        rr = rng.uniform(2.0, 5.0) * r_halo
        ring = np.exp(-0.5 * ((np.sqrt(r2) - rr) / (0.15 * rr)) ** 2)
        halo += ring * flux * frac * 0.05 / (2 * math.pi * rr * 0.15 * rr * math.sqrt(2 * math.pi))
    for c in range(3):
        canvas[c, y0:y1, x0:x1] += halo * colour[c]


def add_spikes(canvas: np.ndarray, y: float, x: float, flux: float, colour: np.ndarray, fwhm: float,
               angle: float, length: float, n_spikes: int = 4) -> None:
    """Diffraction spikes of a secondary-mirror spider: thin lines through the star, intensity falling ~1/d^1.5."""
    _, h, w = canvas.shape
    rad = int(length)
    y0, y1 = max(0, int(y) - rad), min(h, int(y) + rad + 1)
    x0, x1 = max(0, int(x) - rad), min(w, int(x) + rad + 1)
    if y0 >= y1 or x0 >= x1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dy, dx = yy + 0.5 - y, xx + 0.5 - x
    width = max(0.5, 0.35 * fwhm)
    total = np.zeros_like(dy)
    for k in range(n_spikes // 2):
        th = angle + k * math.pi / (n_spikes // 2)
        along = dx * math.cos(th) + dy * math.sin(th)
        perp = -dx * math.sin(th) + dy * math.cos(th)
        total += np.exp(-0.5 * (perp / width) ** 2) * (1 + np.abs(along) / fwhm) ** -1.5 * (np.abs(along) < length)
    total *= flux * 0.004 / (width * math.sqrt(2 * math.pi) * fwhm)
    for c in range(3):
        canvas[c, y0:y1, x0:x1] += total * colour[c]
