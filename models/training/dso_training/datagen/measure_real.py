# SPDX-License-Identifier: GPL-3.0-or-later
"""Measures the sky in real frames and writes the priors the generator draws its backgrounds from.

A detector trained on tidy synthetic fields failed on real smart-telescope patches: real fields hold many more, smaller,
colour-varied stars and faint nebulosity everywhere (docs/DATAGEN.md). So the star density, the slope of the
star counts, the seeing, the noise, the sky gradient, the star colours and the hot pixels are measured here, on real
raw frames, with the same functions that `tests/` apply to generated frames.

    python3 -m dso_training.datagen.measure_real [--real-fits ../shared/data/real-fits] \
        [--out models/training/dso_training/datagen/real_sky_stats.json]

Definitions (all per frame, at the frame's native pixel scale):
- background: 64-px block medians, interpolated; noise sigma = 1.4826 MAD of (frame - background), per colour on
  the raw Bayer sub-grids (the pixels' own noise) and on the detection image.
- stars: local maxima (7x7) of the background-subtracted luminance smoothed by a Gaussian of 1 px; their
  "SNR" is that smoothed peak over the smoothed image's own noise. Counts per megapixel above SNR thresholds.
- count slope alpha: N(>SNR) ~ SNR^-alpha fitted between SNR 10 and 300 (flux ~ SNR for a fixed PSF).
- FWHM and Moffat beta: least-squares Moffat fits to isolated, unsaturated stars with SNR 30-3000.
- star colours (Bayer frames): log10 of the aperture-flux ratios R/G and B/G in raw channel units.
- gradient: range of the background map (plane fit) in noise sigmas; structure: rms of the map about that plane.
- hot pixels: single pixels > 12 sigma above the median of their 8 neighbours which are themselves < 3 sigma.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings

import numpy as np
from scipy.ndimage import gaussian_filter, maximum_filter, median_filter, zoom
from scipy.optimize import OptimizeWarning, curve_fit

from ..common.paths import REPO
from ..common.stretch import robust_sigma
from .bayer import demosaic, masks
from .fits import read_fits

SNR_THRESHOLDS = (5, 10, 20, 50, 100, 300, 1000)
# Frames whose star field is not a typical sky background: a globular cluster fills M13's, and the DSS plate is
# photographic (grain, not shot noise). They are measured and reported but kept out of the priors.
NOT_PRIORS = {"M13_blue_0001.fits": "globular cluster fills the field",
              "HorseHead.fits": "photographic plate (DSS), grain not shot noise",
              "ccd_simulator_with_wcs.fits": "simulator output, pure noise",
              "ngc4535-autofocus1.fits": "defocused autofocus frame (FWHM ~11 px)"}


def background_map(img: np.ndarray, block: int = 64) -> np.ndarray:
    """Smooth sky background: medians of block x block tiles, median-filtered, bilinearly interpolated."""
    h, w = img.shape
    ny, nx = max(1, h // block), max(1, w // block)
    tiles = img[:ny * block, :nx * block].reshape(ny, block, nx, block)
    med = np.median(tiles, axis=(1, 3))
    if ny >= 3 and nx >= 3:
        med = median_filter(med, size=3, mode="nearest")
    return zoom(med, (h / ny, w / nx), order=1, mode="nearest", grid_mode=True)[:h, :w]


def plane_fit_residual(bg: np.ndarray) -> tuple[float, float]:
    """(range of the best-fitting plane, rms about it) of a background map, in its own units."""
    h, w = bg.shape
    yy, xx = np.mgrid[0:h:8, 0:w:8]
    z = bg[::8, ::8]
    a = np.column_stack([np.ones(z.size), xx.ravel() / w, yy.ravel() / h])
    coef, *_ = np.linalg.lstsq(a, z.ravel(), rcond=None)
    plane = a @ coef
    corners = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 1]]) @ coef
    return float(corners.max() - corners.min()), float(np.sqrt(np.mean((z.ravel() - plane) ** 2)))


def find_stars(lum: np.ndarray, snr_min: float = 5.0, exclude_border: int = 8):
    """Star candidates: (y, x, snr) arrays and the smoothed image's noise, from a background-subtracted image."""
    sm = gaussian_filter(lum, 1.0)
    sig = robust_sigma(sm[::2, ::2])
    peaks = (sm == maximum_filter(sm, size=7)) & (sm > snr_min * sig)
    b = exclude_border
    peaks[:b] = peaks[-b:] = False
    peaks[:, :b] = peaks[:, -b:] = False
    y, x = np.nonzero(peaks)
    return y, x, sm[y, x] / sig, sig


