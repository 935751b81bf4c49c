# SPDX-License-Identifier: GPL-3.0-or-later
"""The Pix2Pix detector's generator: XRAI teacher maps, adversarial training, export, fidelity against XRAI."""
