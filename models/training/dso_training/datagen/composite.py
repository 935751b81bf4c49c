# SPDX-License-Identifier: GPL-3.0-or-later
"""Composites: real deep-sky photographs (stellarium-data) with OpenNGC boxes, cut, scaled, rotated, dimmed back
to linear and laid into a synthetic sky with the same stars, gradients, sensor and noise as the synthetic frames.

Why: a detector trained only on rendered objects learns the renderer. Real photographs bring real galaxy, nebula
and cluster appearance; the synthetic sky around them brings the real-frame statistics (priors.py). Which
catalogued objects are actually visible in a photograph is checked on the photograph itself (the mean inside the
box must rise above the local background by 2 noise sigmas and 2 % of full scale), so 16th-magnitude galaxies that
happen to fall in a Messier photograph are not labelled.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
from scipy.ndimage import affine_transform, gaussian_filter

from ..common.stretch import robust_sigma
from .layout import sample_centre, sample_size
from .scene import Label
from .stellarium import STELLARIUM_DIR, Box, Tile, available, load_rgb, load_tiles

# Photographs are enlarged at most this much: their stars grow with them, and real smart-telescope stars are small.
MAX_UPSCALE = 1.6
# Catalogue boxes of large photographed objects often come out smaller than asked (MAX_UPSCALE, clipping at the
# photograph's edge), so composites ask for large objects more often than layout.BIG_FRACTION.
BIG_FRACTION_COMPOSITE = 0.6


def _robust(x: np.ndarray) -> tuple[float, float]:
    return float(np.median(x)), robust_sigma(x) + 1e-4


def box_visible(lum: np.ndarray, box: Box, bg: float, noise: float) -> bool:
    """Does the photograph show something inside the box's inner half, above the ring around the box?"""
    h, w = lum.shape
    x0, y0, x1, y1 = box.x0, box.y0, box.x1, box.y1
    bw, bh = x1 - x0, y1 - y0
    if bw < 3 or bh < 3:
        return False
    ix0, ix1 = int(max(0, x0 + bw / 4)), int(min(w, x1 - bw / 4 + 1))
    iy0, iy1 = int(max(0, y0 + bh / 4)), int(min(h, y1 - bh / 4 + 1))
    if ix1 <= ix0 or iy1 <= iy0:
        return False
    inner = float(lum[iy0:iy1, ix0:ix1].mean())
    ox0, ox1 = int(max(0, x0 - bw / 2)), int(min(w, x1 + bw / 2 + 1))
    oy0, oy1 = int(max(0, y0 - bh / 2)), int(min(h, y1 + bh / 2 + 1))
    ring = lum[oy0:oy1, ox0:ox1].copy()
    ring[max(0, int(y0)) - oy0:max(0, int(y1) + 1) - oy0, max(0, int(x0)) - ox0:max(0, int(x1) + 1) - ox0] = np.nan
    ring = ring[np.isfinite(ring)]
    local = float(np.median(ring)) if ring.size > 20 else bg
    return inner - local > max(2.0 * noise, 0.02)


class PhotoLibrary:
    """The photographs, their visible boxes, and a small cache of decoded images."""

    def __init__(self, directory: str = STELLARIUM_DIR, cache: int = 24):
        if not available(directory):
            raise RuntimeError(f"stellarium-data is not installed ({directory}/textures.json missing): "
                               "apt-get install -y stellarium-data")
        self.tiles: list[Tile] = [t for t in load_tiles(directory) if t.boxes]
        # longest catalogue extent per photograph (px) and a selection weight 1/(number of catalogued objects):
        # galaxy-cluster fields with dozens of objects would otherwise dominate the box counts
        self.max_extent = np.array([max(max(b.x1 - b.x0, b.y1 - b.y0) for b in t.boxes) for t in self.tiles])
        self.weight = np.array([1.0 / len(t.boxes) for t in self.tiles])
        self._cache: OrderedDict[str, tuple[np.ndarray, list[Box]]] = OrderedDict()
        self._size = cache

    def get(self, tile: Tile) -> tuple[np.ndarray, list[Box]]:
        """(image (H, W, 3) float32, visible boxes) of a tile."""
        if tile.image in self._cache:
            self._cache.move_to_end(tile.image)
            return self._cache[tile.image]
        img = load_rgb(tile.image)
        lum = img.mean(axis=2)
        bg, noise = _robust(lum)
        vis = [b for b in tile.boxes if box_visible(lum, b, bg, noise)]
        self._cache[tile.image] = (img, vis)
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return img, vis


