# SPDX-License-Identifier: GPL-3.0-or-later
"""Colours in the camera's raw R, G, B: black bodies for stars and galaxies, emission lines for nebulae.

Bands are top-hats of a typical one-shot-colour sensor behind an IR-cut filter (B 400-500 nm, G 500-580 nm,
R 580-690 nm). The sensor's relative channel gains are not guessed: they are solved so that a typical field star
(5200 K, B-V ~ 0.7) has the median raw colour measured on the Seestar frames (real_sky_stats.json, log10 R/G and
B/G). Nebular lines fall into one band each: H-alpha 656 nm and [N II]/[S II] in R, H-beta 486 nm in B, [O III]
496/501 nm split between B and G. The case-B Balmer decrement H-alpha/H-beta = 2.86 (Osterbrock & Ferland 2006).
"""

from __future__ import annotations

import numpy as np

HC_OVER_K = 1.4388e-2  # m K
BANDS_NM = ((580.0, 690.0), (500.0, 580.0), (400.0, 500.0))  # R, G, B
T_REF = 5200.0  # K: median field star (B-V ~ 0.7)


def band_flux(temperature, scatter_power: float = 0.0) -> np.ndarray:
    """Photon-weighted black-body flux in R, G, B for temperature(s) in K, shape (..., 3), normalised to G = 1.

    `scatter_power` multiplies the spectrum by lambda^-p (p ~ 1-2 for light scattered by dust: reflection nebulae).
    """
    t = np.asarray(temperature, dtype=np.float64)[..., None, None]
    out = []
    for lo, hi in BANDS_NM:
        lam = np.linspace(lo, hi, 12)[None, :] * 1e-9
        planck = lam ** -5 / np.expm1(HC_OVER_K / (lam * t))
        out.append(np.mean(planck * lam * lam ** (-scatter_power), axis=-1))  # x lambda: photons
    f = np.concatenate(out, axis=-1)
    return f / f[..., 1:2]


def sensor_gains(star_log_r_g: float, star_log_b_g: float) -> np.ndarray:
    """Relative channel gains (R, 1, B) making a T_REF black body show the measured raw log colours."""
    ref = band_flux(T_REF)
    return np.array([10 ** star_log_r_g / ref[0], 1.0, 10 ** star_log_b_g / ref[2]])


def sample_star_temperatures(rng: np.random.Generator, n: int) -> np.ndarray:
    """Field-star temperatures: log-normal about T_REF (sigma 0.1 dex: M to A stars), plus 4 % hot B stars."""
    t = 10 ** rng.normal(np.log10(T_REF), 0.10, n)
    hot = rng.random(n) < 0.04
    t[hot] = 10 ** rng.uniform(3.95, 4.4, int(hot.sum()))
    return np.clip(t, 2800.0, 30000.0)


# Colour-filter-array cross-talk at H-alpha: the G and B dyes of one-shot-colour sensors still pass a few per
# cent at 656 nm (e.g. Sony IMX462/585 published QE curves), which makes H-alpha orange-red rather than pure red.
HALPHA_LEAK = np.array([1.0, 0.08, 0.04])


def emission_colour(oiii: float = 0.2, reddening: float = 0.3) -> np.ndarray:
    """Band fluxes of an H II region: H-alpha+[N II] in R (with the filters' cross-talk), H-beta in B dimmed by
    `reddening` (0: case B, 1: none left), [O III] (relative to H-beta) split between G and B."""
    hbeta = 1.0 / 2.86 * (1.0 - reddening)
    return HALPHA_LEAK + np.array([0.0, 0.55 * oiii * hbeta * 3.0, hbeta + 0.45 * oiii * hbeta * 3.0])


def oiii_colour() -> np.ndarray:
    """True band fluxes of [O III]-dominated gas (planetary nebula cores): teal."""
    return np.array([0.08, 0.55, 0.45])


def reflection_colour(star_t: float = 12000.0) -> np.ndarray:
    """Dust-scattered light of a hot star: black body x lambda^-1.5, i.e. blue."""
    return band_flux(star_t, scatter_power=1.5)
