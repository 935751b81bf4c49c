#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Prepares the folder `train_all.sh` takes to a GPU machine that has no network and receives at most 64 MiB.

    python3 -m dso_training.gpu.prepare --dataset out/yolo-data --yolo out/yolo/runs/dso2/weights/best.pt --out .devdata
    python3 -m dso_training.gpu.prepare --dataset out/yolo-data --dataset out/yolo-data2 --quality 80 --no-saliency \
        --yolo out/gpu2/yolo_best.pt --out .devdata          # stage 5: two composite sets, YOLO only

- `cmp/`: the generator's composite patches (they need Debian's `stellarium-data`, which such a machine lacks) as
  320 px JPEGs, quality 88 by default — the YOLO training size, so nothing the detector sees is lost; labels copied.
  Several `--dataset`s are merged, the second one's files prefixed `d1_` and so on. The synthetic patches are
  regenerated there from the same seed.
- `yolo_start.pt`: the YOLO weights to continue from; optional `--classifier` → `cls_init.pt` (fp16, half the size).
- `whl/`: the wheels the machine lacks (ultralytics, ultralytics-thop, saliency), downloaded for CPython 3.12.
Add the folder to `.git/info/exclude`; name it in the device tool's `carry`.
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys

import cv2


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", required=True, action="append", help="generator output with composites (cmp_*.jpg)")
    ap.add_argument("--quality", type=int, default=88, help="JPEG quality of the 320 px copies")
    ap.add_argument("--no-saliency", action="store_true", help="YOLO only: leave out the saliency wheel")
    ap.add_argument("--yolo", required=True, help="YOLO weights to continue from")
    ap.add_argument("--classifier", default="", help="classifier checkpoint to continue from (optional)")
    ap.add_argument("--out", default=".devdata")
    args = ap.parse_args()
    for split in ("train", "val"):
        os.makedirs(f"{args.out}/cmp/images/{split}", exist_ok=True)
        os.makedirs(f"{args.out}/cmp/labels/{split}", exist_ok=True)
        for i, dataset in enumerate(args.dataset):
            prefix = f"d{i}_" if i else ""
            for f in sorted(glob.glob(f"{dataset}/images/{split}/cmp_*.jpg")):
                name = os.path.basename(f)
                img = cv2.resize(cv2.imread(f), (320, 320), interpolation=cv2.INTER_AREA)
                cv2.imwrite(f"{args.out}/cmp/images/{split}/{prefix}{name}", img,
                            [cv2.IMWRITE_JPEG_QUALITY, args.quality])
                shutil.copy(f"{dataset}/labels/{split}/{name[:-4]}.txt",
                            f"{args.out}/cmp/labels/{split}/{prefix}{name[:-4]}.txt")
    shutil.copy(args.yolo, f"{args.out}/yolo_start.pt")
    if args.classifier:
        import torch

        ck = torch.load(args.classifier, weights_only=True)
        ck["state_dict"] = {k: v.half() if v.is_floating_point() else v for k, v in ck["state_dict"].items()}
        torch.save(ck, f"{args.out}/cls_init.pt")
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--python-version",
                    "3.12", "--implementation", "cp", "--platform", "manylinux_2_17_x86_64", "-d", f"{args.out}/whl",
                    "ultralytics==8.4.190", "ultralytics-thop==2.2.3",
                    *([] if args.no_saliency else ["saliency==0.2.1"])], check=True)
    print(f"{args.out}: {sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(args.out) for f in fs) / 2**20:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
