# SPDX-License-Identifier: GPL-3.0-or-later
"""Scene parameters drawn from the real-sky priors (real_sky_stats.json), plus the few stated assumptions.

Measured on real 10-s sub-frames (measure_real.py): FWHM, Moffat beta, star density above 5 sigma, count slope,
per-pixel headroom to saturation, raw channel noise ratios (hence the sky colour), star colours, hot pixels,
gradient and large-scale structure. Smart-telescope images are live stacks of such subs, so every scene also draws a
stacking depth N (2-256 subs of 10 s, 20 s to 43 min: ASSUMPTION, typical live-stacking sessions) and scales what
stacking changes: noise falls by sqrt(N), so star counts above a fixed SNR grow by N^(alpha/2), and faint
structure in units of the noise grows by sqrt(N).
Assumptions that no frame here can measure are marked ASSUMPTION and documented in docs/DATAGEN.md.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .colour import sensor_gains

PRIORS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "real_sky_stats.json")

# Smoothed-peak SNR of a star of flux F (measure_real.find_stars: Gaussian sigma 1 px) for white noise sigma:
# peak F / (2 pi (s_psf^2 + 1)), noise sigma / (2 sqrt(pi)).
SMOOTH_NOISE_FACTOR = 1.0 / (2.0 * math.sqrt(math.pi))


def load_priors(path: str = PRIORS_FILE) -> dict:
    """The `priors` block of the committed measurement."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)["priors"]


def _loguniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


@dataclass
class Scene:
    """Everything one generated image shares: optics, camera, sky and stacking depth."""
    fwhm: float              # px
    beta: float              # Moffat beta
    ellip: float             # star elongation (0 = round)
    ell_angle: float
    n_subs: int              # stacked sub-frames
    sky_sub_e: float         # sky per sub-frame and pixel, electrons (G channel)
    read_e: float            # read noise per sub, electrons
    full_well_e: float       # saturation of the stack sum, electrons
    gains: np.ndarray        # relative raw channel sensitivity (R, G, B)
    sky_colour: np.ndarray   # relative sky level per channel (raw)
    stars_per_mpix_snr5: float  # at this depth
    alpha: float
    gradient_sigma: float    # range of the sky gradient across the image, in stack noise sigmas
    moon: bool
    vignetting: float
    nebulosity_sigma: float  # rms of unlabelled nebulosity, stack sigmas (0 = none)
    nebulosity_kind: str
    dust: float              # dark-dust opacity in the nebulosity (0 = none)
    hot_pixels_per_mpix: float
    satellite: bool
    aircraft: bool
    bright_stars: int        # extra saturated stars (hard negatives)
    spikes: bool             # reflector: diffraction spikes on bright stars
    bayer: str | None        # mosaic pattern or None

    @property
    def sky_e(self) -> float:
        return self.n_subs * self.sky_sub_e

    @property
    def sigma_e(self) -> float:
        """Per-pixel noise of the stack sum in the G channel, electrons."""
        return math.sqrt(self.sky_e + self.n_subs * self.read_e ** 2)

    def star_flux_for_snr(self, snr: float) -> float:
        """Flux (electrons, G) whose smoothed peak is `snr` times the smoothed noise (see measure_real)."""
        return snr * SMOOTH_NOISE_FACTOR * self.sigma_e / smoothed_peak_per_flux(self.fwhm, self.beta)


@lru_cache(maxsize=256)
def smoothed_peak_per_flux(fwhm: float, beta: float, smooth: float = 1.0) -> float:
    """Central value of a unit-flux Moffat convolved with the detection Gaussian (sigma `smooth`): the integral of
    Moffat x Gaussian over the plane, on a radial grid of at most 0.1 px."""
    a = fwhm / (2.0 * math.sqrt(2.0 ** (1.0 / beta) - 1.0))
    dr = min(0.1, smooth / 20.0)
    r = np.arange(dr / 2, 8.0 * smooth, dr)
    moffat = (beta - 1.0) / (math.pi * a * a) * (1.0 + r * r / (a * a)) ** (-beta)
    gauss = np.exp(-0.5 * r * r / smooth ** 2) / (2.0 * math.pi * smooth ** 2)
    return float(np.sum(moffat * gauss * 2.0 * math.pi * r) * dr)


