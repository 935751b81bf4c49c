# SPDX-License-Identifier: GPL-3.0-or-later
"""Command line of the generator: `python3 -m dso_training.datagen --out DIR [options]` (with models/training on
PYTHONPATH or installed, models/training/README.md).

With no count option it makes a small set for tests (8 synthetic + 8 composite patches, a few seconds); give
--synthetic/--composite for training sets (a count not given is then 0) and --frames for full-size demo frames.
"""

from __future__ import annotations

import argparse
import sys
import time

from . import bayer as bayer_mod
from .dataset import Options, generate
from .frames import make_frames
from .stats import format_stats
from .stellarium import STELLARIUM_DIR, available

DEFAULT_SMALL = 8


def _target(text: str) -> tuple[float, float]:
    parts = [float(v) for v in text.replace(",", ":").split(":")]
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or not all(0 < v < 1 for v in parts) or parts[0] > parts[1]:
        raise argparse.ArgumentTypeError("expected T or LO:HI with 0 < LO <= HI < 1")
    return parts[0], parts[1]


def _frame_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError as e:
        raise argparse.ArgumentTypeError("expected WIDTHxHEIGHT, e.g. 1280x1024") from e
    if not (64 <= w <= 8192 and 64 <= h <= 8192):
        raise argparse.ArgumentTypeError("frame sides must be 64-8192 px")
    return w, h


def _bayer(text: str) -> str | None:
    if text.lower() in ("none", "mono", "no"):
        return None
    if text.upper() not in bayer_mod.PATTERNS:
        raise argparse.ArgumentTypeError(f"expected none or one of {', '.join(bayer_mod.PATTERNS)}")
    return text.upper()


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python3 -m dso_training.datagen",
        description="Generate YOLO training data (classes galaxy, nebula, cluster) for DSO Detector: synthetic "
                    "star fields with rendered deep-sky objects, and real Stellarium photographs composited into "
                    "synthetic skies, with real-sky statistics. See docs/DATAGEN.md.")
    ap.add_argument("--out", required=True, help="output folder (created)")
    ap.add_argument("--seed", type=int, default=0, help="random seed; same seed, same bytes (default 0)")
    ap.add_argument("--synthetic", type=int, default=None, metavar="N", help="synthetic patches")
    ap.add_argument("--composite", type=int, default=None, metavar="N",
                    help="composite patches (needs apt-get install stellarium-data)")
    ap.add_argument("--size", type=int, default=640, help="patch side in px (default 640)")
    ap.add_argument("--fits", action="store_true", help="also write linear 16-bit FITS to OUT/fits/")
    ap.add_argument("--bayer-fraction", type=float, default=0.5, metavar="F",
                    help="fraction of patches mosaiced with a random Bayer pattern (FITS keep the mosaic, JPEGs "
                         "are demosaiced) (default 0.5)")
    ap.add_argument("--val-fraction", type=float, default=0.1, metavar="F", help="share of images in val (0.1)")
    ap.add_argument("--stretch-target", type=_target, default=(0.25, 0.25), metavar="T|LO:HI",
                    help="AutoSTF background level of the JPEGs, or a range drawn per image (default 0.25)")
    ap.add_argument("--stretch-mode", choices=("unlinked", "linked", "mixed"), default="unlinked",
                    help="JPEG stretch: per channel as KStars on raw data (unlinked, default), colour-calibrated "
                         "and linked as smart telescopes show it (linked), or half each (mixed)")
    ap.add_argument("--quality", type=int, default=92, help="JPEG quality (default 92)")
    ap.add_argument("--workers", type=int, default=1, help="processes (output does not depend on it)")
    ap.add_argument("--frames", type=int, default=0, metavar="N",
                    help="also write N full-size demo frames OUT/frame_NNNN.fits for indi_simulator_ccd")
    ap.add_argument("--frame-size", type=_frame_size, default=(1280, 1024), metavar="WxH",
                    help="demo frame size (default 1280x1024)")
    ap.add_argument("--frame-bayer", type=_bayer, default="RGGB", metavar="PATTERN|none",
                    help="demo frames: Bayer pattern, or none for 3-plane RGB cubes (default RGGB)")
    ap.add_argument("--centred-fraction", type=float, default=0.0, metavar="F",
                    help="share of the objects larger than the patch centred near its middle, as real patches cut "
                         "around a target are; 0.5 makes a one-box-per-image baseline score as on real patches "
                         "(docs/DATAGEN.md) (default 0: the placement of earlier data sets)")
    ap.add_argument("--stellarium-dir", default=STELLARIUM_DIR, help="Stellarium nebula textures")
    return ap


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    counts_given = args.synthetic is not None or args.composite is not None
    if counts_given:
        n_syn, n_cmp = args.synthetic or 0, args.composite or 0
    elif args.frames:
        n_syn = n_cmp = 0
    else:
        n_syn = n_cmp = DEFAULT_SMALL
    if n_cmp and not available(args.stellarium_dir):
        msg = (f"stellarium-data is not installed ({args.stellarium_dir}/textures.json missing); "
               "install it with: apt-get install -y stellarium-data")
        if args.composite:
            print(f"error: {msg}", file=sys.stderr)
            return 2
        print(f"warning: {msg}; making synthetic patches only", file=sys.stderr)
        n_cmp = 0
    if not 0 <= args.bayer_fraction <= 1 or not 0 <= args.val_fraction < 1 or not 0 <= args.centred_fraction <= 1:
        print("error: fractions must lie in [0, 1]", file=sys.stderr)
        return 2
    if args.size < 64:
        print("error: --size must be at least 64", file=sys.stderr)
        return 2
    if n_syn or n_cmp:
        opts = Options(out=args.out, seed=args.seed, synthetic=n_syn, composite=n_cmp, size=args.size,
                       fits=args.fits, bayer_fraction=args.bayer_fraction, val_fraction=args.val_fraction,
                       stretch_target=args.stretch_target, stretch_mode=args.stretch_mode, quality=args.quality,
                       workers=max(1, args.workers), centred_fraction=args.centred_fraction,
                       stellarium_dir=args.stellarium_dir)
        print(f"generating {n_syn} synthetic + {n_cmp} composite patches of {args.size} px into {args.out} "
              f"(seed {args.seed})", file=sys.stderr)
        stats = generate(opts)
        print(format_stats(stats))
        print(f"time: {stats['seconds']} s ({stats['seconds_per_image']} s per image); "
              f"statistics in {args.out}/stats.json")
    if args.frames:
        t0 = time.perf_counter()
        w, h = args.frame_size
        paths = make_frames(args.out, args.frames, w, h, args.seed, args.frame_bayer, args.quality)
        print(f"{len(paths)} demo frames {w}x{h} in {args.out} ({time.perf_counter() - t0:.1f} s); previews and "
              f"true boxes in {args.out}/frames_preview/")
    return 0
