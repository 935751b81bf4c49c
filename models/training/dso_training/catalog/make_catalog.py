#!/usr/bin/env python3
"""Builds `openngc.tsv`, the deep-sky catalogue the driver and `dso-detect` embed, from OpenNGC.

Why a script: OpenNGC (Mattia Verga, CC-BY-SA-4.0) is published as an SQLite database inside the PyPI wheel
`pyongc`; the Rust code should not need SQLite to name an object, so this keeps what identification uses, one
object a line, sorted by name, in a text file small enough to embed (about 1 MB) and to review in a diff.

Kept: every object with a position except duplicates (`Dup`, which point at another entry), non-existent entries
(`NonEx`) and plain stars (`*`, `**`) that are not Messier objects. Columns (tab-separated, empty when unknown):
name (OpenNGC's: NGC4736, IC0434, B033), type (OpenNGC's codes), ra_deg, dec_deg (J2000), maj_arcmin, min_arcmin,
pa_deg, mag (V, else B), messier (number), common (common names, comma-separated).

Run (the wheel is downloaded once by pip; nothing is fetched at run time of the driver):
    python3 -m pip download --no-deps -d /tmp/pyongc pyongc==1.2.2
    python3 -m dso_training.catalog.make_catalog /tmp/pyongc/pyongc-1.2.2-py3-none-any.whl models/data/openngc.tsv
"""

import math
import sqlite3
import sys
import tempfile
import zipfile
from pathlib import Path

DROPPED_TYPES = {"Dup", "NonEx"}
STAR_TYPES = {"*", "**"}
COLUMNS = ["name", "type", "ra_deg", "dec_deg", "maj_arcmin", "min_arcmin", "pa_deg", "mag", "messier", "common"]


def fmt(value, digits):
    """A number with at most `digits` decimals and no trailing zeros; empty for NULL."""
    if value is None or value == "":
        return ""
    text = f"{float(value):.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def rows(db_path):
    con = sqlite3.connect(db_path)
    query = (
        "SELECT name, type, ra, dec, majax, minax, pa, vmag, bmag, messier, commonnames FROM objects "
        "WHERE ra IS NOT NULL AND dec IS NOT NULL ORDER BY name"
    )
    for name, typ, ra, dec, maj, mnr, pa, vmag, bmag, messier, common in con.execute(query):
        if typ in DROPPED_TYPES or (typ in STAR_TYPES and not messier):
            continue
        mag = vmag if vmag is not None else bmag
        common = (common or "").replace("\t", " ").strip()
        yield [
            name,
            typ,
            fmt(math.degrees(ra), 6),
            fmt(math.degrees(dec), 6),
            fmt(maj, 2),
            fmt(mnr, 2),
            fmt(pa, 0),
            fmt(mag, 2),
            str(int(messier)) if messier else "",
            common,
        ]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    wheel, out = Path(sys.argv[1]), Path(sys.argv[2])
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(wheel) as z:
            db = Path(tmp) / "ongc.db"
            db.write_bytes(z.read("pyongc/ongc.db"))
            version = wheel.name.split("-")[1]
        lines = ["\t".join(r) for r in rows(db)]
    header = f"# OpenNGC via pyongc {version} (CC-BY-SA-4.0, Mattia Verga); made by dso_training.catalog.make_catalog\n"
    out.write_text(header + "\t".join(COLUMNS) + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"{out}: {len(lines)} objects")


if __name__ == "__main__":
    main()
