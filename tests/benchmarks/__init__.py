"""Benchmarks (not tests): ``python3 build.py bench [NAME ...]`` rewrites their sections of BENCHMARKS.md."""
