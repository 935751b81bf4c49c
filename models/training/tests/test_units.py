# SPDX-License-Identifier: GPL-3.0-or-later
"""Small pieces on their own: Bayer mosaics, the FITS writer, the AutoSTF stretch, statistics, PSF photometry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dso_training.datagen import bayer
from dso_training.datagen.fits import read_fits, read_header_cards, write_fits_u16
from dso_training.datagen.layout import CENTRED_SPAN, sample_centre, sample_size
from dso_training.datagen.stats import full_frame_f1, summarise, touches_border
from dso_training.common.stretch import auto_params, mtf, stretch_plane


@pytest.mark.parametrize("pattern", bayer.PATTERNS)
def test_mosaic_puts_each_colour_where_the_pattern_says(pattern):
    rgb = np.stack([np.full((4, 6), v, np.float64) for v in (10.0, 20.0, 30.0)])
    raw = bayer.mosaic(rgb, pattern)
    value = {"R": 10.0, "G": 20.0, "B": 30.0}
    assert raw[0, 0] == value[pattern[0]] and raw[0, 1] == value[pattern[1]]
    assert raw[1, 0] == value[pattern[2]] and raw[1, 1] == value[pattern[3]]
    assert np.array_equal(raw[2:4, 2:4], raw[0:2, 0:2])           # the 2x2 cell repeats
    assert np.allclose(bayer.demosaic(raw, pattern), rgb)         # flat colours survive the round trip


def test_demosaic_keeps_each_measured_pixel():
    rng = np.random.default_rng(0)
    rgb = rng.uniform(0, 1, (3, 8, 8))
    raw = bayer.mosaic(rgb, "GRBG")
    back = bayer.demosaic(raw, "GRBG")
    m = bayer.masks(raw.shape, "GRBG")
    for c in range(3):
        assert np.allclose(back[c][m[c]], rgb[c][m[c]])


def test_generated_bayer_frame_has_the_pattern_in_its_statistics(priors):
    """In a mosaiced frame of a red sky, the R sites (per BAYERPAT) are the bright ones."""
    from conftest import clean_scene
    from dso_training.datagen.scene import render_frame
    rng = np.random.default_rng(9)
    scene = clean_scene(priors, rng, bayer="GBRG")
    scene.sky_colour = np.array([4.0, 1.0, 0.25])
    frame = render_frame(rng, scene, (64, 64), [])
    raw = bayer.mosaic(frame.adu.astype(np.float64), "GBRG")
    site = {(0, 0): "G", (0, 1): "B", (1, 0): "R", (1, 1): "G"}
    med = {site[(y, x)]: np.median(raw[y::2, x::2]) for y in (0, 1) for x in (0, 1)}
    assert med["R"] > med["G"] > med["B"]


def test_fits_round_trip_and_card_format(tmp_path):
    data = (np.arange(6 * 5, dtype=np.uint16).reshape(5, 6) * 2000).astype(np.uint16)
    data[0, 0], data[-1, -1] = 0, 65535
    path = tmp_path / "x.fits"
    write_fits_u16(path, data, [("PIXSIZE1", 3.76, "Pixel Size 1 (microns)"), ("OBJECT", "it's", "quote"),
                                ("ROWORDER", "TOP-DOWN", ""), ("COMMENT", None, "hello")])
    header, back = read_fits(path)
    assert np.array_equal(back, data.astype(np.float64))
    assert header["NAXIS1"] == 6 and header["NAXIS2"] == 5 and header["PIXSIZE1"] == 3.76
    assert header["OBJECT"] == "it's" and header["ROWORDER"] == "TOP-DOWN"
    cards = read_header_cards(path)
    assert all(len(c) == 80 for c in cards)
    assert cards[3].startswith("NAXIS1  =                    6")
    assert any(c.startswith("BZERO   =                32768") for c in cards)
    assert path.stat().st_size == 2 * 2880
    raw = path.read_bytes()[2880:2880 + 4]
    assert raw == bytes([0x80, 0x00, 0x87, 0xD0])  # 0 - 32768 and 2000 - 32768, big-endian int16


def test_fits_rejects_bad_input(tmp_path):
    with pytest.raises(TypeError):
        write_fits_u16(tmp_path / "f.fits", np.zeros((2, 2), np.float32), [])
    with pytest.raises(ValueError):
        write_fits_u16(tmp_path / "f.fits", np.zeros((2, 2), np.uint16), [("TOOLONGKEY", 1, "")])


def test_stretch_matches_autostf():
    assert mtf(0.25, np.array(0.25)) == pytest.approx(0.5)
    assert mtf(0.3, np.array(0.0)) == 0.0 and mtf(0.3, np.array(1.0)) == 1.0
    rng = np.random.default_rng(1)
    plane = (0.1 + 0.01 * rng.standard_normal((200, 200))).astype(np.float32)
    shadows, m = auto_params(plane)
    assert shadows == pytest.approx(0.1 - 2.8 * 0.01, abs=1e-3)      # median - 2.8 x 1.4826 MAD
    out = stretch_plane(plane)
    assert np.median(out) == pytest.approx(0.25, abs=0.01)             # background lands on the target
    assert np.median(stretch_plane(plane, 0.1)) == pytest.approx(0.1, abs=0.01)


def test_stats_are_computed_correctly():
    recs = [{"w": 100, "h": 100, "kind": "synthetic", "split": "train", "boxes": []},
            {"w": 100, "h": 100, "kind": "synthetic", "split": "train",
             "boxes": [(0, 0.0, 10.0, 20.0, 30.0), (2, 40.0, 40.0, 60.0, 50.0)]},
            {"w": 100, "h": 100, "kind": "composite", "split": "val", "hard_negatives": 2,
             "boxes": [(1, 10.0, 10.0, 90.0, 100.0)]}]
    s = summarise(recs)
    assert s["images"] == 3 and s["boxes"] == 3
    assert s["empty_fraction"] == pytest.approx(1 / 3, abs=1e-3)
    assert s["objects_per_patch"] == pytest.approx(1.0)
    assert s["border_touch_fraction"] == pytest.approx(2 / 3, abs=1e-3)
    assert s["class_counts"] == {"galaxy": 1, "nebula": 1, "cluster": 1}
    assert s["box_long_side_px"]["p50"] == 20.0 and s["box_long_side_px"]["p100"] == 90.0
    assert s["boxes_over_70pct_fraction"] == pytest.approx(1 / 3, abs=1e-3)
    assert s["hard_negative_bright_stars"] == 2
    # Only the third image holds a box covering half of it: one hit out of 3 full-frame boxes and 3 labels.
    assert s["full_frame_f1"] == pytest.approx(1 / 3, abs=1e-3)
    assert full_frame_f1([]) == 0.0 and full_frame_f1(recs[:2]) == 0.0
    assert touches_border((0.5, 5, 10, 10), 100, 100) and not touches_border((5, 5, 95, 95), 100, 100)


def test_centred_placement_of_big_objects():
    shape = (640, 640)
    # centred=0 draws exactly what the placement always drew, so earlier data sets stay byte-identical
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    assert sample_centre(a, 900.0, shape) == sample_centre(b, 900.0, shape, 0.0) and a.random() == b.random()
    rng = np.random.default_rng(4)
    for _ in range(200):
        cy, cx = sample_centre(rng, 700.0, shape, 1.0)
        assert abs(cy - 320) <= CENTRED_SPAN * 320 + 1e-9 and abs(cx - 320) <= CENTRED_SPAN * 320 + 1e-9
    small = [sample_centre(rng, 100.0, shape, 1.0) for _ in range(500)]     # small objects are never centred
    assert min(c[1] for c in small) < 100 and max(c[1] for c in small) > 540

    def half_frame_share(centred: float) -> float:
        rng = np.random.default_rng(5)
        hits = 0
        for _ in range(4000):
            size = sample_size(rng, 640)
            cy, cx = sample_centre(rng, size, shape, centred)
            w = min(640, cx + size / 2) - max(0, cx - size / 2)
            h = min(640, cy + size / 2) - max(0, cy - size / 2)
            hits += w * h >= 0.5 * 640 * 640
        return hits / 4000
    assert half_frame_share(0.5) > 1.3 * half_frame_share(0.0)


def test_star_flux_conversion_is_self_consistent():
    from dso_training.datagen.priors import smoothed_peak_per_flux
    from dso_training.datagen.psf import moffat_peak_per_flux
    # with no smoothing the smoothed peak tends to the Moffat peak; smoothing lowers it
    for fwhm, beta in ((2.0, 2.5), (3.0, 4.0)):
        assert smoothed_peak_per_flux(fwhm, beta, 0.05) == pytest.approx(moffat_peak_per_flux(fwhm, beta), rel=0.02)
        assert smoothed_peak_per_flux(fwhm, beta) < moffat_peak_per_flux(fwhm, beta)


def test_splat_conserves_flux():
    from dso_training.datagen.psf import splat
    canvas = np.zeros((3, 64, 64), np.float32)
    splat(canvas, np.array([32.3]), np.array([30.7]), np.array([1000.0]), np.ones((1, 3)), 2.5, 3.0, 25)
    assert canvas[1].sum() == pytest.approx(1000.0, rel=0.02)
    assert canvas[1].argmax() == 32 * 64 + 30


def test_cli_rejects_bad_options(tmp_path, capsys):
    from dso_training.datagen.cli import main
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path), "--stretch-target", "2"])
    assert main(["--out", str(tmp_path), "--synthetic", "1", "--bayer-fraction", "1.5"]) == 2
    assert math.isfinite(1.0)
