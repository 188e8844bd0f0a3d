"""Benchmarks: load on 127.0.0.1 only, bounded in time; figures are ratios measured in one run."""
