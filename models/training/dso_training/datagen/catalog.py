# SPDX-License-Identifier: GPL-3.0-or-later
"""OpenNGC deep-sky objects from the `ongc.db` SQLite file inside the PyPI wheel `pyongc` (CC-BY-SA-4.0).

The composites need, for every real photograph, which catalogued objects it shows and how big they are. OpenNGC
gives positions, major/minor axes (arcmin), position angle and type for 14,000 NGC/IC/Messier objects. The wheel's
database stores RA/Dec in radians. Types map onto the dataset's three classes; stars, doubles, duplicates,
non-existent objects and novae are dropped.
"""

from __future__ import annotations

import math
import os
import sqlite3
from dataclasses import dataclass

CLASSES = ("galaxy", "nebula", "cluster")

# OpenNGC type codes (pyongc objTypes table) -> class index.
TYPE_CLASS = {
    "G": 0, "GPair": 0, "GTrpl": 0, "GGroup": 0,
    "PN": 1, "HII": 1, "EmN": 1, "Neb": 1, "RfN": 1, "SNR": 1, "Cl+N": 1, "DrkN": 1,
    "OCl": 2, "GCl": 2, "*Ass": 2,
}


@dataclass(frozen=True)
class DsoObject:
    """One catalogued object: J2000 position in degrees, axes in arcmin (minor = major when unknown), PA in
    degrees east of north (0 when unknown), OpenNGC type and the dataset class index."""
    name: str
    otype: str
    cls: int
    ra: float
    dec: float
    major: float | None
    minor: float | None
    pa: float
    messier: str
    vmag: float | None


def ongc_db_path() -> str:
    """Path of `ongc.db` in the installed pyongc wheel; a clear error when pyongc is missing."""
    try:
        import pyongc  # noqa: F401 -- only for its location; the package itself is not used
    except ImportError as e:
        raise RuntimeError("pyongc is not installed: pip install -r models/training/requirements-datagen.txt") from e
    path = os.path.join(os.path.dirname(pyongc.__file__), "ongc.db")
    if not os.path.isfile(path):
        raise RuntimeError(f"pyongc is installed but has no ongc.db at {path}")
    return path


def load_objects(path: str | None = None) -> list[DsoObject]:
    """Every OpenNGC object of a mapped type, sorted by name (deterministic order)."""
    db = sqlite3.connect(f"file:{path or ongc_db_path()}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT name, type, ra, dec, majax, minax, pa, messier, vmag, bmag FROM objects "
                          "ORDER BY name").fetchall()
    finally:
        db.close()
    out = []
    for name, otype, ra, dec, majax, minax, pa, messier, vmag, bmag in rows:
        if otype not in TYPE_CLASS or ra is None or dec is None:
            continue
        major = float(majax) if majax else None
        minor = float(minax) if minax else major
        out.append(DsoObject(name=name, otype=otype, cls=TYPE_CLASS[otype], ra=math.degrees(ra) % 360.0,
                             dec=math.degrees(dec), major=major, minor=minor, pa=float(pa or 0.0),
                             messier=(messier or "").lstrip("0"),
                             vmag=vmag if vmag is not None else bmag))
    return out
