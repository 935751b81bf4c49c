#!/usr/bin/env python3
"""The soak client (installers/soak.sh starts the server and calls this): hours of frames into the DSO Detector
through a real indiserver, faster than the detector keeps up with, while a client switches detectors and settings
and uploads corrupt files now and then. Every 10 s it samples the driver's resident memory, open descriptors and
threads from /proc, and the latency, processed, dropped and failed counts the driver publishes; it writes them to a
CSV, prints a summary, and draws the figure (SVG) that docs/RELIABILITY.md shows.

Standard library only, so that it runs on the Raspberry Pi the driver runs on. An INDI stream has no root element:
the parser is fed a synthetic one and reads the top-level messages as they end.
"""

import argparse
import base64
import csv
import gzip
import os
import random
import socket
import statistics
import sys
import threading
import time
import xml.etree.ElementTree as ET

DEVICE = "DSO Detector"
CAMERA = "CCD Simulator"
DETECTORS = ["NAIVE", "YOLO", "PIX2PIX", "XRAI"]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=7624)
    p.add_argument("--server-pid", type=int, required=True, help="indiserver's pid; the driver is its child")
    p.add_argument("--frames", required=True, help="folder of FITS frames, served by the simulator and uploaded")
    p.add_argument("--out", required=True, help="folder for soak.csv and soak.svg")
    p.add_argument("--seconds", type=float, default=7200.0)
    p.add_argument("--uploads-per-second", type=float, default=4.0)
    p.add_argument("--exposure", type=float, default=0.05, help="the simulator's exposure, s (it loops back to back)")
    p.add_argument("--switch-every", type=float, default=900.0, help="seconds between detector switches")
    p.add_argument("--settings-every", type=float, default=300.0, help="seconds between settings changes")
    p.add_argument("--corrupt-every", type=int, default=10, help="one upload in N is corrupt")
    p.add_argument("--sample-every", type=float, default=10.0)
    return p.parse_args()


