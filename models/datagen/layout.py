# SPDX-License-Identifier: GPL-3.0-or-later
"""How many objects a patch holds, how big they are and where: the statistics of real smart-telescope patches.

Real 640x640 patches are cut from large frames, so objects are often cut by the patch border. The targets
(issue: real patches) are: 62 % of boxes touch the border, box sizes from 7 px to the full patch with a median
~190 px, ~1 object per patch, 15-20 % of patches empty. A third of real boxes cover most of the patch (an object
larger than the crop), so sizes are a mixture: 1/3 "larger than the patch" and 2/3 log-uniform small-to-large.
Centres may lie outside the patch so truncated boxes come naturally; `stats.py` measures what came out.
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


def sample_count(rng: np.random.Generator) -> int:
    return int(rng.choice(len(N_OBJECTS_P), p=np.array(N_OBJECTS_P)))


def sample_size(rng: np.random.Generator, patch: int, big_fraction: float = BIG_FRACTION) -> float:
    """Visible diameter in px of one object on a `patch`-px image."""
    if rng.random() < big_fraction:
        return patch * rng.uniform(0.9, 2.2)
    return math.exp(rng.uniform(math.log(0.015 * patch), math.log(0.7 * patch)))


def sample_centre(rng: np.random.Generator, size: float, shape: tuple[int, int]) -> tuple[float, float]:
    """A centre such that at least MIN_INSIDE of the object's extent lies inside the image on each axis. Small
    objects land anywhere; those cut by the border are as frequent as in patches cut from larger frames."""
    h, w = shape
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
                 count: int | None = None) -> list[ObjectPlan]:
    """Objects for one synthetic patch."""
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
            cy, cx = sample_centre(rng, size, shape)
        plans.append(ObjectPlan(cls, kind, cy, cx, size, sample_amp(rng, n_subs, size, kind)))
    return plans


__all__ = ["plan_objects", "sample_size", "sample_centre", "sample_amp", "GALAXY", "NEBULA", "CLUSTER"]