def sample_scene(rng: np.random.Generator, p: dict, bayer: str | None = None, depth: tuple[float, float] = (2, 256),
                 milky_way: float | None = None) -> Scene:
    """Draws one scene. `depth` bounds the number of stacked subs (log-uniform); `milky_way` forces the star-density
    boost (else drawn)."""
    lo, hi = p["fwhm_px_p10_p90"]
    fwhm = _loguniform(rng, 0.9 * lo, 1.3 * hi)  # ASSUMPTION: stacks blur a little (registration, seeing spread)
    beta = rng.uniform(*p["moffat_beta_median"])
    ellip = rng.uniform(0.0, 0.25) if rng.random() < 0.2 else 0.0
    n_subs = max(1, int(round(_loguniform(rng, depth[0], depth[1]))))
    g = math.sqrt(n_subs)
    sky_sub = _loguniform(rng, 150.0, 1500.0)  # ASSUMPTION: 10-s sub, dark to suburban sky (sets shot/read mix)
    read_e = rng.uniform(1.0, 3.0)
    headroom = rng.uniform(*p["raw_headroom_sigma"])
    full_well = n_subs * headroom * math.sqrt(sky_sub + read_e ** 2)
    r_g = p["star_log_r_g_p10_p50_p90"][1]
    b_g = p["star_log_b_g_p10_p50_p90"][1]
    gains = sensor_gains(r_g, b_g)
    # raw sky colour from the measured raw channel noise ratios: shot-noise-limited, so sky ~ sigma^2
    (rlo, rhi), (blo, bhi) = p["bayer_channel_sigma_ratio_r_b_over_g"]
    sky_colour = np.array([rng.uniform(rlo, rhi) ** 2, 1.0, rng.uniform(blo, bhi) ** 2])
    sky_colour *= rng.uniform(0.85, 1.15, 3) * np.array([1, 0, 1]) + np.array([0, 1, 0])  # light-pollution tint
    d5 = _loguniform(rng, *p["stars_per_mpix_snr5"])
    mw = milky_way if milky_way is not None else (_loguniform(rng, 1.0, 4.0) if rng.random() < 0.35 else 1.0)
    alpha = rng.uniform(*p["count_slope_alpha"])
    stars = d5 * mw * g ** alpha
    # ASSUMPTION: gradients, nebulosity and hot pixels beyond the measured (dark-site, 10-s) range; see DATAGEN.md
    grad = rng.uniform(*p["gradient_range_sigma"]) * g * _loguniform(rng, 1.0, 30.0)
    neb = 0.0
    kind = "none"
    dust = 0.0
    if rng.random() < 0.55:
        neb = min(rng.uniform(*p["structure_rms_sigma"]) * g * _loguniform(rng, 3.0, 60.0), 12.0)
        kind = str(rng.choice(["halpha", "halpha", "halpha", "dusty", "mixed"]))
        dust = rng.uniform(0.3, 0.9) if rng.random() < 0.5 else 0.0
    hot = _loguniform(rng, 2.0, max(3.0, p["hot_pixels_per_mpix"][1])) if rng.random() < 0.5 else 0.0
    return Scene(fwhm=fwhm, beta=beta, ellip=ellip, ell_angle=rng.uniform(0, math.pi), n_subs=n_subs,
                 sky_sub_e=sky_sub, read_e=read_e, full_well_e=full_well, gains=gains, sky_colour=sky_colour,
                 stars_per_mpix_snr5=stars, alpha=alpha, gradient_sigma=grad, moon=bool(rng.random() < 0.15),
                 vignetting=rng.uniform(0.03, 0.25) if rng.random() < 0.4 else 0.0, nebulosity_sigma=neb,
                 nebulosity_kind=kind, dust=dust, hot_pixels_per_mpix=hot, satellite=bool(rng.random() < 0.06),
                 aircraft=bool(rng.random() < 0.02), bright_stars=int(rng.integers(1, 4)) if rng.random() < 0.3 else 0,
                 spikes=bool(rng.random() < 0.25), bayer=bayer)