def _linearise(rng, img: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Undo a display stretch approximately: subtract each channel's background plus 1.5 of its noise sigmas (the
    photograph's own grain and JPEG speckle must not be amplified with the object), raise to gamma 1.6-2.6."""
    out = np.empty_like(img)
    gamma = rng.uniform(1.6, 2.6)
    valid = alpha > 0.5
    for c in range(img.shape[0]):
        ch = img[c]
        bg, noise = _robust(ch[valid][::7]) if valid.any() else (0.0, 0.0)
        floor = bg + 1.5 * noise
        out[c] = np.clip((ch - floor) / max(1.0 - floor, 1e-3), 0.0, 1.0) ** gamma
    return out


def _coverage(m: np.ndarray, off_xy: np.ndarray, shape: tuple[int, int], pw: int, ph: int) -> float:
    """Fraction of the image that the photograph covers, on a 16 x 16 grid of image points."""
    h, w = shape
    gx, gy = np.meshgrid(np.linspace(0, w, 16), np.linspace(0, h, 16))
    pts = np.column_stack([gx.ravel(), gy.ravel()]) @ m.T + off_xy
    inside = (pts[:, 0] >= 0) & (pts[:, 0] <= pw) & (pts[:, 1] >= 0) & (pts[:, 1] <= ph)
    return float(inside.mean())


def _project_boxes(boxes: list[Box], m: np.ndarray, c_photo, c_img, shape, pw: int, ph: int):
    """Catalogue outlines (clipped to the photograph) -> image boxes [(cls, x0, y0, x1, y1, name)] that overlap
    the image, clipped to it."""
    h, w = shape
    inv = np.linalg.inv(m)
    out = []
    for b in boxes:
        poly = b.poly.copy()
        poly[:, 0] = np.clip(poly[:, 0], 0, pw)
        poly[:, 1] = np.clip(poly[:, 1], 0, ph)
        pts = (poly - np.array(c_photo)) @ inv.T + np.array(c_img)
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        x0, y0, x1, y1 = max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)
        if x1 - x0 >= 1 and y1 - y0 >= 1:
            out.append((b.cls, x0, y0, x1, y1, b.name))
    return out


