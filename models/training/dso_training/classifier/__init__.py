# SPDX-License-Identifier: GPL-3.0-or-later
"""The XRAI detector's classifier: patches from generated data, a ResNet18 at half width, its forward and
input-gradient ONNX graphs."""
