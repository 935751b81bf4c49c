# SPDX-License-Identifier: GPL-3.0-or-later
"""Full-size demo frames for the INDI CCD simulator's directory mode (`CCD_DIRECTORY_LOCATION`).

`indi_simulator_ccd` serves, in name order, every `*.fits` in a folder; it needs BITPIX 8 or 16 data and a
PIXSIZE1 keyword, and takes BAYERPAT from the file for one-plane frames (libindi drivers/ccd/ccd_simulator.cpp,
`loadNextImage`). Each frame here holds one bright galaxy, one nebula and one cluster, each whole and in its own
third of the frame, on a moderately deep sky without trails, so a classical detector has something obvious to find;
a stretched JPEG preview and the true boxes (YOLO text and pixel boxes) go to `frames_preview/`.
"""

from __future__ import annotations

import json
import os

import numpy as np

from .objects import CLUSTER, GALAXY, NEBULA
from .output import display_rgb, header_cards, jpeg_bytes, write_fits_frame, yolo_lines
from .priors import load_priors, sample_scene
from .scene import ObjectPlan, render_frame

FRAME = 3


def frame_plans(rng: np.random.Generator, shape: tuple[int, int], n_subs: int) -> list[ObjectPlan]:
    """A galaxy, a nebula and a cluster, one per third of the long axis (order shuffled), fully inside."""
    h, w = shape
    kinds = [(GALAXY, str(rng.choice(["spiral", "spiral", "elliptical", "edge_on"]))),
             (NEBULA, str(rng.choice(["emission", "emission", "planetary", "reflection"]))),
             (CLUSTER, str(rng.choice(["globular", "open"])))]
    order = rng.permutation(3)
    plans = []
    long_w = w >= h
    span = (w if long_w else h) / 3
    short = h if long_w else w
    for slot, k in enumerate(order):
        cls, kind = kinds[k]
        size = float(np.clip(rng.uniform(0.45, 0.75) * min(span, short), 24, 600))
        if kind == "planetary":
            size = float(rng.uniform(60, 110))
        margin = size * 0.75
        a = rng.uniform(slot * span + margin, (slot + 1) * span - margin) if span > 2 * margin else (slot + 0.5) * span
        b = rng.uniform(margin, short - margin) if short > 2 * margin else short / 2
        cy, cx = (b, a) if long_w else (a, b)
        amp = float(rng.uniform(25, 80)) * float(np.sqrt(n_subs))
        plans.append(ObjectPlan(cls, kind, float(cy), float(cx), size, amp))
    return plans


def make_frames(out: str, n: int, width: int = 1280, height: int = 1024, seed: int = 0,
                bayer: str | None = "RGGB", quality: int = 92) -> list[str]:
    """Writes `n` frames as out/frame_0000.fits ... and previews; returns the FITS paths."""
    os.makedirs(out, exist_ok=True)
    prev = os.path.join(out, "frames_preview")
    os.makedirs(prev, exist_ok=True)
    priors = load_priors()
    paths = []
    for i in range(n):
        rng = np.random.default_rng([seed, FRAME, i])
        scene = sample_scene(rng, priors, bayer, depth=(30, 120), milky_way=1.0)
        # a clean demo sky: no trails or moon, faint nebulosity at most, one bright star at most
        scene.satellite = scene.aircraft = scene.moon = False
        scene.nebulosity_sigma = min(scene.nebulosity_sigma, 1.5)
        scene.bright_stars = min(scene.bright_stars, 1)
        scene.gradient_sigma = min(scene.gradient_sigma, 5.0)
        shape = (height, width)
        frame = render_frame(rng, scene, shape, frame_plans(rng, shape, scene.n_subs))
        name = f"frame_{i:04d}"
        cards = header_cards(rng, scene, frame.bias, bayer, "demo: " + ", ".join(lab.kind for lab in frame.labels),
                             f"dso_training.datagen demo frame seed {seed} index {i}")
        path = os.path.join(out, name + ".fits")
        write_fits_frame(path, frame.adu, bayer, cards)
        with open(os.path.join(prev, name + ".jpg"), "wb") as f:
            f.write(jpeg_bytes(display_rgb(frame.adu, bayer), 0.25, quality))
        with open(os.path.join(prev, name + ".txt"), "w", encoding="utf-8") as f:
            f.write(yolo_lines(frame.labels, width, height))
        with open(os.path.join(prev, name + ".json"), "w", encoding="utf-8") as f:
            json.dump([{"class": ["galaxy", "nebula", "cluster"][lab.cls], "kind": lab.kind,
                        "box_px": [round(lab.x0, 1), round(lab.y0, 1), round(lab.x1, 1), round(lab.y1, 1)]}
                       for lab in frame.labels], f, indent=1)
            f.write("\n")
        paths.append(path)
    return paths
