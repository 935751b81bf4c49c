#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Trains every DSO Detector model in one pass on a CUDA machine with no network (run by hand, never in CI):
#   1. synthetic training patches from the project's generator (all cores);
#   2. in the background: classifier patches -> DSO/no-DSO classifier -> XRAI teacher maps -> Pix2Pix generator;
#   3. in the foreground, sharing the GPU: the YOLO detector, continued from given weights.
# Run from the repository root: bash models/training/dso_training/gpu/train_all.sh (it puts models/training on
# PYTHONPATH itself).
# Inputs (python3 -m dso_training.gpu.prepare makes them): $DATA/cmp (composite patches, generator layout, any size), $DATA/whl (wheels
# of ultralytics, ultralytics-thop and saliency when the machine lacks them), $DATA/yolo_start.pt (YOLO weights to
# continue from), optional $CLS_INIT (classifier weights to continue from) and $CLS_LR. Budgets in seconds: YOLO_S, CLS_S, TEACH_S, P2P_S; sizes: SYN (synthetic patches, generator seed SYN_SEED).
# CHAIN=0 trains YOLO only (no classifier, teacher maps or Pix2Pix).
# Outputs in $RESULTS: yolo_best.pt, yolo_results.csv, dso_classifier.pt, pix2pix.pt, teacher_sample.npz, log.
# Local export afterwards: python3 -m dso_training.yolo.export, dso_training.classifier.export, dso_training.pix2pix.export.
set -u
DATA=${DATA:-.devdata}
RESULTS=${RESULTS:-out/gpu}
WORK=${WORK:-/tmp/dso-train}
SYN=${SYN:-3000}
SYN_SEED=${SYN_SEED:-1}
YOLO_S=${YOLO_S:-330}
CLS_S=${CLS_S:-70}
TEACH_S=${TEACH_S:-90}
P2P_S=${P2P_S:-110}
CPUS=$(nproc)
POOL=$(( CPUS > 3 ? CPUS - 2 : 1 ))
DEVICE=${DEVICE:-0}
export PYTHONUNBUFFERED=1
mkdir -p "$RESULTS" "$WORK"
log() { echo "[$(date +%T) +$(( $(date +%s) - T0 ))s] $*"; }
T0=$(date +%s)

if ls "$DATA"/whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$WORK/site" "$DATA"/whl/*.whl
    export PYTHONPATH="$WORK/site${PYTHONPATH:+:$PYTHONPATH}"
fi
if ! python3 -c "import polars" 2>/dev/null; then
    # ultralytics imports polars only to read back its own results.csv; a csv-module stand-in does that
    mkdir -p "$WORK/stub/polars"
    cat > "$WORK/stub/polars/__init__.py" <<'PY'
import csv, io
class _Frame:
    def __init__(self, rows): self.rows = rows
    def to_dict(self, as_series=False):
        keys = self.rows[0].keys() if self.rows else []
        return {k: [_num(r[k]) for r in self.rows] for k in keys}
def _num(v):
    try: return float(v)
    except ValueError: return v
def read_csv(data, **_):
    text = data.decode() if isinstance(data, bytes) else open(data).read()
    return _Frame([{k.strip(): v for k, v in r.items()} for r in csv.DictReader(io.StringIO(text))])
PY
    export PYTHONPATH="$WORK/stub:${PYTHONPATH:-}"
fi
export PYTHONPATH="$PWD/models/training:${PYTHONPATH:-}"
log "python $(python3 -c 'import torch; print(torch.__version__, torch.cuda.is_available())'), $CPUS cpus"

log "generating $SYN synthetic patches"
python3 -m dso_training.datagen --out "$WORK/syn" --seed "$SYN_SEED" --synthetic "$SYN" --composite 0 --size 640 \
    --stretch-target 0.12:0.35 --workers "$CPUS" 2>&1 | tail -3

cat > "$WORK/data.yaml" <<YAML
train: [$WORK/syn/images/train, $PWD/$DATA/cmp/images/train]
val: [$WORK/syn/images/val, $PWD/$DATA/cmp/images/val]
nc: 3
names: {0: galaxy, 1: nebula, 2: cluster}
YAML

if [ "${CHAIN:-1}" = 0 ]; then
    CHAIN=""
else
(
    set -e
    log "classifier patches"
    python3 -m dso_training.classifier.patches --dataset "$WORK/syn" --dataset "$DATA/cmp" --out "$WORK/cls"
    log "classifier training (${CLS_S} s)"
    python3 -m dso_training.classifier.train --data "$WORK/cls" --out "$RESULTS/dso_classifier.pt" --epochs 100000 \
        --seconds "$CLS_S" --batch 256 \
        ${CLS_INIT:+--init "$CLS_INIT"} ${CLS_LR:+--lr "$CLS_LR"} 2>&1 | grep -v Warning
    log "XRAI teacher maps (${TEACH_S} s)"
    python3 -m dso_training.pix2pix.teacher --classifier "$RESULTS/dso_classifier.pt" --patches "$WORK/cls/val.npz" \
        --count "${TEACH_VAL:-300}" --out "$WORK/teach_val.npz" --workers "$POOL"
    python3 -m dso_training.pix2pix.teacher --classifier "$RESULTS/dso_classifier.pt" --patches "$WORK/cls/train.npz" \
        --out "$WORK/teach_train.npz" --seconds "$TEACH_S" --workers "$POOL"
    python3 - "$WORK/teach_val.npz" "$RESULTS/teacher_sample.npz" <<'PY'
import sys, numpy as np
d = np.load(sys.argv[1]); k = min(24, len(d["y"]))
np.savez_compressed(sys.argv[2], x=d["x"][:k], map=d["map"][:k].astype(np.float16), y=d["y"][:k], p=d["p"][:k],
                    steps=d["steps"])
PY
    log "Pix2Pix training (${P2P_S} s)"
    python3 -m dso_training.pix2pix.train --train "$WORK/teach_train.npz" --val "$WORK/teach_val.npz" \
        --out "$RESULTS/pix2pix.pt" --epochs 100000 --seconds "$P2P_S" --batch 32
    log "background chain done"
) > "$RESULTS/chain.log" 2>&1 &
CHAIN=$!
fi

log "YOLO training (${YOLO_S} s)"
python3 -m dso_training.yolo.train --data "$WORK/data.yaml" --weights "$DATA/yolo_start.pt" --model yolov8n.yaml \
    --name gpu --project "$WORK/yolo" --imgsz 320 --batch 64 --epochs 400 --hours "$(python3 -c "print($YOLO_S/3600)")" \
    --device "$DEVICE" --workers 8 2>&1 | grep -E -v "^\s*$|it/s\]|s/it\]" | tail -40
cp "$WORK/yolo/gpu/weights/best.pt" "$RESULTS/yolo_best.pt" 2>/dev/null
cp "$WORK/yolo/gpu/results.csv" "$RESULTS/yolo_results.csv" 2>/dev/null
if [ -n "$CHAIN" ]; then
    log "YOLO done; waiting for the background chain"
    wait $CHAIN
    log "chain exit $?"
    cat "$RESULTS/chain.log"
fi
ls -la "$RESULTS"
