# SPDX-License-Identifier: GPL-3.0-or-later
"""The repository's folders as the training code sees them, so that no script counts `..` on its own.

The package is used from the source tree (`PYTHONPATH=models/training` or `pip install -e models/training`), so
these are found from this file: the repository root, the shipped weights (`models/weights`, where the exporters
write by default and the driver looks in a source build) and the embedded OpenNGC catalogue (`models/data`).
"""

from __future__ import annotations

from pathlib import Path

# common -> dso_training -> training -> models -> repository root
REPO = Path(__file__).resolve().parents[4]
WEIGHTS = REPO / "models" / "weights"
CATALOG_TSV = REPO / "models" / "data" / "openngc.tsv"
