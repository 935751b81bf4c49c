# SPDX-License-Identifier: GPL-3.0-or-later
"""Assembles one linear frame: field stars, unlabelled nebulosity and dust, labelled objects, bright-star hard
negatives, sky, optics and sensor, and finds each object's label box.

Order matters physically: dust (unlabelled, and dark nebulae) hides the stars and glow behind it; objects' own
light is blurred by the same PSF as the stars; the sky and trails are added in front; vignetting dims everything;
noise comes last. The label boxes are measured on each object's noise-free light (objects.py), so they follow what
was drawn, not what was asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter, label as cc_label

from . import camera, clusters, galaxies, nebulae
from .colour import band_flux, emission_colour, reflection_colour, sample_star_temperatures
from .noise import fractal_density, power_law_field
from .objects import Rendered, window_for
from .priors import Scene
from .psf import add_halo, add_spikes, moffat_peak_per_flux, render_field, splat

RENDERERS = {**galaxies.RENDERERS, **nebulae.RENDERERS, **clusters.RENDERERS}
SNR_FLOOR = 0.7  # faintest field stars drawn: below detection, they are the grain of a rich field


@dataclass
class ObjectPlan:
    """A labelled object to draw: class, kind, centre (image px), visible diameter (px), brightness (sigmas)."""
    cls: int
    kind: str
    cy: float
    cx: float
    size: float
    amp: float


@dataclass
class Label:
    """A label box in image pixels (clipped to the image) with its class and what made it."""
    cls: int
    x0: float
    y0: float
    x1: float
    y1: float
    kind: str = ""


@dataclass
class Frame:
    """A finished linear frame and its truth."""
    adu: np.ndarray                 # (3, H, W) uint16 linear
    labels: list[Label]
    scene: Scene
    bias: float
    saturated_stars: int = 0        # hard negatives drawn (never labelled)
    info: dict = field(default_factory=dict)


def _threshold_box(r: Rendered, scene: Scene, sigma_c: np.ndarray, shape) -> tuple | None:
    """Box of the object's light above 1 sigma (after smoothing), ignoring fragments < 5 % of the largest."""
    lum = np.zeros((r.win.h, r.win.w), dtype=np.float32)
    for c in range(3):
        lum += r.light[c] * (scene.gains[c] * scene.sigma_e / sigma_c[c] / 3.0)
    if r.smooth > 0:
        lum = gaussian_filter(lum, r.smooth, mode="nearest")
    sel = lum > 1.0
    if not sel.any():
        return None
    lab, n = cc_label(sel)
    if n > 1:
        sizes = np.bincount(lab.ravel())[1:]
        keep = np.nonzero(sizes >= 0.05 * sizes.max())[0] + 1
        sel = np.isin(lab, keep)
    ys, xs = np.nonzero(sel)
    return (r.win.x0 + xs.min(), r.win.y0 + ys.min(), r.win.x0 + xs.max() + 1, r.win.y0 + ys.max() + 1)


