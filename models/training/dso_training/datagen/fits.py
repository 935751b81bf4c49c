# SPDX-License-Identifier: GPL-3.0-or-later
"""Minimal FITS reading and writing: one primary HDU, integer or float data.

The generator writes linear 16-bit frames the way capture software does (BITPIX 16, BZERO 32768, a header with
camera keywords) and the measurement script reads real frames. Both need only the primary image HDU, so a hundred
lines of numpy replace a dependency (astropy or fitsio). Reference: FITS Standard 4.0, sections 3-5
(2880-byte blocks, 80-character cards, big-endian data, BZERO/BSCALE scaling).
"""

from __future__ import annotations

import numpy as np

BLOCK = 2880
CARD = 80

_DTYPES = {8: ">u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}


def _format_value(value) -> str:
    """A card's value field: logicals and numbers right-justified in columns 11-30, strings quoted."""
    if isinstance(value, bool):
        return f"{'T' if value else 'F':>20}"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):>20d}"
    if isinstance(value, (float, np.floating)):
        text = f"{float(value):.10G}"
        if "." not in text and "E" not in text:
            text += "."
        return f"{text:>20}"
    text = str(value).replace("'", "''")
    return f"'{text:<8}'"


def card(key: str, value=None, comment: str = "") -> bytes:
    """One 80-character header card (`COMMENT`/`HISTORY` take the text as the value)."""
    key = key.upper()
    if len(key) > 8:
        raise ValueError(f"FITS keyword longer than 8 characters: {key}")
    if key in ("COMMENT", "HISTORY", "END") or value is None:
        text = f"{key:<8}" + (f"  {comment}" if comment else "")
    else:
        text = f"{key:<8}= {_format_value(value)}"
        if comment:
            text += f" / {comment}"
    if len(text) > CARD:
        text = text[:CARD]
    if not text.isascii():
        raise ValueError(f"FITS header cards are ASCII: {text!r}")
    return f"{text:<{CARD}}".encode("ascii")


def write_fits_u16(path, data: np.ndarray, cards: list[tuple]) -> None:
    """Writes unsigned 16-bit data (2-D mono/Bayer or 3-D planes first) as BITPIX 16 with BZERO 32768.

    `cards` are extra (key, value, comment) tuples placed after the mandatory ones; rows are written top-down as
    stored (ROWORDER='TOP-DOWN' says so to readers that care).
    """
    data = np.asarray(data)
    if data.dtype != np.uint16:
        raise TypeError("write_fits_u16 needs uint16 data")
    header = [card("SIMPLE", True, "file does conform to FITS standard"),
              card("BITPIX", 16, "number of bits per data pixel"),
              card("NAXIS", data.ndim, "number of data axes")]
    for i, n in enumerate(reversed(data.shape)):
        header.append(card(f"NAXIS{i + 1}", int(n), f"length of data axis {i + 1}"))
    header += [card("EXTEND", True, "FITS dataset may contain extensions"),
               card("BZERO", 32768, "offset data range to that of unsigned short"),
               card("BSCALE", 1, "default scaling factor")]
    header += [card(*c) for c in cards]
    header.append(card("END"))
    raw = b"".join(header)
    raw += b" " * (-len(raw) % BLOCK)
    body = (data.astype(np.int32) - 32768).astype(">i2").tobytes()
    body += b"\0" * (-len(body) % BLOCK)
    with open(path, "wb") as f:
        f.write(raw + body)


def _parse_value(text: str):
    text = text.strip()
    if text.startswith("'"):
        end = text.find("'", 1)
        while end != -1 and text[end + 1:end + 2] == "'":
            end = text.find("'", end + 2)
        return text[1:end].replace("''", "'").rstrip()
    value = text.split("/", 1)[0].strip()
    if value == "T":
        return True
    if value == "F":
        return False
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value.replace("D", "E"))
    except ValueError:
        return value


def read_fits(path) -> tuple[dict, np.ndarray]:
    """Reads the primary HDU: (header dict, data as float64 with BZERO/BSCALE applied, numpy axis order)."""
    with open(path, "rb") as f:
        blob = f.read()
    header: dict = {}
    pos = 0
    while True:
        if pos + BLOCK > len(blob):
            raise ValueError(f"{path}: no END card")
        block = blob[pos:pos + BLOCK]
        pos += BLOCK
        done = False
        for i in range(0, BLOCK, CARD):
            line = block[i:i + CARD].decode("ascii", errors="replace")
            key = line[:8].strip()
            if key == "END":
                done = True
                break
            if line[8:10] == "= " and key not in header:
                header[key] = _parse_value(line[10:])
        if done:
            break
    bitpix = int(header["BITPIX"])
    shape = tuple(int(header[f"NAXIS{i}"]) for i in range(int(header["NAXIS"]), 0, -1))
    count = int(np.prod(shape)) if shape else 0
    data = np.frombuffer(blob, dtype=_DTYPES[bitpix], count=count, offset=pos).reshape(shape)
    data = data.astype(np.float64) * float(header.get("BSCALE", 1.0)) + float(header.get("BZERO", 0.0))
    return header, data


def read_header_cards(path) -> list[str]:
    """The raw 80-character cards of the primary header up to END (for tests of exact formatting)."""
    with open(path, "rb") as f:
        blob = f.read()
    cards = []
    for i in range(0, len(blob), CARD):
        line = blob[i:i + CARD].decode("ascii")
        cards.append(line)
        if line[:8].strip() == "END":
            return cards
    raise ValueError(f"{path}: no END card")
