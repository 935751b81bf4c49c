# SPDX-License-Identifier: GPL-3.0-or-later
"""Labels land on what was drawn: every synthetic kind, and catalogue boxes carried through a composite."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import clean_scene
from dso_training.datagen.measure_real import find_stars, robust_sigma
from dso_training.datagen.objects import KINDS
from dso_training.datagen.scene import ObjectPlan, render_frame

ALL_KINDS = [(cls, kind) for cls, kinds in KINDS.items() for kind, *_ in kinds]


@pytest.mark.parametrize("cls,kind", ALL_KINDS)
def test_synthetic_box_sits_on_its_object(priors, cls, kind):
    """Inside the box the frame is well above the background around it (mean > 2 sigma), or, for star clusters,
    bright stars are several times denser than outside; the box is centred near the object."""
    for rep in range(2):
        rng = np.random.default_rng([42, cls, rep, len(kind)])
        scene = clean_scene(priors, rng)
        size = 60.0 if kind == "planetary" else 180.0
        frame = render_frame(rng, scene, (320, 320), [ObjectPlan(cls, kind, 160.0, 160.0, size, 160.0)])
        assert len(frame.labels) == 1, f"{kind}: no label for a bright object"
        lab = frame.labels[0]
        assert lab.cls == cls
        lum = frame.adu.astype(np.float64).mean(axis=0)
        x0, y0, x1, y1 = int(lab.x0), int(lab.y0), int(np.ceil(lab.x1)), int(np.ceil(lab.y1))
        inside = np.zeros(lum.shape, bool)
        inside[y0:y1, x0:x1] = True
        bg = np.median(lum[~inside])
        sig = robust_sigma(lum[~inside] - bg)
        excess = (lum[inside].mean() - bg) / sig
        ys, xs, snr, _ = find_stars(lum - bg)
        bright = snr > 10
        dens_in = np.sum(bright & inside[ys, xs]) / inside.sum()
        dens_out = np.sum(bright & ~inside[ys, xs]) / (~inside).sum()
        assert excess > 2.0 or dens_in > 3.0 * max(dens_out, 1e-6), f"{kind}: box not on the object"
        cx, cy = (lab.x0 + lab.x1) / 2, (lab.y0 + lab.y1) / 2
        assert abs(cx - 160) < 0.3 * size and abs(cy - 160) < 0.3 * size, f"{kind}: box off centre"


def test_invisible_objects_get_no_label(priors):
    rng = np.random.default_rng(5)
    scene = clean_scene(priors, rng)
    frame = render_frame(rng, scene, (256, 256), [ObjectPlan(0, "elliptical", 128, 128, 60, 0.2)])
    assert frame.labels == []


def test_boxes_are_clipped_to_the_image(priors):
    rng = np.random.default_rng(6)
    scene = clean_scene(priors, rng)
    frame = render_frame(rng, scene, (256, 256), [ObjectPlan(1, "emission", 10.0, 250.0, 300, 300.0)])
    assert frame.labels
    lab = frame.labels[0]
    assert lab.x0 >= 0 and lab.y0 >= 0 and lab.x1 <= 256 and lab.y1 <= 256
    assert lab.y0 == 0 and lab.x1 == 256  # truncated by the border, as in real patches


def test_composite_keeps_m51_box_on_the_galaxy(stellarium_tiles):
    """Cut M51's photograph into patches through the whole composite geometry (scale, rotation, flip, offset):
    the M51 box must hold the bright galaxy, its inner half at least 1.5 times as bright as the photograph
    outside the box."""
    from dso_training.datagen.composite import PhotoLibrary, cut
    from dso_training.datagen.stellarium import find_tile
    lib = PhotoLibrary()
    tile = find_tile(stellarium_tiles, messier="51")
    lib.tiles = [t for t in lib.tiles if t.image == tile.image]
    lib.max_extent, lib.weight = lib.max_extent[:1] * 0 + 1e6, np.ones(1)
    found = 0
    for seed in range(6):
        got = cut(np.random.default_rng(seed), lib, (320, 320))
        assert got is not None
        planes, alpha, boxes = got
        lum = planes.mean(axis=0)
        for cls, x0, y0, x1, y1, name in boxes:
            if name != "NGC5194" or (x1 - x0) < 20 or (y1 - y0) < 20:
                continue
            w, h = x1 - x0, y1 - y0
            core = lum[int(y0 + h / 4):int(y1 - h / 4), int(x0 + w / 4):int(x1 - w / 4)]
            outside = alpha > 0.5
            outside[int(y0):int(np.ceil(y1)), int(x0):int(np.ceil(x1))] = False
            ref = np.median(lum[outside])
            assert cls == 0
            assert core.mean() > 1.5 * ref and core.mean() > ref + 0.02
            found += 1
    assert found >= 4
