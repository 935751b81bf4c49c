#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/seeds/<target>/ (small files, committed).

fits_decode: small FITS of every BITPIX (BZERO/BSCALE, BLANK, an RGB cube, a Bayer frame bottom-up, an image in an
extension), the same zlib- and gzip-wrapped, an XISF (plain, zlib, lz4 with shuffling) when the `xisf` package is
installed, a PNG and a JPEG. indi_stream: the messages the driver itself writes at start and on connection (recorded
from the real binary when it is built), and hand-written client, camera and BLOB messages (one-line base64, 72
columns with enclen, attached).

config_files (first byte: which reader): the configuration file and its .default that the real driver saved with
CONFIG_SAVE during a recorded session, the settings-file example of models/src/settings/mod.rs, an old
detector.conf and plugins.conf, the class names the shipped YOLO model carries, environment variables.
device_messages: the messages the real indiserver delivered to the real driver during a session with the CCD and
telescope simulators (indiserver -vvv logs each), as the target's raw-bytes steps; attached BLOBs (memfds in INDI
1.9.9, not recordable) are also written inline with a 1-block FITS. plugin_results: results as a plugin returns them
(clean boxes, NaN, out of frame, counts over the limit, heat maps).
"""
import base64
import gzip
import io
import os
import re
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


def record_session():
    """Runs the real driver under the real indiserver with the CCD and telescope simulators, drives a short session
    as a client would, and returns (the messages indiserver delivered to the driver, the configuration file the
    driver saved, its .default), or None when indiserver or the built driver is missing. Takes about 15 s."""
    import shutil
    import tempfile
    exe = os.path.abspath(os.path.join(HERE, "..", "target", "release", "indi_dso_detector"))
    if not (shutil.which("indiserver") and os.path.exists(exe)):
        print("indiserver or the driver absent: no recorded session", file=sys.stderr)
        return None
    tmp = tempfile.mkdtemp(prefix="dso-seeds-")
    conf = os.path.join(tmp, "DSO Detector_config.xml")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, INDICONFIG=conf, HOME=tmp)
    log = open(os.path.join(tmp, "server.log"), "wb")
    server = subprocess.Popen(["indiserver", "-vvv", "-p", str(port), "-u", os.path.join(tmp, "sock"),
                               "indi_simulator_ccd", "indi_simulator_telescope", exe],
                              stdout=subprocess.DEVNULL, stderr=log, env=env, cwd=tmp)
    dso, ccd, mount = "DSO Detector", "CCD Simulator", "Telescope Simulator"

    def new(kind, device, name, **elements):
        body = "".join(f'<one{kind} name="{k}">{v}</one{kind}>' for k, v in elements.items())
        return f'<new{kind}Vector device="{device}" name="{name}">{body}</new{kind}Vector>\n'

    tiny = fits(16, [8, 6], values(16, 48), [("BZERO", 32768)])
    upload = (f'<newBLOBVector device="{dso}" name="DSO_IMAGE_UPLOAD"><oneBLOB name="IMAGE" size="{len(tiny)}" '
              f'format=".fits">{base64.b64encode(tiny).decode()}</oneBLOB></newBLOBVector>\n')
    script = [
        ('<getProperties version="1.7"/>\n', 1.5),
        (new("Switch", ccd, "CONNECTION", CONNECT="On") + new("Switch", mount, "CONNECTION", CONNECT="On"), 1.0),
        (new("Switch", dso, "CONNECTION", CONNECT="On"), 1.0),
        (new("Text", dso, "ACTIVE_DEVICES", ACTIVE_CCD=ccd, ACTIVE_TELESCOPE=mount), 0.5),
        (new("Switch", dso, "DSO_IDENTIFY", PLATE_SOLVE="Off"), 0.2),
        (new("Number", dso, "DSO_SETTINGS", CONFIDENCE="0.3", MAX_DETECTIONS="10", PICTURE_SIZE="512"), 0.2),
        (new("Switch", dso, "DSO_OUTPUTS", ANNOTATED_IMAGE="On"), 0.2),
        (new("Text", dso, "DSO_TARGET", NAME="M 31") + new("Number", dso, "DSO_SOLVER", TIMEOUT="30"), 0.2),
        (new("Switch", dso, "CONFIG_PROCESS", CONFIG_SAVE="On"), 0.5),
        (new("Number", ccd, "CCD_EXPOSURE", CCD_EXPOSURE_VALUE="0.1"), 3.0),
        (upload, 2.0),
        (new("Number", dso, "DSO_SETTINGS", CONFIDENCE="2") + new("Switch", dso, "DEBUG", ENABLE="On"), 0.3),
        (new("Switch", dso, "CONFIG_PROCESS", CONFIG_LOAD="On"), 0.3),
        (new("Switch", dso, "CONNECTION", DISCONNECT="On"), 0.3),
        (new("Switch", dso, "CONNECTION", CONNECT="On") + '<getProperties version="1.7" device="DSO Detector"/>\n',
         1.0),
    ]
    try:
        deadline = time.time() + 10
        while True:
            try:
                client = socket.create_connection(("127.0.0.1", port), timeout=1)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        with client:
            client.setblocking(False)
            for text, pause in script:
                client.sendall(text.encode())
                end = time.time() + pause
                while time.time() < end:  # keep reading, or the server drops a slow client
                    try:
                        client.recv(1 << 20)
                    except BlockingIOError:
                        time.sleep(0.05)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
    text = open(os.path.join(tmp, "server.log"), encoding="utf-8", errors="replace").read()
    delivered = re.findall(r"Driver [^\n]*indi_dso_detector: sending msg nq \d+:\n(.*?)\n\n", text, re.S)
    read = lambda p: open(p, encoding="utf-8").read() if os.path.exists(p) else None
    saved = (read(conf), read(conf + ".default"))
    shutil.rmtree(tmp, ignore_errors=True)
    return delivered, saved


def raw_steps(messages):
    """The device_messages target's raw-bytes steps: 16, the length (two bytes, big-endian), the bytes."""
    out = b""
    for m in messages:
        data = m.encode()[:65535]
        out += bytes([16]) + len(data).to_bytes(2, "big") + data
    return out


