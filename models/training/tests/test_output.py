# SPDX-License-Identifier: GPL-3.0-or-later
"""Whole runs through the command line: determinism by seed, the ultralytics layout, YOLO label validity, FITS
headers, and the INDI demo frames."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from dso_training.datagen.cli import main
from dso_training.datagen.fits import read_fits, read_header_cards
from dso_training.datagen.stellarium import available


def _digest(folder: str) -> dict[str, str]:
    out = {}
    for root, _, files in os.walk(folder):
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, folder)] = hashlib.sha256(fh.read()).hexdigest()
    return out


def _run(out, seed, extra=()):
    n_cmp = "2" if available() else "0"
    args = ["--out", str(out), "--seed", str(seed), "--synthetic", "4", "--composite", n_cmp, "--size", "192",
            "--fits", "--val-fraction", "0.3", *extra]
    assert main(args) == 0


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("set_a")
    _run(out, 11)
    return out


def test_same_seed_gives_identical_bytes(small_set, tmp_path):
    # another worker count must not change a byte either (each image has its own random stream)
    _run(tmp_path / "b", 11, ("--workers", "2"))
    a, b = _digest(str(small_set)), _digest(str(tmp_path / "b"))
    assert a == b
    assert any(k.endswith(".jpg") for k in a) and any(k.endswith(".fits") for k in a)


def test_other_seed_differs(small_set, tmp_path):
    _run(tmp_path / "c", 12)
    a, c = _digest(str(small_set)), _digest(str(tmp_path / "c"))
    jpgs = [k for k in a if k.endswith(".jpg") and k in c]
    assert jpgs and all(a[k] != c[k] for k in jpgs)


def test_layout_is_ultralytics(small_set):
    text = (small_set / "data.yaml").read_text()
    assert "train: images/train" in text and "val: images/val" in text and "nc: 3" in text
    assert "0: galaxy" in text and "1: nebula" in text and "2: cluster" in text
    for split in ("train", "val"):
        imgs = sorted(p.stem for p in (small_set / "images" / split).glob("*.jpg"))
        labs = sorted(p.stem for p in (small_set / "labels" / split).glob("*.txt"))
        assert imgs == labs
    assert (small_set / "stats.json").is_file()


def test_yolo_labels_are_valid(small_set):
    from PIL import Image
    n = 0
    for lab in (small_set / "labels").rglob("*.txt"):
        img = small_set / "images" / lab.parent.name / (lab.stem + ".jpg")
        with Image.open(img) as im:
            assert im.size == (192, 192) and im.mode == "RGB"
        for line in lab.read_text().splitlines():
            parts = line.split()
            assert len(parts) == 5
            cls = int(parts[0])
            cx, cy, w, h = (float(v) for v in parts[1:])
            assert cls in (0, 1, 2)
            assert 0 < w <= 1 and 0 < h <= 1
            assert 0 <= cx - w / 2 + 1e-6 and cx + w / 2 - 1e-6 <= 1
            assert 0 <= cy - h / 2 + 1e-6 and cy + h / 2 - 1e-6 <= 1
            n += 1
    assert n > 0


def test_fits_headers_and_data(small_set):
    files = sorted((small_set / "fits").glob("*.fits"))
    assert files
    for path in files:
        assert path.stat().st_size % 2880 == 0
        cards = read_header_cards(path)
        assert cards[0].startswith("SIMPLE  =                    T")
        assert cards[1].startswith("BITPIX  =                   16")
        header, data = read_fits(path)
        assert header["BZERO"] == 32768 and header["BSCALE"] == 1
        for key in ("EXPTIME", "GAIN", "XPIXSZ", "YPIXSZ", "PIXSIZE1", "PIXSIZE2", "FOCALLEN", "DATE-OBS",
                    "INSTRUME", "CCD-TEMP", "XBINNING"):
            assert key in header, key
        assert header["ROWORDER"] == "TOP-DOWN"
        assert header["PIXSIZE1"] == header["XPIXSZ"] > 0
        assert len(header["DATE-OBS"]) == 23 and header["DATE-OBS"][10] == "T"
        assert data.min() >= 0 and data.max() <= 65535 and np.all(data == np.round(data))
        if "BAYERPAT" in header:
            assert header["NAXIS"] == 2 and data.shape == (192, 192)
            assert header["BAYERPAT"] in ("RGGB", "GRBG", "GBRG", "BGGR")
        else:
            assert header["NAXIS"] == 3 and data.shape == (3, 192, 192)
        # linear data: a sky pedestal plus noise, far from the 8-bit look
        assert np.median(data) < 30000


def test_fits_readable_by_astropy_when_present(small_set):
    fits = pytest.importorskip("astropy.io.fits", reason="astropy not installed (optional cross-check)")
    path = sorted((small_set / "fits").glob("*.fits"))[0]
    with fits.open(path) as hdul:
        ours = read_fits(path)[1]
        assert hdul[0].header["PIXSIZE1"] > 0
        assert np.array_equal(hdul[0].data.astype(np.float64), ours)


def test_demo_frames_for_the_indi_simulator(tmp_path):
    assert main(["--out", str(tmp_path), "--frames", "1", "--frame-size", "640x512"]) == 0
    header, data = read_fits(tmp_path / "frame_0000.fits")
    assert data.shape == (512, 640)                      # one plane: the simulator reads NAXIS1 x NAXIS2
    assert header["PIXSIZE1"] > 0 and header["BAYERPAT"] == "RGGB"  # directory mode needs PIXSIZE1
    lines = (tmp_path / "frames_preview" / "frame_0000.txt").read_text().split("\n")
    classes = sorted(int(line.split()[0]) for line in lines if line.strip())
    assert classes == [0, 1, 2]                          # a galaxy, a nebula and a cluster
    assert not (tmp_path / "images").exists()            # frames only: no dataset folders
