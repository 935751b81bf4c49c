# SPDX-License-Identifier: GPL-3.0-or-later
"""How many objects a patch holds, how big they are and where: the statistics of real smart-telescope patches.

Real 640x640 patches are cut from large frames, so objects are often cut by the patch border. The targets
(issue: real patches) are: 62 % of boxes touch the border, box sizes from 7 px to the full patch with a median
~190 px, ~1 object per patch, 15-20 % of patches empty. A third of real boxes cover most of the patch (an object
larger than the crop), so sizes are a mixture: 1/3 "larger than the patch" and 2/3 log-uniform small-to-large.
Centres may lie outside the patch so truncated boxes come naturally; `stats.py` measures what came out.

Real patches are also often cut *around* a large target (smart-telescope users centre what they observe), so a
quarter of real labels cover more than half of the patch — which is why one full-frame box per image scores F1 0.25
there (issue 3). With `centred` > 0, that fraction of the objects larger than the patch has its centre in the
middle fifth of it (`CENTRED_SPAN`), and such frame-filling boxes become as common as in real patches; 0 (the
default) keeps the placement, and so the bytes, of earlier data sets.
"""

from __future__ import annotations

import math

import numpy as np

from .objects import CLUSTER, GALAXY, NEBULA, choose_kind
from .scene import ObjectPlan

N_OBJECTS_P = (0.12, 0.72, 0.12, 0.04)   # 0, 1, 2, 3 objects
# galaxy, nebula, cluster: objects larger than a smart-telescope patch are mostly Milky Way nebulae (few galaxies
# exceed ~20 arcmin), small ones mostly galaxies
CLASS_P_SMALL = (0.45, 0.25, 0.30)
CLASS_P_BIG = (0.2, 0.6, 0.2)
BIG_FRACTION = 0.45                      # objects larger than the patch
MIN_INSIDE = 0.20                        # at least this fraction of an object's extent lies inside
CENTRED_SPAN = 0.2                       # centred big objects: centre within this fraction of the patch's middle


def sample_count(rng: np.random.Generator) -> int:
    return int(rng.choice(len(N_OBJECTS_P), p=np.array(N_OBJECTS_P)))


def sample_size(rng: np.random.Generator, patch: int, big_fraction: float = BIG_FRACTION) -> float:
    """Visible diameter in px of one object on a `patch`-px image."""
    if rng.random() < big_fraction:
        return patch * rng.uniform(0.9, 2.2)
    return math.exp(rng.uniform(math.log(0.015 * patch), math.log(0.7 * patch)))


def sample_centre(rng: np.random.Generator, size: float, shape: tuple[int, int],
                  centred: float = 0.0) -> tuple[float, float]:
    """A centre such that at least MIN_INSIDE of the object's extent lies inside the image on each axis. Small
    objects land anywhere; those cut by the border are as frequent as in patches cut from larger frames. With
    probability `centred`, an object at least 0.9 patch wide is centred near the middle (module docstring)."""
    h, w = shape
    if centred > 0 and size >= 0.9 * max(shape) and rng.random() < centred:
        return tuple(n * (0.5 + CENTRED_SPAN * rng.uniform(-0.5, 0.5)) for n in (h, w))
    out = []
    for n in (h, w):
        reach = (0.5 - MIN_INSIDE) * size  # how far the centre may sit outside
        out.append(rng.uniform(-reach, n + reach) if reach > 0 else rng.uniform(0, n))
    return out[0], out[1]


# Extended nebulae are mostly faint: their brightest 10-s surface brightness tops out lower than galaxy cores'.
AMP_TOP = {"emission": 80.0, "reflection": 60.0, "remnant": 60.0, "dark": 60.0}


def sample_amp(rng: np.random.Generator, n_subs: int, size: float, kind: str = "") -> float:
    """Brightness in stack sigmas: a 10-s-sub surface brightness (log-uniform 1.2-300 sigma) times sqrt(N);
    small objects are only catalogued (and labelled) when they are bright, so their floor is higher."""
    floor = 3.0 if size < 60 else (2.5 if size > 300 else 1.2)
    top = AMP_TOP.get(kind, 300.0)
    return math.exp(rng.uniform(math.log(floor), math.log(top))) * math.sqrt(n_subs)


def plan_objects(rng: np.random.Generator, shape: tuple[int, int], n_subs: int,
                 count: int | None = None, centred: float = 0.0) -> list[ObjectPlan]:
    """Objects for one synthetic patch (`centred`: see `sample_centre`)."""
    n = sample_count(rng) if count is None else count
    plans = []
    for _ in range(n):
        size = sample_size(rng, max(shape))
        cls = int(rng.choice(3, p=np.array(CLASS_P_BIG if size > 0.8 * max(shape) else CLASS_P_SMALL)))
        kind = choose_kind(rng, cls, size)
        if kind in ("edge_on", "spiral") and size > max(shape):
            # a thin disc centred outside the patch would often miss it: keep big discs' centres inside
            cy, cx = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
        else:
            cy, cx = sample_centre(rng, size, shape, centred)
        plans.append(ObjectPlan(cls, kind, cy, cx, size, sample_amp(rng, n_subs, size, kind)))
    return plans


__all__ = ["plan_objects", "sample_size", "sample_centre", "sample_amp", "GALAXY", "NEBULA", "CLUSTER"]
