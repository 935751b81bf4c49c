# SPDX-License-Identifier: GPL-3.0-or-later
"""Statistics of a generated set, next to the real-patch targets they are meant to match.

Printed at the end of every run and written to DIR/stats.json, so a training run can be traced to the data it saw.
Boxes are in pixels of their own image; "touches the border" means an edge within 1 px of the image edge
(a box truncated by the crop); the size of a box is sqrt(w h) and its long side max(w, h).
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np

from .catalog import CLASSES

# Real smart-telescope patches (issue text; ML-NOTES "A first measurement of the domain gap").
TARGETS = {"border_touch_fraction": 0.62, "box_px_min": 7, "box_px_median": 190, "objects_per_patch": 1.0,
           "empty_fraction": [0.15, 0.20], "boxes_over_70pct_fraction": 0.33, "full_frame_f1": 0.25}


def full_frame_f1(records: list[dict]) -> float:
    """F1 at IoU 0.5 of the trivial baseline, one full-image box per image: it finds exactly the images holding a
    box that covers at least half of the image (its IoU with the full box is its area fraction)."""
    labels = sum(len(r["boxes"]) for r in records)
    hits = sum(any((b[3] - b[1]) * (b[4] - b[2]) >= 0.5 * r["w"] * r["h"] for b in r["boxes"]) for r in records)
    if not records or not labels or not hits:
        return 0.0
    p, r = hits / len(records), hits / labels
    return 2 * p * r / (p + r)


def touches_border(box, w: int, h: int, tol: float = 1.0) -> bool:
    x0, y0, x1, y1 = box
    return x0 <= tol or y0 <= tol or x1 >= w - tol or y1 >= h - tol


def summarise(records: list[dict]) -> dict:
    """records: one per image with keys w, h, kind, split, bayer, hard_negatives, boxes [(cls, x0, y0, x1, y1)]."""
    n_img = len(records)
    boxes = [(r["w"], r["h"], b) for r in records for b in r["boxes"]]
    counts = np.array([len(r["boxes"]) for r in records]) if records else np.zeros(0)
    side = np.array([max(b[3] - b[1], b[4] - b[2]) for _, _, b in boxes]) if boxes else np.zeros(0)
    geo = np.array([np.sqrt((b[3] - b[1]) * (b[4] - b[2])) for _, _, b in boxes]) if boxes else np.zeros(0)
    frac_side = np.array([max((b[3] - b[1]) / w, (b[4] - b[2]) / h) for w, h, b in boxes]) if boxes else np.zeros(0)
    q = [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]

    def quant(a):
        return {f"p{int(p * 100)}": round(float(np.quantile(a, p)), 1) for p in q} if a.size else {}

    out = {
        "images": n_img,
        "by_kind": dict(Counter(r["kind"] for r in records)),
        "by_split": dict(Counter(r["split"] for r in records)),
        "bayer_images": int(sum(1 for r in records if r.get("bayer"))),
        "linked_stretch_images": int(sum(1 for r in records if r.get("linked"))),
        "boxes": len(boxes),
        "class_counts": {CLASSES[c]: int(n) for c, n in sorted(Counter(b[0] for _, _, b in boxes).items())},
        "objects_per_patch": round(float(counts.mean()), 3) if n_img else 0.0,
        "objects_per_patch_histogram": {str(k): int(v) for k, v in sorted(Counter(counts.tolist()).items())},
        "empty_fraction": round(float(np.mean(counts == 0)), 3) if n_img else 0.0,
        "border_touch_fraction": round(float(np.mean([touches_border(b[1:], w, h) for w, h, b in boxes])), 3)
        if boxes else 0.0,
        "box_size_px_sqrt_wh": quant(geo),
        "box_long_side_px": quant(side),
        "boxes_over_70pct_fraction": round(float(np.mean(frac_side > 0.7)), 3) if boxes else 0.0,
        "full_frame_f1": round(full_frame_f1(records), 3),
        "hard_negative_bright_stars": int(sum(r.get("hard_negatives", 0) for r in records)),
        "targets_real": TARGETS,
    }
    return out


def format_stats(s: dict) -> str:
    """Human-readable summary, one fact per line."""
    lines = [f"images: {s['images']} {s['by_kind']} split {s['by_split']}, Bayer-mosaiced {s['bayer_images']}, "
             f"linked stretch {s['linked_stretch_images']}",
             f"boxes: {s['boxes']}  classes {s['class_counts']}",
             f"objects per patch: {s['objects_per_patch']} (real ~1.0)  histogram {s['objects_per_patch_histogram']}",
             f"empty patches: {s['empty_fraction']:.1%} (real 15-20 %)",
             f"boxes touching the border: {s['border_touch_fraction']:.1%} (real 62 %)",
             f"box size sqrt(wh) px: {s['box_size_px_sqrt_wh']}",
             f"box long side px: {s['box_long_side_px']} (real 7 px to full patch, median ~190 of 640)",
             f"boxes whose long side > 70 % of the patch: {s['boxes_over_70pct_fraction']:.1%} (real ~1/3)",
             f"one full-frame box per image scores F1 {s['full_frame_f1']:.2f} (real 0.25)",
             f"unlabelled saturated bright stars (hard negatives): {s['hard_negative_bright_stars']}"]
    return "\n".join(lines)


def write_stats(path: str, s: dict) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(s, f, indent=1, sort_keys=True)
        f.write("\n")
