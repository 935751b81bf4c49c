# SPDX-License-Identifier: GPL-3.0-or-later
"""What every part of the training code shares, written once: the AutoSTF stretch and the MAD constant
(`stretch`, the same as the driver's `models/src/stretch`), the repository's folders (`paths`), the training loop's
command line, schedule and augmentation (`training`, needs torch) and the ONNX export checks (`export`, needs torch).
"""