def session_seeds(session):
    tiny = fits(8, [4, 2], bytes(range(8)))
    inline = (f'<oneBLOB name="CCD1" size="{len(tiny)}" format=".fits" len="{len(tiny)}">'
              f'{base64.b64encode(tiny).decode()}</oneBLOB>')
    if session is None:
        return
    delivered, (saved, default) = session
    if saved:
        write("config_files", "driver-config-save.xml", b"\0" + saved.encode())
    if default:
        write("config_files", "driver-config-default.xml", b"\0" + default.encode())
    if not delivered:
        print("no messages recorded for the driver", file=sys.stderr)
        return
    with_inline = [re.sub(r'<oneBLOB name="(\w+)"[^>]*attached="true"\s*/>', inline.replace("CCD1", r"\1"), m)
                   for m in delivered]
    write("device_messages", "session-attached.bin", raw_steps(delivered[:250]))
    write("device_messages", "session-inline.bin", raw_steps(with_inline[:250]))
    write("device_messages", "session-start.bin", raw_steps(with_inline[:12]))
    # The recorded session, then the worker takes the upload, reports progress and finishes (choice bytes).
    write("device_messages", "session-worker.bin", raw_steps(with_inline[:60]) + bytes([13, 13, 0, 50, 13, 2])
          + bytes(range(7, 200, 3)))
    print("device_messages:", len(delivered), "recorded messages")


def config_seeds():
    doc = open(os.path.join(HERE, "..", "models", "src", "settings", "mod.rs"), encoding="utf-8").read()
    example = doc.split("//! ```text\n", 1)[1].split("//! ```", 1)[0]
    example = "".join(line[4:] + "\n" for line in example.splitlines())
    write("config_files", "settings-example.conf", b"\1" + example.encode())
    write("config_files", "detector-legacy.conf", b"\1yolo_model = models/my.onnx  # old\nyolo_threads = 2\n"
                                                  b"yolo_score_power = 0.19\n[solver]\ntimeout_s = 30\n")
    write("config_files", "plugins-legacy.conf", b"\2# plugins\n/opt/plugins\npath libstreaks.so\n"
                                                 b"config streaks min_length=80\n")
    names = "{0: 'galaxy', 1: 'nebula', 2: 'cluster'}"
    try:
        import onnxruntime
        model = os.path.join(HERE, "..", "models", "weights", "dso_yolo.onnx")
        session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
        names = session.get_modelmeta().custom_metadata_map.get("names", names)
    except Exception as e:  # noqa: BLE001 - the hand-written copy is the same text
        print(f"onnxruntime: {e}; names metadata written by hand", file=sys.stderr)
    write("config_files", "yolo-names-metadata.txt", b"\3" + names.encode())
    write("config_files", "yolo-names-sidecar.txt", b"\3# classes\ngalaxy\n  nebula  \n\ncluster\n")
    write("config_files", "environment.txt", b"\4DSO_MAX_FRAME_MB=128\nDSO_DETECTOR_PLUGIN_PATH=/opt/a::/opt/b\n"
                                             b"DSO_YOLO_MODEL=/models/yolo.onnx\nORT_DYLIB_PATH=/usr/lib/x.so\n")


def plugin_seeds():
    """Choice bytes of the plugin_results target (see its `run`): frame size, detections, count, heat map."""
    def det(x, y, w, h, conf, label=1):
        # 12 selects a small multiple of 0.37 (byte % 161 - 80), 11 a fraction (byte % 101 / 100).
        coord = lambda v: bytes([12, v + 80])
        return coord(x) + coord(y) + coord(w) + coord(h) + bytes([11, conf, label])
    frame = bytes([31, 23])  # 32 × 24
    clean = frame + bytes([3]) + det(2, 3, 10, 8, 90) + det(40, 20, 30, 20, 55) + det(0, 0, 5, 5, 10, 3)
    clean += b"\x1f" * 32 + bytes([3, 0])  # 32 arbitrary label bytes; exact count; no heat map
    write("plugin_results", "clean.bin", clean)
    odd = frame + bytes([4]) + bytes([0, 1, 2, 3, 11, 40, 0]) + det(-20, -20, 10, 80, 100, 2)
    heat = (bytes([0, 0]) + bytes([1]) * 2 + bytes([0, 11, 50])) * 192  # NaN, 0.5, 0.5, 0.5 over 32 × 24
    odd += bytes([3, 4, 7, 8, 6, 1, 2]) + det(60, 60, 5, 5, 50) + bytes([3, 2]) + heat
    write("plugin_results", "odd-values.bin", odd)
    write("plugin_results", "too-many.bin", frame + bytes([2]) + det(1, 1, 1, 1, 1) * 2 + bytes([1, 0xff] * 8))
    write("plugin_results", "null.bin", frame + bytes([0, 0, 0, 0, 0, 0, 0, 0, 9]))


if __name__ == "__main__":
    fits_seeds()
    indi_seeds()
    config_seeds()
    plugin_seeds()
    session_seeds(record_session())
    for t in ("fits_decode", "indi_stream", "config_files", "device_messages", "plugin_results"):
        d = os.path.join(HERE, "seeds", t)
        print(t, len(os.listdir(d)), "seeds,", sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)), "bytes")
