#!/usr/bin/env bash
# A short run of every fuzz target (default 30 s each), from the committed seeds: what CI can afford, and the way to
# start a longer campaign (FUZZ_SECONDS=3600 fuzz/smoke.sh). Needs the nightly toolchain and cargo-fuzz
# (`cargo install cargo-fuzz`). New inputs go to fuzz/corpus/<target> (not committed), crashes to
# fuzz/artifacts/<target>; the script fails when a target finds one. Prints libFuzzer's final statistics.
# Leak detection is off: the decoders run row bands on scoped threads, and LeakSanitizer can catch such a thread
# between reporting its result and glibc freeing its TLS-destructor list (64 bytes from __cxa_thread_atexit_impl,
# not reproducible by rerunning the input; docs/RELIABILITY.md). AddressSanitizer's memory errors stay on.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
seconds="${FUZZ_SECONDS:-30}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(indi_stream fits_decode config_files device_messages plugin_results)
[ -d seeds/fits_decode ] || python3 seeds.py
cargo +nightly fuzz build -O >/dev/null
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    echo "== $t: ${seconds} s"
    cargo +nightly fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 -detect_leaks=0 -print_final_stats=1 2>&1 |
        grep -E '^(stat::|#[0-9]+[[:space:]]+DONE|Done|==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' || true
    if compgen -G "artifacts/$t/*" >/dev/null; then
        echo "$t: crash found, see fuzz/artifacts/$t" >&2
        exit 1
    fi
done