def cut(rng: np.random.Generator, lib: PhotoLibrary, shape: tuple[int, int], empty: bool = False,
        tries: int = 80, centred: float = 0.0):
    """A photograph warped onto the image grid: (planes (3, H, W) in [0, 1], alpha (H, W), label boxes
    [(cls, x0, y0, x1, y1, name)]) or None when no suitable cut was found. `empty`: a region touching no
    catalogued object at all. The geometry is checked before a photograph is decoded."""
    h, w = shape
    for attempt in range(tries):
        size = sample_size(rng, max(h, w), BIG_FRACTION_COMPOSITE)
        # photographs holding an object that reaches this size without enlarging it more than MAX_UPSCALE
        reach = lib.max_extent * MAX_UPSCALE >= 0.7 * size
        p = lib.weight * reach if (reach.any() and not empty) else lib.weight
        tile = lib.tiles[int(rng.choice(len(lib.tiles), p=p / p.sum()))]
        ph, pw = tile.height, tile.width
        angle = rng.uniform(0, 2 * math.pi)
        flip = rng.random() < 0.5
        target = None
        if empty:  # zoomed in enough for the photograph to cover the image
            scale = math.exp(rng.uniform(math.log(0.5), math.log(MAX_UPSCALE)))
            half = 0.5 * max(h, w) * (abs(math.cos(angle)) + abs(math.sin(angle))) / scale
            if 2 * half >= min(pw, ph):
                continue
            c_photo = (rng.uniform(half, pw - half), rng.uniform(half, ph - half))
            c_img = (w / 2, h / 2)
        else:
            ext = [max(b.x1 - b.x0, b.y1 - b.y0) for b in tile.boxes]
            fit = [i for i, e in enumerate(ext) if e * MAX_UPSCALE >= 0.7 * size] or [int(np.argmax(ext))]
            target = tile.boxes[fit[int(rng.integers(len(fit)))]]
            extent = max(target.x1 - target.x0, target.y1 - target.y0)
            scale = float(np.clip(size / max(extent, 1.0), 0.05, MAX_UPSCALE))
            c_photo = target.centre
            cy, cx = sample_centre(rng, extent * scale, shape, centred)
            c_img = (cx, cy)
        # image (x, y) -> photo (x, y): photo = c_photo + R(-angle) F (img - c_img) / scale
        ca, sa = math.cos(angle), math.sin(angle)
        m = np.array([[ca, sa], [-sa, ca]]) / scale
        if flip:
            m = m @ np.array([[-1.0, 0.0], [0.0, 1.0]])
        off_xy = np.array(c_photo) - m @ np.array(c_img)
        # an empty cut must lie wholly inside the photograph; an object's photograph may be smaller than the image
        # (its edge is feathered, and its background was subtracted to ~0 by _linearise)
        cover = _coverage(m, off_xy, shape, pw, ph)
        if empty and cover < 0.99:
            continue
        if empty and _project_boxes(tile.boxes, m, c_photo, c_img, shape, pw, ph):
            continue
        img, vis = lib.get(tile)
        if target is not None and target not in vis:
            continue
        boxes = [] if empty else [b for b in _project_boxes(vis, m, c_photo, c_img, shape, pw, ph)
                                  if b[3] - b[1] >= 5 and b[4] - b[2] >= 5]
        if not empty and not boxes:
            continue
        # shrinking: average k x k blocks first (anti-aliasing; continuous coordinates simply divide by k)
        k = max(1, int(0.8 / scale))
        src = img
        if k > 1:
            src = img[:ph // k * k, :pw // k * k].reshape(ph // k, k, pw // k, k, 3).mean(axis=(1, 3))
        mk, offk = m / k, off_xy / k
        # affine_transform works in (row, col) index order with pixel centres at integers
        m_rc = np.array([[mk[1, 1], mk[1, 0]], [mk[0, 1], mk[0, 0]]])
        offset = np.array([offk[1], offk[0]]) + m_rc @ np.array([0.5, 0.5]) - 0.5
        if cover >= 0.999 and _coverage(m, off_xy, shape, pw - 1, ph - 1) >= 0.999:
            alpha = np.ones((h, w), np.float32)
        else:
            alpha = affine_transform(np.ones(src.shape[:2], np.float32), m_rc, offset, output_shape=(h, w),
                                     order=1, cval=0.0, mode="constant")
        planes = np.stack([affine_transform(src[:, :, c], m_rc, offset, output_shape=(h, w), order=1, cval=0.0,
                                            mode="constant") for c in range(3)])
        return planes, alpha, boxes
    return None


def composite_light(rng: np.random.Generator, lib: PhotoLibrary, scene, shape: tuple[int, int],
                    empty: bool = False, centred: float = 0.0):
    """The photograph as extra light for scene.render_frame: ((3, H, W) electrons, [Label], names) or None."""
    got = cut(rng, lib, shape, empty=empty, centred=centred)
    if got is None:
        return None
    planes, alpha, boxes = got
    lin = _linearise(rng, planes, alpha)
    feather = alpha if alpha.min() >= 1.0 else np.clip(gaussian_filter(alpha, 6.0), 0, 1) * (alpha > 0.01)
    lum = lin.mean(axis=0)
    top = float(np.percentile(lum[alpha > 0.5][::3], 99.7)) if (alpha > 0.5).any() else 1.0
    amp = math.exp(rng.uniform(math.log(8.0), math.log(400.0))) * math.sqrt(scene.n_subs)
    k = amp * scene.sigma_e / max(top, 1e-4)
    light = lin * feather[None] * (k * scene.gains)[:, None, None].astype(np.float32)
    labels = [Label(cls, x0, y0, x1, y1, "photo") for cls, x0, y0, x1, y1, _ in boxes]
    return light.astype(np.float32), labels, [b[5] for b in boxes]
