"""Benchmarks for the figures the issues name: each prints ratios against an anchor measured in
the same run, never absolute timings to assert on. Run with `./scripts/bench [NAME ...]`."""
