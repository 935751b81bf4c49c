# SPDX-License-Identifier: GPL-3.0-or-later
"""The real material: OpenNGC from pyongc, the Stellarium projection (M51, M31/M32/M110, M13, M42), and the
real-sky measurement that the priors come from, including a closure test on generated frames."""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest

from conftest import SHARED_DATA, clean_scene
from dso_training.datagen.catalog import CLASSES, load_objects
from dso_training.datagen.stellarium import find_tile, load_rgb, parse_textures_json


def test_catalogue_types_and_messier_objects():
    objs = {o.name: o for o in load_objects()}
    assert objs["NGC5194"].messier == "51" and CLASSES[objs["NGC5194"].cls] == "galaxy"
    assert CLASSES[objs["NGC1976"].cls] == "nebula"      # M42, Cl+N
    assert CLASSES[objs["NGC6205"].cls] == "cluster"     # M13, GCl
    assert all(o.otype not in ("*", "**", "Dup", "NonEx", "Nova", "Other") for o in objs.values())
    assert abs(objs["NGC0224"].ra - 10.6848) < 1e-3 and abs(objs["NGC0224"].dec - 41.2691) < 1e-3


def test_catalogue_matches_the_shared_csv_export():
    path = os.path.join(SHARED_DATA, "catalogs", "openngc_from_pyongc_1.2.2.csv")
    if not os.path.isfile(path):
        pytest.skip(f"{path} absent (../shared not available)")
    objs = {o.name: o for o in load_objects()}
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["name"] in objs]
    assert len(rows) == len(objs)
    for r in rows[::50]:
        o = objs[r["name"]]
        assert abs(float(r["ra_deg"]) - o.ra) < 1e-6 and abs(float(r["dec_deg"]) - o.dec) < 1e-6


def test_lenient_json():
    doc = parse_textures_json('{"a": [[-.97, .5], [1, -0.25]], "b": "x.5"}')
    assert doc["a"] == [[-0.97, 0.5], [1, -0.25]] and doc["b"] == "x.5"


def _blob_centre(img, box):
    """Brightness-weighted centre of the brightest 10 % of the photograph inside a box."""
    lum = img.mean(axis=2)
    h, w = lum.shape
    x0, y0 = max(0, int(box.x0)), max(0, int(box.y0))
    x1, y1 = min(w, int(np.ceil(box.x1))), min(h, int(np.ceil(box.y1)))
    sub = lum[y0:y1, x0:x1]
    wgt = np.clip(sub - np.percentile(sub, 90), 0, None)
    ys, xs = np.mgrid[y0:y1, x0:x1]
    return (xs * wgt).sum() / wgt.sum(), (ys * wgt).sum() / wgt.sum(), sub.mean() - np.median(lum)


@pytest.mark.parametrize("messier,name", [("51", "NGC5194"), ("31", "NGC0224"), ("31", "NGC0221"),
                                          ("31", "NGC0205"), ("13", "NGC6205"), ("42", "NGC1976")])
def test_boxes_land_on_the_photographed_objects(stellarium_tiles, messier, name):
    """The projected box of each object lies on its bright blob: the light inside is brighter than the
    photograph's median, and the brightest light inside is centred within 20 % of the box size."""
    tile = find_tile(stellarium_tiles, messier=messier)
    box = next(b for b in tile.boxes if b.name == name)
    img = load_rgb(tile.image)
    cx, cy, excess = _blob_centre(img, box)
    bw, bh = box.x1 - box.x0, box.y1 - box.y0
    assert excess > 0.05
    assert abs(cx - box.centre[0]) < 0.2 * bw and abs(cy - box.centre[1]) < 0.2 * bh


def test_m31_companions_are_north_west_and_south(stellarium_tiles):
    """Orientation check: M110 lies north-west of M31's nucleus and M32 south(-east), as on the sky."""
    tile = find_tile(stellarium_tiles, messier="31")
    c = {b.name: b.centre for b in tile.boxes}
    assert c["NGC0205"][1] < c["NGC0224"][1] < c["NGC0221"][1]    # y grows southwards
    assert c["NGC0205"][0] > c["NGC0224"][0]                      # x grows westwards (east is left)


def test_committed_priors_come_from_measure_real(real_fits_dir):
    """Re-measuring one real frame reproduces the committed JSON entry exactly."""
    from dso_training.datagen.fits import read_fits
    from dso_training.datagen.measure_real import measure_frame
    from dso_training.datagen.priors import PRIORS_FILE
    with open(PRIORS_FILE, encoding="utf-8") as f:
        committed = {fr["file"]: fr for fr in json.load(f)["frames"]}
    name = "Light_NGC7023_10.0s_IRCUT_20240730-224436_wcs.fit"
    header, data = read_fits(os.path.join(real_fits_dir, name))
    fresh = json.loads(json.dumps(measure_frame(data, header, name)))
    expected = {k: v for k, v in committed[name].items() if k != "excluded_from_priors"}
    assert fresh == expected


def test_generated_subframe_measures_like_its_priors(priors):
    """Closure: a generated 10-s sub-frame (Bayer GRBG), measured with measure_real, shows the star density,
    FWHM and noise headroom it was generated with (the same definitions as the real measurement)."""
    from dso_training.datagen.bayer import mosaic
    from dso_training.datagen.measure_real import measure_frame
    from dso_training.datagen.scene import render_frame
    rng = np.random.default_rng(3)
    scene = clean_scene(priors, rng, n_subs=1, bayer="GRBG")
    scene.stars_per_mpix_snr5, scene.alpha, scene.fwhm = 190.0, 0.95, 2.5
    frame = render_frame(rng, scene, (720, 1280), [])
    m = measure_frame(mosaic(frame.adu.astype(np.float64), "GRBG"), {"BAYERPAT": "GRBG"}, "generated")
    assert 0.7 * 190 < m["stars_per_mpix"]["5"] < 1.3 * 190
    assert 2.2 < m["fwhm_px"]["median"] < 3.6        # demosaicing widens a 2.5-px star a little, as on the Seestar
    lo, hi = priors["raw_headroom_sigma"]
    assert 0.8 * lo < m["raw_headroom_sigma"] < 1.2 * hi