def _moffat(coords, amp, x0, y0, fwhm, beta, bg):
    yy, xx = coords
    alpha = fwhm / (2.0 * np.sqrt(2.0 ** (1.0 / beta) - 1.0))
    return bg + amp * (1.0 + ((xx - x0) ** 2 + (yy - y0) ** 2) / alpha ** 2) ** (-beta)


def fit_fwhm(lum: np.ndarray, ys, xs, snrs, saturated: np.ndarray, max_stars: int = 150, half: int = 7):
    """Moffat (FWHM px, beta) of isolated unsaturated stars with SNR 30-3000; at most `max_stars` brightest fits."""
    ok = (snrs > 30) & (snrs < 3000)
    pts = np.column_stack([ys, xs])
    results = []
    order = np.argsort(-snrs)
    h, w = lum.shape
    for i in order:
        if not ok[i] or len(results) >= max_stars:
            continue
        y, x = ys[i], xs[i]
        if y < half or x < half or y >= h - half or x >= w - half:
            continue
        d2 = np.sum((pts - pts[i]) ** 2, axis=1)
        if np.sum(d2 < (2.5 * half) ** 2) > 1:  # a neighbour within the fitting box: not isolated
            continue
        if saturated[y - 2:y + 3, x - 2:x + 3].any():
            continue
        stamp = lum[y - half:y + half + 1, x - half:x + half + 1]
        yy, xx = np.mgrid[-half:half + 1, -half:half + 1].astype(np.float64)
        p0 = (stamp.max(), 0.0, 0.0, 2.5, 3.0, 0.0)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", OptimizeWarning)
                popt, _ = curve_fit(_moffat, (yy.ravel(), xx.ravel()), stamp.ravel(), p0=p0, maxfev=2000,
                                    bounds=([0, -2, -2, 0.8, 1.2, -np.inf], [np.inf, 2, 2, 15, 10, np.inf]))
        except (RuntimeError, ValueError):
            continue
        results.append((popt[3], popt[4]))
    return np.array(results).reshape(-1, 2)


def count_slope(snrs: np.ndarray, lo: float = 10.0, hi: float = 300.0) -> float:
    """alpha of N(>s) ~ s^-alpha between lo and hi, from the cumulative counts at log-spaced thresholds."""
    ts = np.geomspace(lo, hi, 12)
    n = np.array([np.sum(snrs > t) for t in ts], dtype=np.float64)
    good = n >= 3
    if good.sum() < 3:
        return float("nan")
    slope = np.polyfit(np.log(ts[good]), np.log(n[good]), 1)[0]
    return float(-slope)


def hot_pixel_density(plane: np.ndarray, sigma: float) -> float:
    """Single-pixel outliers per megapixel (their neighbours do not rise with them, unlike a star's)."""
    med8 = median_filter(plane, size=3)
    resid = plane - med8
    hot = resid > 12 * sigma
    neigh_max = maximum_filter(np.where(hot, -np.inf, plane - np.median(plane)), size=3)
    hot &= neigh_max < 3 * sigma
    return float(hot.sum() / plane.size * 1e6)


