# SPDX-License-Identifier: GPL-3.0-or-later
"""Pix2Pix networks (Isola et al. 2017) sized for heat maps of 224 px patches on small CPUs.

Generator: a U-Net with 5 down-sampling steps (224 -> 7 px), 4x4 stride-2 convolutions, BatchNorm, LeakyReLU 0.2 on
the way down and ReLU on the way up, skip connections by concatenation, dropout 0.5 in the two innermost up-steps (the
paper's noise source), and a sigmoid output: one channel, the XRAI heat map scaled to [0, 1]. Channel widths
ngf x (1, 2, 4, 8, 8) with ngf 32 instead of the paper's 64 and 8 levels: an XRAI map is piecewise-constant over
image segments, far less detailed than a photograph, and the generator must run on a Raspberry Pi. Any side that is a
multiple of 32 works (the detector uses 224 px tiles).

Discriminator: the 70x70 PatchGAN (C64-C128-C256-C512, 4x4 kernels, last two stride 1) on the image and the map
concatenated, at ndf 32.
"""
from __future__ import annotations

import torch
from torch import nn

NGF = 32
NDF = 32
MULTS = (1, 2, 4, 8, 8)


class UNet(nn.Module):
    """Image (N, 3, H, W) in [0, 1] -> map (N, 1, H, W) in [0, 1]."""

    def __init__(self, ngf: int = NGF, mults=MULTS):
        super().__init__()
        ch = [ngf * m for m in mults]
        self.downs = nn.ModuleList()
        cin = 3
        for i, c in enumerate(ch):
            layers = [nn.Conv2d(cin, c, 4, 2, 1, bias=i == 0)]
            if i > 0:
                layers.append(nn.BatchNorm2d(c))
            layers.append(nn.LeakyReLU(0.2))
            self.downs.append(nn.Sequential(*layers))
            cin = c
        self.ups = nn.ModuleList()
        for i in reversed(range(1, len(ch))):
            cin_up = ch[i] if i == len(ch) - 1 else ch[i] * 2
            layers = [nn.ConvTranspose2d(cin_up, ch[i - 1], 4, 2, 1, bias=False), nn.BatchNorm2d(ch[i - 1]), nn.ReLU()]
            if i >= len(ch) - 2:
                layers.append(nn.Dropout(0.5))
            self.ups.append(nn.Sequential(*layers))
        self.last = nn.ConvTranspose2d(ch[0] * 2, 1, 4, 2, 1)

    def forward(self, x):
        h = x * 2 - 1
        skips = []
        for d in self.downs:
            h = d(h)
            skips.append(h)
        skips.pop()
        for u in self.ups:
            h = torch.cat([u(h), skips.pop()], 1)
        return torch.sigmoid(self.last(h))


class PatchGan(nn.Module):
    """(image, map) -> a grid of real/fake logits, each seeing a 70x70 receptive field."""

    def __init__(self, ndf: int = NDF):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(4, ndf, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 1, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2),
            nn.Conv2d(ndf * 8, 1, 4, 1, 1))

    def forward(self, image, heat):
        return self.net(torch.cat([image * 2 - 1, heat * 2 - 1], 1))


def load_generator(path: str) -> UNet:
    """The trained generator in eval mode from a train.py checkpoint (fp32 or fp16 state dict)."""
    ck = torch.load(path, map_location="cpu", weights_only=True)
    g = UNet(ck.get("ngf", NGF))
    g.load_state_dict({k: v.float() for k, v in ck["generator"].items()})
    return g.eval()