def _nebulosity(rng: np.random.Generator, scene: Scene, shape) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Unlabelled extended nebulosity (3, H, W) in electrons, and a dust transmission map (H, W)."""
    if scene.nebulosity_sigma <= 0:
        return None, None
    h, w = shape
    kmin = 1.0 / (2.0 * max(h, w))
    f = fractal_density(rng, shape, beta=rng.uniform(2.8, 3.6), contrast=rng.uniform(0.5, 1.2), k_min=kmin)
    f = np.maximum(f - rng.uniform(0.0, 0.6), 0.0)
    rms = float(np.sqrt(np.mean(f * f))) or 1.0
    f *= scene.nebulosity_sigma * scene.sigma_e / rms
    if scene.nebulosity_kind == "halpha":
        col = emission_colour(oiii=rng.uniform(0, 0.3), reddening=rng.uniform(0.5, 0.9))
        light = f[None] * (col * scene.gains)[:, None, None]
    elif scene.nebulosity_kind == "dusty":  # integrated-flux-nebula / dust reflecting the Milky Way: brown-grey
        col = band_flux(rng.uniform(3800, 4800))
        light = f[None] * (col * scene.gains)[:, None, None]
    else:  # red emission mixed with blue reflection
        mix = 1.0 / (1.0 + np.exp(-2.0 * power_law_field(rng, shape, beta=3.5, k_min=kmin)))
        c1 = emission_colour(0.1) * scene.gains
        c2 = reflection_colour(12000) * scene.gains * 0.6
        light = f[None] * (mix[None] * c1[:, None, None] + (1 - mix[None]) * c2[:, None, None])
    trans = None
    if scene.dust > 0:
        d = power_law_field(rng, shape, beta=rng.uniform(2.8, 3.6), k_min=kmin)
        trans = (1.0 - scene.dust * np.clip(d - rng.uniform(0.0, 1.0), 0.0, 1.0)).astype(np.float32)
    return light.astype(np.float32), trans


def _bright_stars(rng, scene: Scene, canvas: np.ndarray, n: int) -> int:
    """Very bright saturated stars with halos (and spikes in reflector scenes): hard negatives, never labelled."""
    _, h, w = canvas.shape
    per_flux = moffat_peak_per_flux(scene.fwhm, scene.beta)
    for _ in range(n):
        y, x = rng.uniform(-0.05 * h, 1.05 * h), rng.uniform(-0.05 * w, 1.05 * w)
        flux = scene.full_well_e * math.exp(rng.uniform(math.log(2), math.log(300))) / per_flux
        col = band_flux(sample_star_temperatures(rng, 1))[0] * scene.gains
        radius = int(min(max(h, w) // 2, max(24, 60 * scene.fwhm)))
        splat(canvas, np.array([y]), np.array([x]), np.array([flux]), col[None], scene.fwhm, scene.beta, radius)
        add_halo(canvas, y, x, flux, col, scene.fwhm, rng)
        if scene.spikes:
            add_spikes(canvas, y, x, flux, col, scene.fwhm, scene.ell_angle, rng.uniform(15, 60) * scene.fwhm)
    return n


def render_frame(rng: np.random.Generator, scene: Scene, shape: tuple[int, int], plans: list[ObjectPlan],
                 extra_light: np.ndarray | None = None, extra_labels: list[Label] | None = None) -> Frame:
    """Draws a frame. `extra_light` (3, H, W, electrons) is added like an object (the composites' real photo)
    with its own labels."""
    h, w = shape
    sigma_c = np.sqrt(scene.sky_e * scene.sky_colour + scene.n_subs * scene.read_e ** 2)
    field_per_px = lambda snr: scene.stars_per_mpix_snr5 * (snr / 5.0) ** (-scene.alpha) / 1e6  # noqa: E731

    # 1. objects (noise-free, in sigma units) and what they hide
    rendered: list[tuple[ObjectPlan, Rendered]] = []
    trans_total = np.ones(shape, dtype=np.float32)
    for p in plans:
        win = window_for(shape, p.cy, p.cx, p.size * 0.75 + 4)
        if win is None:
            continue
        fn = RENDERERS[p.kind]
        kw = {"field_density": field_per_px} if p.kind in clusters.RENDERERS else {}
        r = fn(rng, win, p.size, p.amp, **kw)
        if r.transmission is not None:
            trans_total[win.y0:win.y0 + win.h, win.x0:win.x0 + win.w] *= r.transmission
        rendered.append((p, r))

    # 2. unlabelled nebulosity and dust
    neb, dust = _nebulosity(rng, scene, shape)
    if dust is not None:
        trans_total *= dust

    # 3. field stars behind the dust (15 % foreground stars are not dimmed)
    stars = np.zeros((3, h, w), dtype=np.float32)
    area_mp = h * w / 1e6
    n = rng.poisson(field_per_px(SNR_FLOOR) * 1e6 * area_mp)
    temps = sample_star_temperatures(rng, n)
    cols = (band_flux(temps) * scene.gains).astype(np.float32).reshape(-1, 3)
    render_field(stars, rng, n, scene.star_flux_for_snr(SNR_FLOOR), scene.alpha, scene.fwhm, scene.beta, cols,
                 scene.sigma_e, flux_max=scene.full_well_e * 2000, weight_map=0.15 + 0.85 * trans_total,
                 ellip=scene.ellip, ell_angle=scene.ell_angle)
    n_sat = _bright_stars(rng, scene, stars, scene.bright_stars)
    if neb is not None:
        stars += neb * trans_total[None]

    # 4. objects' light, blurred by the PSF, and their boxes
    obj = np.zeros((3, h, w), dtype=np.float32)
    labels: list[Label] = []
    scale = (scene.gains * scene.sigma_e).astype(np.float32)
    for p, r in rendered:
        win = r.win
        if r.light is not None:
            obj[:, win.y0:win.y0 + win.h, win.x0:win.x0 + win.w] += r.light * scale[:, None, None]
        if len(r.stars_y):
            inside = (r.stars_y > -20) & (r.stars_y < h + 20) & (r.stars_x > -20) & (r.stars_x < w + 20)
            flux = np.array([scene.star_flux_for_snr(s) for s in r.stars_snr[inside]])
            col = (r.stars_col[inside] * scene.gains).astype(np.float32)
            rad = max(3, int(math.ceil(5 * scene.fwhm)))
            splat(stars, r.stars_y[inside], r.stars_x[inside], flux, col, scene.fwhm, scene.beta, rad,
                  scene.ellip, scene.ell_angle)
        box = r.box if r.box is not None else (_threshold_box(r, scene, sigma_c, shape) if r.light is not None
                                               else None)
        if box is None:
            continue
        x0, y0 = max(0.0, float(box[0])), max(0.0, float(box[1]))
        x1, y1 = min(float(w), float(box[2])), min(float(h), float(box[3]))
        if x1 - x0 >= 5 and y1 - y0 >= 5:
            labels.append(Label(p.cls, x0, y0, x1, y1, p.kind))
    psf_sigma = scene.fwhm / 2.3548
    if any(r.light is not None for _, r in rendered):
        for c in range(3):
            obj[c] = gaussian_filter(obj[c], psf_sigma, mode="constant", truncate=3.0)
    signal = stars + obj
    if extra_light is not None:
        signal += extra_light
        labels += extra_labels or []

    # 5. sky, trails, optics, sensor
    total = camera.sky_glow(rng, scene, shape) + signal
    camera.add_trails(rng, scene, total)
    vig = camera.vignetting(rng, scene.vignetting, shape)
    if vig is not None:
        total *= vig[None]
    adu, bias = camera.expose(rng, scene, total)
    return Frame(adu=adu, labels=labels, scene=scene, bias=bias, saturated_stars=n_sat,
                 info={"field_stars": int(n), "sigma_e": scene.sigma_e})
