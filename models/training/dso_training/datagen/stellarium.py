# SPDX-License-Identifier: GPL-3.0-or-later
"""Real deep-sky photographs from Debian's `stellarium-data`, with OpenNGC boxes projected onto them.

`/usr/share/stellarium/nebulae/default/textures.json` lists 555 photographs with the J2000 RA/Dec of their four
corners, in the order of the texture coordinates (0,0) (1,0) (1,1) (0,1): u grows towards the west, v towards the
north, and the PNGs are stored north-up/east-left, so pixel column = u*W and row = (1-v)*H. The corners are joined
through a gnomonic (TAN) projection about the tile centre and a homography from the tangent plane to (u, v); each
OpenNGC ellipse (axes, position angle east of north) is sampled on 64 points, projected and boxed. The JSON is not
strict (numbers such as `-.97`) and some RA values are negative (taken modulo 360).

The images are other people's work (per-image credits in /usr/share/doc/stellarium-data/copyright): the generator
reads them where Debian installed them and never copies them into the repository.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .catalog import DsoObject, load_objects

STELLARIUM_DIR = "/usr/share/stellarium/nebulae/default"
CREDITS_FILE = "/usr/share/doc/stellarium-data/copyright"


def available(directory: str = STELLARIUM_DIR) -> bool:
    """True when stellarium-data's photographs and textures.json are installed."""
    return os.path.isfile(os.path.join(directory, "textures.json"))


def parse_textures_json(text: str) -> dict:
    """Parses Stellarium's lenient JSON (leading-dot numbers such as `-.97`, `.5`)."""
    fixed = re.sub(r"(?<=[\[,:\s-])\.(\d)", r"0.\1", text)
    return json.loads(fixed)


def _unit(ra_deg: float, dec_deg: float) -> np.ndarray:
    ra, dec = math.radians(ra_deg), math.radians(dec_deg)
    return np.array([math.cos(dec) * math.cos(ra), math.cos(dec) * math.sin(ra), math.sin(dec)])


class TanPlane:
    """Gnomonic projection about a centre: (ra, dec) in degrees -> (xi east, eta north) in degrees."""

    def __init__(self, ra0: float, dec0: float):
        self.ra0, self.dec0 = ra0, dec0
        r, d = math.radians(ra0), math.radians(dec0)
        self.east = np.array([-math.sin(r), math.cos(r), 0.0])
        self.north = np.array([-math.sin(d) * math.cos(r), -math.sin(d) * math.sin(r), math.cos(d)])
        self.centre = _unit(ra0, dec0)

    def project(self, ra, dec):
        ra, dec = np.radians(np.asarray(ra, dtype=np.float64)), np.radians(np.asarray(dec, dtype=np.float64))
        v = np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=-1)
        z = v @ self.centre
        return np.degrees((v @ self.east) / z), np.degrees((v @ self.north) / z), z


def _homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """3x3 H with dst ~ H @ [src, 1] from four point pairs (direct linear transform)."""
    rows = []
    for (x, y), (u, v) in zip(src, dst):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y, -u])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y, -v])
    _, _, vt = np.linalg.svd(np.array(rows, dtype=np.float64))
    h = vt[-1].reshape(3, 3)
    return h / h[2, 2]


@dataclass
class Box:
    """An object's box in photograph pixels (x0, y0, x1, y1; may extend past the image) and what it is."""
    x0: float
    y0: float
    x1: float
    y1: float
    cls: int
    name: str
    messier: str = ""
    centre: tuple[float, float] = (0.0, 0.0)
    poly: np.ndarray | None = None  # (n, 2) projected ellipse outline, pixel x, y


@dataclass
class Tile:
    """One photograph and its sky geometry."""
    image: str
    corners: list[tuple[float, float]]
    credit: str
    width: int = 0
    height: int = 0
    plane: TanPlane | None = None
    h_sky_to_uv: np.ndarray | None = None
    radius_deg: float = 0.0
    boxes: list[Box] = field(default_factory=list)

    def sky_to_pixel(self, ra, dec):
        """(ra, dec) degrees -> (x, y) pixel coordinates (float arrays; NaN behind the tangent plane)."""
        xi, eta, z = self.plane.project(ra, dec)
        p = self.h_sky_to_uv @ np.stack([np.ravel(xi), np.ravel(eta), np.ones(np.size(xi))])
        u, v = p[0] / p[2], p[1] / p[2]
        x = u * self.width
        y = (1.0 - v) * self.height
        bad = np.ravel(z) <= 0
        x[bad] = np.nan
        y[bad] = np.nan
        return x.reshape(np.shape(xi)), y.reshape(np.shape(xi))

    def pixel_scale_arcmin(self) -> float:
        """Mean arcmin per pixel of the photograph."""
        return 60.0 * 2.0 * self.radius_deg / math.sqrt(2.0) / max(self.width, 1)