def measure_frame(data: np.ndarray, header: dict, name: str = "") -> dict:
    """All statistics of one raw frame (2-D mono or Bayer mosaic) as a JSON-ready dict."""
    data = np.asarray(data, dtype=np.float64)
    pattern = str(header.get("BAYERPAT", "")).strip().upper() or None
    maxval = 65535.0
    sat_level = 0.95 * float(np.max(data)) if np.max(data) > 0.9 * maxval else maxval
    out: dict = {"file": name, "shape": list(data.shape), "bayer": pattern}
    pix_um = header.get("XPIXSZ") or header.get("PIXSIZE1")
    focal = header.get("FOCALLEN")
    binning = header.get("XBINNING") or 1
    if pix_um and focal:
        # XPIXSZ is documented as binned; PIXSIZE1 as unbinned: use PIXSIZE1 x binning when only it is present.
        um = float(header["XPIXSZ"]) if header.get("XPIXSZ") else float(pix_um) * float(binning)
        out["pixel_scale_arcsec"] = round(206.265 * um / float(focal), 3)
    saturated = data >= sat_level
    if pattern:
        m = masks(data.shape, pattern)
        chan_sigma, chan_median = [], []
        for c in range(3):
            sub = data[m[c]]
            chan_median.append(float(np.median(sub)))
            # noise of the sub-grid about its own smooth background (G has two sites per cell; take one sub-grid)
            ys, xs = np.nonzero(m[c][:2, :2])
            grid = data[ys[0]::2, xs[0]::2]
            chan_sigma.append(robust_sigma(grid - background_map(grid, 32)))
        out["channel_median_adu"] = [round(v, 1) for v in chan_median]
        out["channel_sigma_adu"] = [round(v, 2) for v in chan_sigma]
        out["raw_headroom_sigma"] = round(float(np.mean([(maxval - m_) / s_ for m_, s_ in
                                                         zip(chan_median, chan_sigma)])), 1)
        rgb = demosaic(data, pattern)
        lum = rgb.mean(axis=0)
        sat_lum = maximum_filter(saturated, size=3)
    else:
        rgb = None
        lum = data
        sat_lum = saturated
    bg = background_map(lum)
    resid = lum - bg
    sigma = robust_sigma(resid[::2, ::2])
    out["median_adu"] = round(float(np.median(lum)), 1)
    out["sigma_adu"] = round(sigma, 2)
    out["headroom_sigma"] = round((maxval - float(np.median(lum))) / sigma, 1)
    if not pattern:
        out["raw_headroom_sigma"] = out["headroom_sigma"]
    grad_range, structure_rms = plane_fit_residual(bg)
    out["gradient_range_sigma"] = round(grad_range / sigma, 3)
    out["structure_rms_sigma"] = round(structure_rms / sigma, 3)
    if rgb is not None:
        per_c = []
        for c in range(3):
            bgc = background_map(rgb[c])
            rng_c, rms_c = plane_fit_residual(bgc)
            per_c.append((rng_c / out["channel_sigma_adu"][c], rms_c / out["channel_sigma_adu"][c]))
        out["gradient_range_sigma_rgb"] = [round(a, 3) for a, _ in per_c]
        out["structure_rms_sigma_rgb"] = [round(b, 3) for _, b in per_c]
    ys, xs, snrs, _ = find_stars(resid)
    mp = lum.size / 1e6
    out["stars_per_mpix"] = {str(t): round(float(np.sum(snrs > t)) / mp, 1) for t in SNR_THRESHOLDS}
    sat_peaks = sat_lum[ys, xs]
    out["saturated_stars_per_mpix"] = round(float(np.sum(sat_peaks)) / mp, 2)
    alpha = count_slope(snrs)
    out["count_slope_alpha"] = round(alpha, 3) if math.isfinite(alpha) else None  # strict JSON: no NaN
    fits_ = fit_fwhm(resid, ys, xs, snrs, sat_lum)
    if len(fits_):
        out["fwhm_px"] = {"n": int(len(fits_)), "p10": round(float(np.percentile(fits_[:, 0], 10)), 3),
                          "median": round(float(np.median(fits_[:, 0])), 3),
                          "p90": round(float(np.percentile(fits_[:, 0], 90)), 3)}
        out["moffat_beta_median"] = round(float(np.median(fits_[:, 1])), 3)
        if "pixel_scale_arcsec" in out:
            out["fwhm_arcsec_median"] = round(out["fwhm_px"]["median"] * out["pixel_scale_arcsec"], 3)
    if rgb is not None:
        out["star_colour"] = star_colours(rgb, ys, xs, snrs, sat_lum)
    if pattern:  # hot pixels on raw values: one green sub-grid of the mosaic, whose neighbours are its own colour
        ys0, xs0 = np.nonzero(m[1][:2, :2])
        grid = data[ys0[0]::2, xs0[0]::2]
        out["hot_pixels_per_mpix"] = round(hot_pixel_density(grid, out["channel_sigma_adu"][1]), 2)
    else:
        out["hot_pixels_per_mpix"] = round(hot_pixel_density(data, sigma), 2)
    return out


def star_colours(rgb: np.ndarray, ys, xs, snrs, sat, r: int = 3) -> dict:
    """Aperture colours log10(R/G), log10(B/G) of unsaturated stars with SNR > 20, in raw channel units."""
    h, w = rgb.shape[1:]
    cols = []
    for y, x, s in zip(ys, xs, snrs):
        if s < 20 or y < 2 * r or x < 2 * r or y >= h - 2 * r or x >= w - 2 * r or sat[y, x]:
            continue
        flux = []
        for c in range(3):
            st = rgb[c, y - 2 * r:y + 2 * r + 1, x - 2 * r:x + 2 * r + 1]
            ann = np.concatenate([st[0], st[-1], st[:, 0], st[:, -1]])
            core = st[r:3 * r + 1, r:3 * r + 1]
            flux.append(core.sum() - np.median(ann) * core.size)
        if min(flux) > 0:
            cols.append((math.log10(flux[0] / flux[1]), math.log10(flux[2] / flux[1])))
    if not cols:
        return {}
    c = np.array(cols)
    return {"n": int(len(c)), "log_r_g": [round(float(v), 3) for v in np.percentile(c[:, 0], [10, 50, 90])],
            "log_b_g": [round(float(v), 3) for v in np.percentile(c[:, 1], [10, 50, 90])]}


