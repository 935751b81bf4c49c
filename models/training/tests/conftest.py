# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fixtures: models/training on sys.path (so `dso_training` imports from any working directory, installed or
not), where the read-only real data lives, and skips with a clear reason when stellarium-data or ../shared is
absent."""

from __future__ import annotations

import os
import sys

import pytest

TRAINING = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
REPO = os.path.abspath(os.path.join(TRAINING, "..", ".."))
if TRAINING not in sys.path:
    sys.path.insert(0, TRAINING)

SHARED_DATA = os.path.normpath(os.path.join(REPO, "..", "shared", "data"))
REAL_FITS = os.path.join(SHARED_DATA, "real-fits")


@pytest.fixture(scope="session")
def stellarium_tiles():
    from dso_training.datagen.stellarium import available, load_tiles
    if not available():
        pytest.skip("stellarium-data is not installed (apt-get install -y stellarium-data): "
                    "/usr/share/stellarium/nebulae/default/textures.json missing")
    return load_tiles()


@pytest.fixture(scope="session")
def real_fits_dir():
    if not os.path.isdir(REAL_FITS):
        pytest.skip(f"real frames not available at {REAL_FITS} (../shared is absent)")
    return REAL_FITS


@pytest.fixture(scope="session")
def priors():
    from dso_training.datagen.priors import load_priors
    return load_priors()


def clean_scene(priors, rng, n_subs: int = 16, bayer=None):
    """A scene without nebulosity, gradients, trails, hot pixels or bright stars: only stars, sky and noise."""
    from dso_training.datagen.priors import sample_scene
    sc = sample_scene(rng, priors, bayer, depth=(n_subs, n_subs), milky_way=1.0)
    sc.nebulosity_sigma = 0.0
    sc.dust = 0.0
    sc.moon = False
    sc.vignetting = 0.0
    sc.bright_stars = 0
    sc.satellite = sc.aircraft = False
    sc.gradient_sigma = 0.0
    sc.hot_pixels_per_mpix = 0.0
    return sc