def ellipse_box(tile: Tile, obj: DsoObject, default_arcmin: float = 1.0, n: int = 64) -> Box | None:
    """Projects an object's catalogue ellipse onto a photograph; None when it lies behind the tangent plane."""
    a = 0.5 * (obj.major or default_arcmin) / 60.0
    b = 0.5 * (obj.minor or obj.major or default_arcmin) / 60.0
    pa = math.radians(obj.pa)
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    # offsets in the object's own tangent plane: major axis along PA (east of north)
    de = a * np.cos(t) * math.sin(pa) + b * np.sin(t) * math.cos(pa)
    dn = a * np.cos(t) * math.cos(pa) - b * np.sin(t) * math.sin(pa)
    local = TanPlane(obj.ra, obj.dec)
    # back from the local tangent plane to the sphere
    vec = (local.centre[None, :] + np.radians(de)[:, None] * local.east[None, :]
           + np.radians(dn)[:, None] * local.north[None, :])
    vec /= np.linalg.norm(vec, axis=1, keepdims=True)
    ra = np.degrees(np.arctan2(vec[:, 1], vec[:, 0])) % 360.0
    dec = np.degrees(np.arcsin(np.clip(vec[:, 2], -1, 1)))
    x, y = tile.sky_to_pixel(ra, dec)
    cx, cy = tile.sky_to_pixel(np.array([obj.ra]), np.array([obj.dec]))
    if not np.all(np.isfinite(x)) or not np.isfinite(cx[0]):
        return None
    return Box(float(x.min()), float(y.min()), float(x.max()), float(y.max()), obj.cls, obj.name, obj.messier,
               (float(cx[0]), float(cy[0])), np.column_stack([x, y]))


def load_tiles(directory: str = STELLARIUM_DIR, objects: list[DsoObject] | None = None) -> list[Tile]:
    """All photographs with the OpenNGC boxes that overlap them (boxes not yet checked for visibility)."""
    with open(os.path.join(directory, "textures.json"), encoding="utf-8") as f:
        doc = parse_textures_json(f.read())
    objects = load_objects() if objects is None else objects
    obj_vec = np.stack([_unit(o.ra, o.dec) for o in objects])
    tiles = []
    for sub in doc["subTiles"]:
        quad = sub["worldCoords"][0]
        corners = [(float(ra) % 360.0, float(dec)) for ra, dec in quad]
        credit = sub.get("imageCredits", {})
        credit = credit.get("short") or credit.get("Short") or ""
        tile = Tile(image=os.path.join(directory, sub["imageUrl"]), corners=corners, credit=credit)
        with Image.open(tile.image) as im:
            tile.width, tile.height = im.size
        vecs = np.stack([_unit(*c) for c in corners])
        c = vecs.sum(axis=0)
        c /= np.linalg.norm(c)
        ra0 = math.degrees(math.atan2(c[1], c[0])) % 360.0
        dec0 = math.degrees(math.asin(c[2]))
        tile.plane = TanPlane(ra0, dec0)
        xi, eta, _ = tile.plane.project([p[0] for p in corners], [p[1] for p in corners])
        uv = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=np.float64)
        tile.h_sky_to_uv = _homography(np.column_stack([xi, eta]), uv)
        tile.radius_deg = float(np.degrees(np.arccos(np.clip(vecs @ c, -1, 1))).max())
        near = np.nonzero(obj_vec @ c > math.cos(math.radians(tile.radius_deg * 1.5 + 1.0)))[0]
        for i in near:
            box = ellipse_box(tile, objects[i])
            if box is None:
                continue
            if box.x1 < 0 or box.y1 < 0 or box.x0 > tile.width or box.y0 > tile.height:
                continue
            tile.boxes.append(box)
        tiles.append(tile)
    return tiles


def load_rgb(path: str) -> np.ndarray:
    """A photograph as float32 (H, W, 3) in [0, 1] (palette, grey and alpha images converted)."""
    with Image.open(path) as im:
        if im.mode == "P" and "transparency" in im.info:
            im = im.convert("RGBA")
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def find_tile(tiles: list[Tile], messier: str = "", name: str = "") -> Tile | None:
    """The photograph whose box list holds a given Messier number (e.g. '51') or name, nearest its centre."""
    best, best_d = None, float("inf")
    for t in tiles:
        for b in t.boxes:
            if (messier and b.messier == messier) or (name and b.name == name):
                d = math.hypot(b.centre[0] - t.width / 2, b.centre[1] - t.height / 2) / max(t.width, 1)
                if d < best_d:
                    best, best_d = t, d
    return best
