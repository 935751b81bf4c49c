# SPDX-License-Identifier: GPL-3.0-or-later
"""DSO Detector training-data generator (GPL-3.0-or-later).

Writes YOLO datasets with the classes galaxy (0), nebula (1) and cluster (2): synthetic star fields with rendered
deep-sky objects, and real deep-sky photographs (Debian's stellarium-data, boxes from OpenNGC) composited into
synthetic skies, both drawn from sky statistics measured on real frames (measure_real.py, real_sky_stats.json).
Run `python3 -m dso_training.datagen --help`; docs/DATAGEN.md explains what is generated and why.

Modules, in the order a frame is made: priors (scene parameters) -> layout (objects per patch, sizes, positions)
-> galaxies / nebulae / clusters (objects) -> psf (stars) -> noise (fractal textures) -> scene (assembly, label
boxes) -> camera (sky, optics, sensor) -> bayer, stretch (common.stretch), fits, output (files) -> stats;
stellarium, catalog and composite bring in the real photographs; dataset and frames drive whole runs; cli is the
command line.
"""

from .catalog import CLASSES

__all__ = ["CLASSES"]