def corrupt_files(good):
    """Uploads the driver must refuse without harm: what a broken camera, a full disk or a hostile client send."""
    cards = [good[i : i + 80] for i in range(0, 2880, 80)]
    huge = b"".join(b"NAXIS1  = %20d" % 9_999_999 + b" " * 50 if k.startswith(b"NAXIS1 ") else k for k in cards)
    return [
        ("truncated.fits", good[: len(good) // 3]),
        ("header-only.fits", good[:2880]),
        ("garbage.fits", random.Random(7).randbytes(200_000)),
        ("empty.fits", b""),
        ("huge-naxis.fits", huge + good[2880:20_000]),
        ("bomb.fits.gz", gzip.compress(bytes(64 << 20), 9)),
        ("not-a-jpeg.jpg", b"\xff\xd8\xff" + random.Random(8).randbytes(50_000)),
    ]


class Client:
    """One INDI client connection: a reader thread parsing what the server sends, a lock around writes."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.wlock = threading.Lock()
        self.state = threading.Lock()
        self.latencies = []  # LATENCY_MS of frames analysed since the last sample
        self.processed = self.dropped = 0
        self.results_alerts = self.upload_alerts = self.annotated = self.exposures_done = 0
        self.exposure_done = threading.Event()
        self.numbers = {}
        self.closed = False
        self._last_processed = 0
        threading.Thread(target=self._read, daemon=True).start()

    def send(self, xml):
        with self.wlock:
            self.sock.sendall(xml.encode() if isinstance(xml, str) else xml)

    def new_number(self, device, name, values):
        body = "".join(f'<oneNumber name="{k}">{v}</oneNumber>' for k, v in values.items())
        self.send(f'<newNumberVector device="{device}" name="{name}">{body}</newNumberVector>\n')

    def new_switch(self, device, name, values):
        body = "".join(f'<oneSwitch name="{k}">{v}</oneSwitch>' for k, v in values.items())
        self.send(f'<newSwitchVector device="{device}" name="{name}">{body}</newSwitchVector>\n')

    def new_text(self, device, name, values):
        body = "".join(f'<oneText name="{k}">{v}</oneText>' for k, v in values.items())
        self.send(f'<newTextVector device="{device}" name="{name}">{body}</newTextVector>\n')

    def upload(self, name, data):
        fmt = os.path.splitext(name)[1] if not name.endswith(".gz") else ".fits.gz"
        b64 = base64.b64encode(data)
        head = (
            f'<newBLOBVector device="{DEVICE}" name="DSO_IMAGE_UPLOAD">'
            f'<oneBLOB name="IMAGE" size="{len(data)}" format="{fmt}">'
        ).encode()
        self.send(head + b64 + b"</oneBLOB></newBLOBVector>\n")

    def _read(self):
        parser = ET.XMLPullParser(events=("start", "end"))
        parser.feed(b"<indi>")
        depth = 0
        try:
            while True:
                data = self.sock.recv(1 << 20)
                if not data:
                    break
                parser.feed(data)
                for event, el in parser.read_events():
                    if event == "start":
                        depth += 1
                        continue
                    depth -= 1
                    if depth == 1:
                        self._message(el)
                        el.clear()
        except (OSError, ET.ParseError) as e:
            print(f"soak: client stream ended: {e}", file=sys.stderr)
        self.closed = True

    def _message(self, el):
        device, name, state = el.get("device"), el.get("name"), el.get("state")
        if device == CAMERA and name == "CCD_EXPOSURE" and el.tag == "setNumberVector" and state in ("Ok", "Alert"):
            with self.state:
                self.exposures_done += 1
            self.exposure_done.set()
        if device != DEVICE:
            return
        with self.state:
            if name == "DSO_STATS" and el.tag in ("setNumberVector", "defNumberVector"):
                values = {c.get("name"): float(c.text) for c in el}
                processed = int(values.get("FRAMES_PROCESSED", 0))
                if processed > self._last_processed:
                    self.latencies.append(values.get("LATENCY_MS", 0.0))
                    self._last_processed = processed
                self.processed = processed
                self.dropped = int(values.get("FRAMES_DROPPED", 0))
            elif name == "DSO_RESULTS" and state == "Alert" and el.tag == "setTextVector":
                self.results_alerts += 1
            elif name == "DSO_IMAGE_UPLOAD" and state == "Alert":
                self.upload_alerts += 1
            elif name == "DSO_ANNOTATED" and el.tag == "setBLOBVector":
                self.annotated += 1
            elif el.tag.startswith(("set", "def")) and el.tag.endswith("NumberVector"):
                self.numbers[name] = {c.get("name"): c.text.strip() for c in el}

    def take_latencies(self):
        with self.state:
            out, self.latencies = self.latencies, []
        return out


def driver_pid(server_pid):
    """The driver: indiserver's child whose command is indi_dso_detector."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if ppid == server_pid and b"indi_dso_detector" in cmd:
            return int(pid)
    return None


def proc_figures(pid):
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            status[k] = v.split()
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return int(status["VmRSS"][0]) / 1024.0, int(status["VmHWM"][0]) / 1024.0, fds, int(status["Threads"][0])


def percentile(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main():
    a = parse_args()
    os.makedirs(a.out, exist_ok=True)
    frames = sorted(os.path.join(a.frames, f) for f in os.listdir(a.frames) if f.endswith(".fits"))
    if not frames:
        sys.exit(f"soak: no .fits frames in {a.frames}")
    good = [(os.path.basename(f), open(f, "rb").read()) for f in frames]
    bad = corrupt_files(good[0][1])
    pid = driver_pid(a.server_pid)
    if pid is None:
        sys.exit("soak: the driver is not running under the given indiserver")

    c = Client(a.port)
    c.send('<getProperties version="1.7"/>\n')
    time.sleep(1.0)
    c.new_switch(CAMERA, "CONNECTION", {"CONNECT": "On"})
    c.new_switch(DEVICE, "CONNECTION", {"CONNECT": "On"})
    time.sleep(2.0)
    # After the definitions (the pictures are defined on connection), as KStars does; the camera's stay Never.
    c.send(f'<enableBLOB device="{DEVICE}">Also</enableBLOB>\n')
    c.new_text(CAMERA, "CCD_DIRECTORY_LOCATION", {"LOCATION": os.path.abspath(a.frames)})
    c.new_switch(CAMERA, "CCD_DIRECTORY_TOGGLE", {"INDI_ENABLED": "On"})
    c.new_switch(DEVICE, "DSO_OUTPUTS", {"ANNOTATED_IMAGE": "On", "HEATMAP": "On"})
    c.new_switch(DEVICE, "DSO_IDENTIFY", {"PLATE_SOLVE": "Off"})
    c.new_switch(DEVICE, "DSO_DETECTOR", {DETECTORS[0]: "On"})
    time.sleep(1.0)

    start = time.monotonic()
    end = start + a.seconds
    stop = threading.Event()
    offered = {"camera": 0, "upload": 0, "corrupt": 0}
    log = []  # (t, event) for the summary
    current = {"detector": DETECTORS[0].lower()}

    def exposures():
        while not stop.is_set():
            c.exposure_done.clear()
            c.new_number(CAMERA, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": a.exposure})
            if c.exposure_done.wait(30.0):
                offered["camera"] += 1
            else:
                log.append((time.monotonic() - start, "exposure timed out"))

    def uploads():
        rng = random.Random(2026)
        n = 0
        while not stop.is_set():
            n += 1
            if n % a.corrupt_every == 0:
                name, data = bad[(n // a.corrupt_every) % len(bad)]
                offered["corrupt"] += 1
            else:
                name, data = good[rng.randrange(len(good))]
                offered["upload"] += 1
            c.upload(name, data)
            stop.wait(1.0 / a.uploads_per_second)

    def controls():
        rng = random.Random(7)
        k = 0
        next_switch, next_settings = start + a.switch_every, start + a.settings_every
        while not stop.wait(1.0):
            now = time.monotonic()
            if now >= next_switch:
                k += 1
                det = DETECTORS[k % len(DETECTORS)]
                c.new_switch(DEVICE, "DSO_DETECTOR", {det: "On"})
                current["detector"] = det.lower()
                log.append((now - start, f"detector {det.lower()}"))
                next_switch += a.switch_every
            if now >= next_settings:
                conf = rng.choice([0.1, 0.25, 0.5])
                size = rng.choice([512, 1024, 0])
                c.new_number(DEVICE, "DSO_SETTINGS", {"CONFIDENCE": conf, "PICTURE_SIZE": size})
                c.new_switch(DEVICE, "DSO_OUTPUTS", {"HEATMAP": rng.choice(["On", "Off"])})
                log.append((now - start, f"settings confidence {conf}, picture {size}"))
                next_settings += a.settings_every

    threads = [threading.Thread(target=f, daemon=True) for f in (exposures, uploads, controls)]
    for t in threads:
        t.start()

    path = os.path.join(a.out, "soak.csv")
    fields = [
        "t_s", "rss_mb", "hwm_mb", "fds", "threads", "offered", "processed", "dropped", "failed",
        "lat_p50_ms", "lat_p95_ms", "lat_max_ms", "annotated", "detector",
    ]
    rows = []
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(fields)
        while time.monotonic() < end and not c.closed:
            time.sleep(a.sample_every)
            try:
                rss, hwm, fds, nthreads = proc_figures(pid)
            except OSError:
                sys.exit(f"soak: the driver (pid {pid}) is gone after {time.monotonic() - start:.0f} s")
            lat = c.take_latencies()
            with c.state:
                row = [
                    round(time.monotonic() - start, 1), round(rss, 1), round(hwm, 1), fds, nthreads,
                    sum(offered.values()), c.processed, c.dropped, c.results_alerts + c.upload_alerts,
                    percentile(lat, 0.5), percentile(lat, 0.95), max(lat) if lat else float("nan"),
                    c.annotated, current["detector"],
                ]
            rows.append(row)
            w.writerow(row)
            f.flush()
    stop.set()
    time.sleep(2.0)
    summarise(rows, offered, c, log, a)
    draw(rows, os.path.join(a.out, "soak.svg"), log)
    print(f"soak: wrote {path} and {os.path.join(a.out, 'soak.svg')}")
    return 0 if not c.closed else 1


def summarise(rows, offered, c, log, a):
    if len(rows) < 4:
        print("soak: too short to summarise")
        return
    n = max(1, len(rows) // 12)  # first and last twelfth
    first, last = rows[:n], rows[-n:]

    def med(rs, i):
        return statistics.median(r[i] for r in rs)

    hours = rows[-1][0] / 3600.0
    total = sum(offered.values())
    analysed = c.processed
    print(f"soak: {hours:.2f} h, {total} frames offered (camera {offered['camera']}, uploads {offered['upload']}, "
          f"corrupt {offered['corrupt']}); analysed {analysed}, dropped {c.dropped}, refused/failed "
          f"{c.results_alerts + c.upload_alerts}; offered/analysed {total / max(1, analysed):.1f}×")
    print(f"soak: accounted {analysed + c.dropped + c.results_alerts + c.upload_alerts} of {total} "
          "(analysed + dropped + refused; a few may be in flight at the end)")
    for label, i in [("RSS MB", 1), ("descriptors", 3), ("threads", 4)]:
        print(f"soak: {label}: first {len(first)} samples median {med(first, i):.1f}, last {len(last)} median "
              f"{med(last, i):.1f}, max {max(r[i] for r in rows):.1f}")
    print(f"soak: peak RSS (VmHWM) {rows[-1][2]:.1f} MB")
    by_det = {}
    for r in rows:
        if r[9] == r[9]:
            by_det.setdefault(r[13], []).append(r)
    for det, rs in by_det.items():
        half = len(rs) // 2
        p50a = statistics.median(r[9] for r in rs[:half]) if half else float("nan")
        p50b = statistics.median(r[9] for r in rs[half:])
        print(f"soak: {det}: {len(rs)} samples, latency p50 first half {p50a:.0f} ms, second half {p50b:.0f} ms, "
              f"p95 max {max(r[10] for r in rs):.0f} ms")
    print(f"soak: {len(log)} control events; annotated images received {c.annotated}")


def draw(rows, path, log):
    """A small SVG: RSS, descriptors and threads, and latency p50/p95, against hours."""
    if not rows:
        return
    W, H, pad = 900, 520, 60
    t_max = max(r[0] for r in rows) or 1.0
    panels = [
        ("memory RSS (MB)", [(1, "#1f77b4", "RSS")]),
        ("descriptors, threads", [(3, "#2ca02c", "open fds"), (4, "#9467bd", "threads")]),
        ("latency (ms, log)", [(9, "#ff7f0e", "p50"), (10, "#d62728", "p95")]),
    ]
    ph = (H - 2 * pad) / len(panels)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" '
           'font-size="12"><rect width="100%" height="100%" fill="white"/>']
    import math

    for k, (title, series) in enumerate(panels):
        top = pad + k * ph
        bottom = top + ph - 25
        log_scale = "log" in title
        vals = [r[i] for i, _, _ in series for r in rows if r[i] == r[i] and r[i] > 0]
        if not vals:
            continue
        lo, hi = (math.log10(min(vals)), math.log10(max(vals))) if log_scale else (0.0, max(vals) * 1.15)
        if hi <= lo:
            hi = lo + 1.0

        def y(v):
            v = math.log10(v) if log_scale else v
            return bottom - (v - lo) / (hi - lo) * (bottom - top)

        out.append(f'<text x="{pad}" y="{top - 6}" font-weight="bold">{title}</text>')
        out.append(f'<line x1="{pad}" y1="{bottom}" x2="{W - pad}" y2="{bottom}" stroke="#888"/>')
        lo_label = f"{10 ** lo:.0f}" if log_scale else "0"
        hi_label = f"{10 ** hi:.0f}" if log_scale else f"{hi:.0f}"
        out.append(f'<text x="{pad - 6}" y="{bottom}" text-anchor="end">{lo_label}</text>')
        out.append(f'<text x="{pad - 6}" y="{top + 10}" text-anchor="end">{hi_label}</text>')
        for j, (i, colour, name) in enumerate(series):
            pts = " ".join(
                f"{pad + r[0] / t_max * (W - 2 * pad):.1f},{y(r[i]):.1f}" for r in rows if r[i] == r[i] and r[i] > 0
            )
            out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.2" points="{pts}"/>')
            out.append(f'<text x="{W - pad + 4}" y="{top + 14 + 14 * j}" fill="{colour}">{name}</text>')
    for h in range(int(t_max // 3600) + 1):
        x = pad + h * 3600 / t_max * (W - 2 * pad)
        out.append(f'<text x="{x:.0f}" y="{H - pad + 20}" text-anchor="middle">{h} h</text>')
    for t, ev in log:
        if ev.startswith("detector "):
            x = pad + t / t_max * (W - 2 * pad)
            out.append(f'<line x1="{x:.0f}" y1="{pad}" x2="{x:.0f}" y2="{H - pad}" stroke="#ccc" stroke-dasharray="3"/>')
            out.append(f'<text x="{x + 2:.0f}" y="{H - pad + 34}" font-size="10">{ev.split()[1]}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