def summarise(frames: list[dict]) -> dict:
    """The generator's priors: ranges over the frames fit to be priors (not NOT_PRIORS)."""
    use = [f for f in frames if f["file"] not in NOT_PRIORS]

    def rng(key, sub=None):
        vals = [f[key][sub] if sub else f[key] for f in use if key in f and (sub is None or sub in f[key])]
        vals = [v for v in vals if v is not None and not (isinstance(v, float) and math.isnan(v))]
        return [min(vals), max(vals)] if vals else None

    bayer = [f for f in use if f.get("bayer")]
    prior = {
        "stars_per_mpix_snr5": rng("stars_per_mpix", "5"),
        "stars_per_mpix_snr20": rng("stars_per_mpix", "20"),
        "stars_per_mpix_snr100": rng("stars_per_mpix", "100"),
        "saturated_stars_per_mpix": rng("saturated_stars_per_mpix"),
        "count_slope_alpha": rng("count_slope_alpha"),
        "fwhm_px_median": rng("fwhm_px", "median"),
        "fwhm_px_p10_p90": [min(f["fwhm_px"]["p10"] for f in use if "fwhm_px" in f),
                            max(f["fwhm_px"]["p90"] for f in use if "fwhm_px" in f)],
        "fwhm_arcsec_median": rng("fwhm_arcsec_median"),
        "moffat_beta_median": rng("moffat_beta_median"),
        "pixel_scale_arcsec": rng("pixel_scale_arcsec"),
        "headroom_sigma": rng("headroom_sigma"),
        "raw_headroom_sigma": rng("raw_headroom_sigma"),
        "sigma_over_median": [round(min(f["sigma_adu"] / f["median_adu"] for f in use), 4),
                              round(max(f["sigma_adu"] / f["median_adu"] for f in use), 4)],
        "gradient_range_sigma": rng("gradient_range_sigma"),
        "structure_rms_sigma": rng("structure_rms_sigma"),
        "hot_pixels_per_mpix": rng("hot_pixels_per_mpix"),
    }
    if bayer:
        r_g = [f["channel_sigma_adu"][0] / f["channel_sigma_adu"][1] for f in bayer]
        b_g = [f["channel_sigma_adu"][2] / f["channel_sigma_adu"][1] for f in bayer]
        prior["bayer_channel_sigma_ratio_r_b_over_g"] = [[round(min(r_g), 4), round(max(r_g), 4)],
                                                         [round(min(b_g), 4), round(max(b_g), 4)]]
        cols = [f["star_colour"] for f in bayer if f.get("star_colour")]
        prior["star_log_r_g_p10_p50_p90"] = [round(float(np.median([c["log_r_g"][i] for c in cols])), 3)
                                             for i in range(3)]
        prior["star_log_b_g_p10_p50_p90"] = [round(float(np.median([c["log_b_g"][i] for c in cols])), 3)
                                             for i in range(3)]
    return prior


def main(argv=None) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    default_real = os.path.normpath(os.path.join(REPO, "..", "shared", "data", "real-fits"))
    ap = argparse.ArgumentParser(prog="python3 -m dso_training.datagen.measure_real",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--real-fits", default=default_real, help="folder of real FITS frames (default: %(default)s)")
    ap.add_argument("--out", default=os.path.join(here, "real_sky_stats.json"), help="JSON to write")
    args = ap.parse_args(argv)
    if not os.path.isdir(args.real_fits):
        print(f"no real frames at {args.real_fits}", file=sys.stderr)
        return 2
    frames = []
    for name in sorted(os.listdir(args.real_fits)):
        if not name.lower().endswith((".fit", ".fits")):
            continue
        header, data = read_fits(os.path.join(args.real_fits, name))
        if data.ndim != 2:
            continue
        stats = measure_frame(data, header, name)
        if name in NOT_PRIORS:
            stats["excluded_from_priors"] = NOT_PRIORS[name]
        frames.append(stats)
        print(f"{name}: sigma {stats['sigma_adu']} ADU, stars>5sigma {stats['stars_per_mpix']['5']}/Mpx, "
              f"alpha {stats['count_slope_alpha']}, FWHM {stats.get('fwhm_px', {}).get('median')} px",
              file=sys.stderr)
    result = {"source": "measured by models/training/dso_training/datagen/measure_real.py on ../shared/data/real-fits",
              "definitions": "see the docstring of models/training/dso_training/datagen/measure_real.py",
              "priors": summarise(frames), "frames": frames}
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1, sort_keys=False, allow_nan=False)
        f.write("\n")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
