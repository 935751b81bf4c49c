# SPDX-License-Identifier: GPL-3.0-or-later
"""Generates a YOLO dataset: synthetic and composite patches, each from its own random stream.

Image i of kind k draws everything from `numpy.random.default_rng([seed, k, i])`, so a set is byte-identical for a
seed whatever the number of worker processes, and image 17 is the same whether 20 or 20,000 are made.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from . import bayer as bayer_mod
from .composite import PhotoLibrary, composite_light
from .layout import plan_objects
from .output import display_rgb, header_cards, jpeg_bytes, make_dirs, write_data_yaml, write_fits_frame, yolo_lines
from .priors import load_priors, sample_scene
from .scene import render_frame
from .stats import format_stats, summarise, write_stats
from .stellarium import STELLARIUM_DIR

SYNTHETIC, COMPOSITE = 1, 2  # random-stream ids; frames.py uses 3
EMPTY_COMPOSITE = 0.15  # composites without any catalogued object (empty patches, as in real data)


@dataclass
class Options:
    """What to generate (see cli.py for the meaning of each)."""
    out: str
    seed: int = 0
    synthetic: int = 8
    composite: int = 8
    size: int = 640
    fits: bool = False
    bayer_fraction: float = 0.5
    val_fraction: float = 0.1
    stretch_target: tuple[float, float] = (0.25, 0.25)
    stretch_mode: str = "unlinked"   # unlinked | linked | mixed (half each, drawn per image)
    quality: int = 92
    workers: int = 1
    stellarium_dir: str = STELLARIUM_DIR
    centred_fraction: float = 0.0    # layout.sample_centre: big objects centred near the middle


_LIB: dict = {}


def _library(directory: str) -> PhotoLibrary:
    if directory not in _LIB:
        _LIB[directory] = PhotoLibrary(directory)
    return _LIB[directory]


def make_item(opts: Options, kind: int, index: int) -> dict:
    """Generates and writes one patch; returns its record for the statistics."""
    rng = np.random.default_rng([opts.seed, kind, index])
    split = "val" if rng.random() < opts.val_fraction else "train"
    pattern = str(rng.choice(bayer_mod.PATTERNS)) if rng.random() < opts.bayer_fraction else None
    shape = (opts.size, opts.size)
    scene = sample_scene(rng, load_priors_cached(), pattern)
    name = f"{'syn' if kind == SYNTHETIC else 'cmp'}_{index:06d}"
    objname = "synthetic field"
    if kind == SYNTHETIC:
        plans = plan_objects(rng, shape, scene.n_subs, centred=opts.centred_fraction)
        frame = render_frame(rng, scene, shape, plans)
        objname = "synthetic: " + ", ".join(lab.kind for lab in frame.labels) if frame.labels else objname
    else:
        empty = bool(rng.random() < EMPTY_COMPOSITE)
        got = composite_light(rng, _library(opts.stellarium_dir), scene, shape, empty=empty,
                              centred=opts.centred_fraction)
        if got is None:  # no photograph region free of catalogued objects: an empty synthetic field instead
            frame = render_frame(rng, scene, shape, [])
        else:
            light, labels, names = got
            frame = render_frame(rng, scene, shape, [], extra_light=light, extra_labels=labels)
            objname = "composite: " + (" ".join(names) if names else "empty photograph region")
    target = float(rng.uniform(*opts.stretch_target))
    linked = opts.stretch_mode == "linked" or (opts.stretch_mode == "mixed" and rng.random() < 0.5)
    planes = display_rgb(frame.adu, pattern)
    with open(os.path.join(opts.out, "images", split, name + ".jpg"), "wb") as f:
        f.write(jpeg_bytes(planes, target, opts.quality, scene.gains if linked else None))
    with open(os.path.join(opts.out, "labels", split, name + ".txt"), "w", encoding="utf-8") as f:
        f.write(yolo_lines(frame.labels, opts.size, opts.size))
    if opts.fits:
        cards = header_cards(rng, scene, frame.bias, pattern, objname,
                             f"dso_training.datagen seed {opts.seed} kind {kind} index {index}")
        write_fits_frame(os.path.join(opts.out, "fits", name + ".fits"), frame.adu, pattern, cards)
    return {"name": name, "w": opts.size, "h": opts.size, "split": split,
            "kind": "synthetic" if kind == SYNTHETIC else "composite", "bayer": pattern, "linked": linked,
            "hard_negatives": frame.saturated_stars,
            "boxes": [(lab.cls, lab.x0, lab.y0, lab.x1, lab.y1) for lab in frame.labels]}


_PRIORS: dict = {}


def load_priors_cached() -> dict:
    if "p" not in _PRIORS:
        _PRIORS["p"] = load_priors()
    return _PRIORS["p"]


def _work(args):
    opts, kind, index = args
    return make_item(opts, kind, index)


def generate(opts: Options, log=sys.stderr) -> dict:
    """Writes the whole set and its statistics; returns the statistics."""
    make_dirs(opts.out, opts.fits)
    write_data_yaml(opts.out)
    jobs = [(opts, SYNTHETIC, i) for i in range(opts.synthetic)] + [(opts, COMPOSITE, i) for i in range(opts.composite)]
    t0 = time.perf_counter()
    records = []
    if opts.workers > 1 and len(jobs) > 1:
        with mp.get_context("fork").Pool(opts.workers) as pool:
            for k, rec in enumerate(pool.imap(_work, jobs, chunksize=4)):
                records.append(rec)
                _progress(log, k + 1, len(jobs), t0)
    else:
        for k, job in enumerate(jobs):
            records.append(_work(job))
            _progress(log, k + 1, len(jobs), t0)
    elapsed = time.perf_counter() - t0
    stats = summarise(records)
    stats["seconds"] = round(elapsed, 1)
    stats["seconds_per_image"] = round(elapsed / max(len(jobs), 1), 3)
    # where and how fast it ran is not part of the set: stats.json stays byte-identical for a seed
    stats["options"] = {k: v for k, v in vars(opts).items() if k not in ("out", "stellarium_dir", "workers")}
    write_stats(os.path.join(opts.out, "stats.json"), {k: v for k, v in stats.items() if k not in ("seconds",
                                                                                                    "seconds_per_image")})
    return stats


def _progress(log, done: int, total: int, t0: float) -> None:
    if log is None:
        return
    if done == total or done % 100 == 0:
        rate = (time.perf_counter() - t0) / done
        print(f"  {done}/{total} images, {rate:.3f} s each", file=log)


__all__ = ["Options", "generate", "make_item", "format_stats"]
