# SPDX-License-Identifier: GPL-3.0-or-later
"""The DSO / no-DSO classifier behind the XRAI detector: a ResNet18 at half width.

Why not the paper's ResNet50: XRAI needs two gradients per Integrated-Gradients step and baseline (64 at our default
of 32 steps), on CPUs as small as a Raspberry Pi. ResNet18 has the same residual structure as ResNet50 with 2 basic
blocks per stage instead of 3-6 bottlenecks; at half width (32-64-128-256 channels, 2.8 M parameters, 11 MB) its
gradient graph is about 4x cheaper than a full ResNet18 and 9x cheaper than ResNet50 (ML-NOTES: 54 / 119 ms per
gradient at full width on this CPU). A binary question on 224 px star fields does not need ImageNet capacity.

The input is the stretched RGB patch in [0, 1], NCHW, 224x224, with no normalisation outside the network (BatchNorm
after the stem does it), so the XRAI baselines (constant images at the patch's min and max) are plain pixel values.
Output: two logits, index 1 = "a deep-sky object is in the patch".
"""
from __future__ import annotations

import torch
from torch import nn

WIDTHS = (32, 64, 128, 256)
INPUT = 224


class Block(nn.Module):
    """torchvision's BasicBlock: two 3x3 convolutions and an identity (or 1x1 strided) shortcut."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + (x if self.down is None else self.down(x)))


class DsoNet(nn.Module):
    """ResNet18 topology (stem 7x7/2 + max-pool, 4 stages of 2 blocks, global average pool, linear) at given widths."""

    def __init__(self, widths=WIDTHS, classes: int = 2):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 7, 2, 3, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, 1))
        layers, cin = [], widths[0]
        for i, w in enumerate(widths):
            layers += [Block(cin, w, 1 if i == 0 else 2), Block(w, w, 1)]
            cin = w
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return self.fc(self.layers(self.stem(x)).mean((2, 3)))


def load(path: str) -> DsoNet:
    """The trained network in eval mode, from a checkpoint written by train.py (fp32 or fp16 state dict)."""
    ck = torch.load(path, map_location="cpu", weights_only=True)
    net = DsoNet(tuple(ck.get("widths", WIDTHS)))
    net.load_state_dict({k: v.float() for k, v in ck["state_dict"].items()})
    return net.eval()
