#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""How well `dso-detect` names the main object of labelled frames (issue 13's "≥ 9 of 10 frames").

Why: naming is measured on frames whose main catalogued object is known — `names_set.py` makes them from Stellarium's
real photographs (`names.tsv`: file, main object, rule) — and the figures should be rerunnable by anyone. Reads the
`--json-dir` output of `dso-detect detect` (one folder per detector) and prints, per folder: frames placed on the
sky, frames whose main object any detection names (and whether the detector's own box or the catalogue evidence
did), frames whose first detection (highest confidence) is the main object, the target state `captured`, frames
with no name at all, and names whose catalogue centre lies outside the frame (by the frame's own WCS). `--failures`
lists every frame whose main object is not named, or not first, with a one-line reason.

    python3 -m dso_training.tools.names_eval /tmp/names-set OUT/naive OUT/yolo [--failures]
"""

import argparse
import json
import os

import numpy as np

from ..datagen.fits import read_fits
from .names_set import sky_to_box


def frame_geometry(path):
    """(crval, crpix, cd, width, height) from a frame's TAN WCS."""
    h, _ = read_fits(path)
    cd = np.array([[h["CD1_1"], h["CD1_2"]], [h["CD2_1"], h["CD2_2"]]], dtype=np.float64)
    return (h["CRVAL1"], h["CRVAL2"]), (h["CRPIX1"], h["CRPIX2"]), cd, h["NAXIS1"], h["NAXIS2"]


def judge(main, doc, geometry):
    """Per-frame verdicts and a reason line for `main` (the labelled object) in one result JSON."""
    dets = doc.get("detections", [])
    named = [d for d in dets if d.get("name")]
    hits = [d for d in named if d["name"] == main]
    first = max(dets, key=lambda d: d["confidence"], default=None)
    crval, crpix, cd, w, h = geometry
    rows = [{"ra": d["ra"], "dec": d["dec"]} for d in named]
    outside = 0
    if rows:
        x, y = sky_to_box(crval, crpix, cd, rows)
        outside = int(np.sum(~((x >= 0) & (x < w) & (y >= 0) & (y < h))))
    v = {"placed": "field" in doc, "named": bool(hits), "first": bool(first and first.get("name") == main),
         "by_detector": any(d.get("source", "detector") == "detector" for d in hits),
         "captured": doc.get("target", {}).get("state") == "captured", "no_names": not named,
         "outside": outside, "names": len(named)}
    others = ", ".join(f"{d['name']} {d['confidence']:.2f}" for d in named[:3]) or "no names"
    if not v["placed"]:
        v["why"] = f"not placed: {doc.get('field_note', '?')}"
    elif not hits:
        expected = [e["name"] for e in doc.get("expected", [])]
        seen = "listed as expected, not seen" if main in expected else "neither named nor expected"
        v["why"] = f"{seen}; detections: {len(dets)}, named: {others}"
    elif not v["first"]:
        fn = first.get("name") or f"unnamed {first.get('label')}"
        v["why"] = (f"first is {fn} {first['confidence']:.2f} ({first.get('source', 'detector')}); "
                    f"main {hits[0]['confidence']:.2f} ({hits[0].get('source', 'detector')})")
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", help="frames and names.tsv (names_set.py)")
    ap.add_argument("json_dirs", nargs="+", help="dso-detect --json-dir output, one per detector")
    ap.add_argument("--failures", action="store_true", help="list the frames whose main object is missed or not first")
    args = ap.parse_args()
    with open(os.path.join(args.folder, "names.tsv"), encoding="utf-8") as f:
        labels = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    geometry = {name: frame_geometry(os.path.join(args.folder, name)) for name, _, _ in labels}
    results = {}
    for jd in args.json_dirs:
        verdicts = {}
        for name, main_obj, rule in labels:
            path = os.path.join(jd, os.path.splitext(name)[0] + ".json")
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as f:
                    verdicts[name] = (main_obj, rule, judge(main_obj, json.load(f), geometry[name]))
        results[jd] = verdicts

    def count(vs, key, rule=None):
        return sum(1 for _, r, v in vs.values() if v[key] and (rule is None or r == rule))

    rows = [("frames with results", lambda vs: f"{len(vs)}"),
            ("placed on the sky", lambda vs: f"{count(vs, 'placed')}"),
            ("main object named", lambda vs: f"{count(vs, 'named')} ({count(vs, 'named') / max(len(vs), 1):.1%})"),
            ("  – by a detector's box", lambda vs: f"{count(vs, 'by_detector')}"),
            ("  – file-named frames", lambda vs: f"{count(vs, 'named', 'file')} / "
                                                  f"{sum(1 for _, r, _ in vs.values() if r == 'file')}"),
            ("  – prominence frames", lambda vs: f"{count(vs, 'named', 'prominence')} / "
                                                  f"{sum(1 for _, r, _ in vs.values() if r == 'prominence')}"),
            ("first detection is the main object",
             lambda vs: f"{count(vs, 'first')} ({count(vs, 'first') / max(len(vs), 1):.1%})"),
            ("target state captured", lambda vs: f"{count(vs, 'captured')}"),
            ("frames with no name", lambda vs: f"{count(vs, 'no_names')}"),
            ("names (all frames)", lambda vs: f"{sum(v['names'] for _, _, v in vs.values())}"),
            ("  – centre outside the frame", lambda vs: f"{sum(v['outside'] for _, _, v in vs.values())}")]
    heads = [os.path.basename(os.path.normpath(jd)) for jd in args.json_dirs]
    print(f"| {'':36} | " + " | ".join(f"{h:>14}" for h in heads) + " |")
    print(f"|{'-' * 38}|" + "|".join("-" * 16 for _ in heads) + "|")
    for label, fmt in rows:
        print(f"| {label:36} | " + " | ".join(f"{fmt(results[jd]):>14}" for jd in args.json_dirs) + " |")
    if args.failures:
        for jd, head in zip(args.json_dirs, heads):
            print(f"\n{head}: main object missed or not first")
            for name, (main_obj, rule, v) in sorted(results[jd].items()):
                if "why" in v:
                    print(f"  {'MISSED' if not v['named'] else 'second'} {name} [{main_obj}, {rule}]: {v['why']}")


if __name__ == "__main__":
    main()
