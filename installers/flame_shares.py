"""Where a profiled frame's CPU time went, from `inferno-collapse-perf` stacks: the share of CPU time (perf's sample
weights) whose stack matches each stage's pattern, the stack written `thread;outer;...;inner` (a sample counts once
per stage; stages nest and overlap, so the column does not add up to 100 %).
Used by installers/flamegraphs.sh; `python3 installers/flame_shares.py out/flame/*.folded`."""

import re
import sys

# (stage, pattern searched in the whole stack), in pipeline order.
STAGES = [
    ("INDI stream read and framed (reader thread)", r"^indi-reader;"),
    ("message parsed, base64 decoded", r"Decoder::next_message;"),
    ("FITS decoded to f32", r"dso_models::decode::"),
    ("detector, on its thread and the threads it starts", r"as dso_plugin_api::Detector>::detect;"),
    ("ONNX Runtime, all threads", r"libonnxruntime"),
    ("model input prepared (YOLO letterbox; heat-map tiles)", r"yolo::preprocess::|heatmap::tiles::"),
    ("heat map stitched, thresholded to boxes", r"heatmap::(stitch|boxes)::"),
    ("naive: star removal", r"naive::starless::remove_stars;"),
    ("naive: edges, regions, boxes", r"NaiveDetector.*(ops::canny::|naive::regions::|region_labelling)"),
    ("XRAI: segmentation, region ranking, baselines", r"xrai::(felzenszwalb|segments|rank|gaussian|resize)"),
    ("quality measures", r"dso_models::quality::"),
    ("annotated picture: binning, display stretch, drawing", r"annotate::(binned|Preview::of|display|draw|heat)"),
    ("annotated picture: JPEG encoding", r"jpeg_encoder::"),
    ("results published (encode, base64, write)", r"indi::encode::"),
    ("kernel: page faults", r";asm_exc_page_fault;"),
]


def shares(path):
    total = 0
    counts = [0] * len(STAGES)
    with open(path) as f:
        for line in f:
            stack, _, n = line.rstrip("\n").rpartition(" ")
            n = int(n)
            total += n
            for i, (_, pattern) in enumerate(STAGES):
                if re.search(pattern, stack + ";"):
                    counts[i] += n
    return total, counts


def main():
    for path in sys.argv[1:]:
        total, counts = shares(path)
        print(f"{path}: {total:,} (sum of sample weights, CPU cycles)")
        for (stage, _), n in zip(STAGES, counts):
            if n:
                print(f"  {100 * n / total:5.1f} %  {stage}")


if __name__ == "__main__":
    main()
