# SPDX-License-Identifier: GPL-3.0-or-later
"""Fractal fields: the texture of nebulae, dust and galaxy clumps.

Interstellar clouds have power-law spatial power spectra, P(k) ~ k^-beta with beta ~ 2.5-3.5 (e.g. Miville-Deschenes
et al. 2010, A&A 518, L104, for Herschel cirrus, beta ~ 2.7), so filtering white noise by k^(-beta/2) in Fourier
space gives cloud-like structure at every scale in one FFT: cheaper than summing octaves of value noise and
statistically better motivated. Ridged variants (1 - |field|) give filaments (supernova remnants, veils).
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sfft


def power_law_field(rng: np.random.Generator, shape: tuple[int, int], beta: float = 3.0,
                    k_min: float | None = None) -> np.ndarray:
    """Zero-mean, unit-variance float32 field with power spectrum ~ k^-beta.

    `k_min` (cycles per pixel) flattens the spectrum below it so the largest structures are ~1/k_min pixels
    (default: the field size, i.e. structure at every scale the field can hold).
    """
    h, w = shape
    white = rng.standard_normal((h, w), dtype=np.float32)
    spec = sfft.rfft2(white, workers=1)
    ky = sfft.fftfreq(h).astype(np.float32)[:, None]
    kx = sfft.rfftfreq(w).astype(np.float32)[None, :]
    k = np.sqrt(kx * kx + ky * ky)
    kmin = k_min if k_min is not None else 1.0 / max(h, w)
    k = np.maximum(k, kmin)
    spec *= k ** (-beta / 2.0)
    spec[0, 0] = 0.0
    field = sfft.irfft2(spec, s=(h, w), workers=1).astype(np.float32)
    std = float(field.std())
    return field / std if std > 0 else field


def fractal_density(rng: np.random.Generator, shape: tuple[int, int], beta: float = 3.0, contrast: float = 1.5,
                    k_min: float | None = None) -> np.ndarray:
    """A positive, lognormal cloud field with mean ~1: exp(contrast * gaussian field), normalised."""
    f = np.exp(contrast * power_law_field(rng, shape, beta, k_min))
    return f / float(f.mean())


def ridged(rng: np.random.Generator, shape: tuple[int, int], beta: float = 2.6, sharpness: float = 4.0,
           k_min: float | None = None) -> np.ndarray:
    """Filaments in [0, 1]: (1 - |field|/3)^sharpness peaks along the zero crossings of a power-law field."""
    f = power_law_field(rng, shape, beta, k_min)
    return np.clip(1.0 - np.abs(f) / 3.0, 0.0, 1.0) ** sharpness


def smooth_window(shape: tuple[int, int], cy: float, cx: float, ry: float, rx: float, angle: float,
                  softness: float = 2.0) -> np.ndarray:
    """Elliptical super-Gaussian envelope exp(-(r^2)^softness/...) with radii (ry, rx), rotated by `angle` rad."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dy, dx = yy - cy, xx - cx
    c, s = np.cos(angle), np.sin(angle)
    u = (c * dx + s * dy) / max(rx, 1e-3)
    v = (-s * dx + c * dy) / max(ry, 1e-3)
    r2 = u * u + v * v
    return np.exp(-0.5 * r2 ** softness).astype(np.float32)
