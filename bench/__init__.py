"""Benchmarks of the ChartHop provider, run by ``make bench`` (``python bench/run_bench.py``)."""
