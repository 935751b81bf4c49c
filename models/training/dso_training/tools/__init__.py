# SPDX-License-Identifier: GPL-3.0-or-later
"""Measurements behind the docs and the Python baselines of the Rust benchmarks (driver/benches runs bench_*.py);
run by hand, never part of a model."""
