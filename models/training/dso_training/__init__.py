# SPDX-License-Identifier: GPL-3.0-or-later
"""DSO Detector's training code, one package run one way: `python3 -m dso_training.<part>.<script>` with
models/training on PYTHONPATH (or after `pip install -e models/training`); models/training/README.md lists them.

Parts: `datagen` (the training-data generator), `classifier`, `pix2pix` and `yolo` (train and export the shipped
models into models/weights), `gpu` (one pass of all trainings on a lent GPU), `catalog` (builds the embedded
OpenNGC catalogue), `tools` (benchmark baselines and measurements behind the docs) and `common` (the stretch, the
MAD constant, the folders and the training/export helpers, written once). Nothing here ships in the driver.
"""
