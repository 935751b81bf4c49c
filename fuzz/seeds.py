#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/seeds/<target>/ (small files, committed).

fits_decode: small FITS of every BITPIX (BZERO/BSCALE, BLANK, an RGB cube, a Bayer frame bottom-up, an image in an
extension), the same zlib- and gzip-wrapped, an XISF (plain, zlib, lz4 with shuffling) when the `xisf` package is
installed, a PNG and a JPEG. indi_stream: the messages the driver itself writes at start and on connection (recorded
from the real binary when it is built), and hand-written client, camera and BLOB messages (one-line base64, 72
columns with enclen, attached).
"""
import base64
import gzip
import io
import os
import socket
import subprocess
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def card(key, value=None, comment=None):
    if value is None:
        text = key
    else:
        text = f"{key:<8}= {value:>20}"
        if comment:
            text += f" / {comment}"
    return f"{text:<80}".encode()


def fits(bitpix, axes, data, extra=(), primary=True):
    head = [card("SIMPLE", "T") if primary else card("XTENSION", "'IMAGE   '"), card("BITPIX", bitpix),
            card("NAXIS", len(axes))]
    head += [card(f"NAXIS{i + 1}", a) for i, a in enumerate(axes)]
    if not primary:
        head += [card("PCOUNT", 0), card("GCOUNT", 1)]
    head += [card(k, v) for k, v in extra]
    head.append(card("END"))
    h = b"".join(head)
    h += b" " * (-len(h) % 2880)
    return h + data + b"\0" * (-len(data) % 2880)


def values(bitpix, n):
    import struct
    fmt = {8: "B", 16: "h", 32: "i", -32: "f", -64: "d"}[bitpix]
    vals = [(i * 37) % 251 for i in range(n)]
    if bitpix < 0:
        vals = [v / 250.0 for v in vals]
    return struct.pack(f">{n}{fmt}", *vals)


def png(width, height):
    def chunk(kind, body):
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")
    raw = b"".join(b"\0" + bytes((x * 16 + y) % 256 for x in range(width)) for y in range(height))
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def write(target, name, data):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def fits_seeds():
    w, h = 16, 12
    for bitpix in (8, 16, 32, -32, -64):
        extra = [("BZERO", 32768)] if bitpix == 16 else []
        write("fits_decode", f"bitpix{bitpix}.fits", fits(bitpix, [w, h], values(bitpix, w * h), extra))
    plain = fits(16, [w, h], values(16, w * h), [("BZERO", 32768)])
    write("fits_decode", "bscale.fits", fits(16, [w, h], values(16, w * h), [("BZERO", 10), ("BSCALE", 2)]))
    write("fits_decode", "blank.fits", fits(16, [w, h], values(16, w * h), [("BLANK", 37)]))
    write("fits_decode", "rgb.fits", fits(8, [w, h, 3], values(8, w * h * 3)))
    write("fits_decode", "bayer.fits", fits(16, [w, h], values(16, w * h),
                                            [("BZERO", 32768), ("BAYERPAT", "'RGGB    '"), ("XBAYROFF", 1),
                                             ("ROWORDER", "'BOTTOM-UP'")]))
    empty = fits(8, [], b"", [("EXTEND", "T"), ("FOCALLEN", "250.")])
    write("fits_decode", "extension.fits", empty + fits(16, [w, h], values(16, w * h), primary=False))
    write("fits_decode", "frame.fits.z", zlib.compress(plain))
    write("fits_decode", "frame.fits.gz", gzip.compress(plain))
    write("fits_decode", "frame.png", png(w, h))
    try:
        from PIL import Image
        buf = io.BytesIO()
        Image.new("RGB", (w, h), (40, 80, 120)).save(buf, "JPEG")
        write("fits_decode", "frame.jpg", buf.getvalue())
    except ImportError:
        print("PIL absent: no JPEG seed", file=sys.stderr)
    try:
        import numpy as np
        import xisf
        img = (np.arange(w * h, dtype=np.uint16).reshape(h, w, 1) * 97)
        for codec, shuffle in ((None, False), ("zlib", False), ("lz4", True)):
            path = os.path.join(HERE, "seeds", "fits_decode", f"frame-{codec}.xisf")
            xisf.XISF.write(path, img, "seed", {}, codec=codec, shuffle=shuffle)
    except ImportError:
        print("numpy or xisf absent: no XISF seeds", file=sys.stderr)


def driver_output():
    """What the real driver writes at start and on connection, or b'' when it is not built."""
    exe = os.path.join(HERE, "..", "target", "release", "indi_dso_detector")
    if not os.path.exists(exe):
        print(f"{exe} absent: no recorded driver traffic", file=sys.stderr)
        return b""
    ours, theirs = socket.socketpair()
    env = dict(os.environ, INDICONFIG="/nonexistent/dso-seed.xml")
    p = subprocess.Popen([exe], stdin=theirs, stdout=theirs, stderr=subprocess.DEVNULL, env=env)
    theirs.close()
    ours.sendall(b'<getProperties version="1.7"/>\n<newSwitchVector device="DSO Detector" name="CONNECTION">'
                 b'<oneSwitch name="CONNECT">On</oneSwitch></newSwitchVector>\n')
    ours.settimeout(0.5)
    out, deadline = b"", time.time() + 3
    while time.time() < deadline:
        try:
            out += ours.recv(1 << 16)
        except socket.timeout:
            pass
    ours.close()
    p.wait(timeout=10)
    return out


def indi_seeds():
    seed = b"\x12\x34"  # the target's two split-seed bytes
    recorded = driver_output()
    if recorded:
        write("indi_stream", "driver-start.xml", seed + recorded)
        for i, part in enumerate(recorded.split(b"\n<")[:40]):
            write("indi_stream", f"driver-{i:02}.xml", seed + (part if i == 0 else b"<" + part))
    fits_bytes = fits(8, [4, 2], bytes(range(8)))
    b64 = base64.b64encode(fits_bytes).decode()
    lines = "\n".join(b64[i:i + 72] for i in range(0, len(b64), 72))
    messages = {
        "getproperties.xml": '<getProperties version="1.7"/>\n',
        "new-number.xml": '<newNumberVector device="DSO Detector" name="DSO_SETTINGS"><oneNumber name="CONFIDENCE">'
                          '0.5</oneNumber></newNumberVector>\n',
        "new-text.xml": '<newTextVector device="DSO Detector" name="ACTIVE_DEVICES"><oneText name="ACTIVE_CCD">'
                        'CCD Simulator</oneText></newTextVector>\n',
        "file-path.xml": '<setTextVector device="CCD Simulator" name="CCD_FILE_PATH" state="Ok" '
                         'timestamp="2026-11-25T19:13:03"><oneText name="FILE_PATH">/tmp/IMAGE_001.fits</oneText>'
                         '</setTextVector>\n',
        "blob-one-line.xml": f'<setBLOBVector device="CCD Simulator" name="CCD1" state="Ok"><oneBLOB name="CCD1" '
                             f'size="{len(fits_bytes)}" format=".fits" len="{len(fits_bytes)}">{b64}</oneBLOB>'
                             f'</setBLOBVector>\n',
        "blob-72.xml": f'<setBLOBVector device="CCD Simulator" name="CCD1" state="Ok">\n  <oneBLOB name="CCD1" '
                       f'size="{len(fits_bytes)}" enclen="{len(b64)}" format=".fits">\n{lines}\n  </oneBLOB>\n'
                       f'</setBLOBVector>\n',
        "blob-attached.xml": f'<setBLOBVector device="CCD Simulator" name="CCD1" state="Ok"><oneBLOB name="CCD1" '
                             f'size="{len(fits_bytes)}" format=".fits" len="{len(fits_bytes)}" attached="true"/>'
                             f'</setBLOBVector>\n',
        "upload.xml": f'<newBLOBVector device="DSO Detector" name="DSO_IMAGE_UPLOAD"><oneBLOB name="IMAGE" '
                      f'size="{len(fits_bytes)}" format=".fits">{b64}</oneBLOB></newBLOBVector>\n',
        "ping-message.xml": '<pingRequest uid="SetBLOB/1"/><message device="CCD Simulator" timestamp='
                            '"2026-11-25T19:13:03" message="[INFO] hello &amp; &lt;bye&gt;"/>\n'
                            '<delProperty device="CCD Simulator" name="CCD1"/><!-- c --><![CDATA[x]]>\n',
    }
    for name, text in messages.items():
        write("indi_stream", name, seed + text.encode())


if __name__ == "__main__":
    fits_seeds()
    indi_seeds()
    for t in ("fits_decode", "indi_stream"):
        d = os.path.join(HERE, "seeds", t)
        print(t, len(os.listdir(d)), "seeds,", sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)), "bytes")
