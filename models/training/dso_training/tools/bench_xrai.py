#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Python baseline for `cargo bench -p dso-detector --bench heatmaps`: XRAI by Google PAIR's `saliency` 0.2.1 (the
reference implementation) on one 224×224 patch, its gradients from the same ONNX gradient graph through onnxruntime.

    python3 -m dso_training.tools.bench_xrai GRAD_ONNX INPUT_NPY STEPS ROUNDS

Prints the median seconds of one whole XRAI (IG with `STEPS` per baseline, Felzenszwalb segmentation, ranking) and
the median seconds of its segmentation alone. Two ONNX Runtime threads, as the Rust side uses.
"""
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort
import saliency.core as saliency


def main() -> int:
    grad_path, input_path, steps, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    x = np.load(input_path).astype(np.float32)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(grad_path, so, providers=["CPUExecutionProvider"])
    onehot = np.array([[0, 1]], np.float32)

    def call_model(xb, call_model_args=None, expected_keys=None):
        xb = np.asarray(xb, np.float32).transpose(0, 3, 1, 2)
        grads = [sess.run(["grad"], {"input": xi[None], "onehot": onehot})[0] for xi in xb]
        return {saliency.INPUT_OUTPUT_GRADIENTS: np.concatenate(grads).transpose(0, 2, 3, 1)}

    xrai = saliency.XRAI()
    params = saliency.XRAIParameters(steps=steps)
    whole, seg = [], []
    for _ in range(rounds + 1):  # the first round warms up
        t = time.perf_counter()
        xrai.GetMask(x, call_model, batch_size=1, extra_parameters=params)
        whole.append(time.perf_counter() - t)
        t = time.perf_counter()
        saliency.xrai._get_segments_felzenszwalb(x)
        seg.append(time.perf_counter() - t)
    print(f"{statistics.median(whole[1:]):.4f} {statistics.median(seg[1:]):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
