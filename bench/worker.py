"""Run one workload in this (fresh) process and write its measurements as JSON.

Usage: ``python -m bench.worker --workload NAME --params JSON --result PATH [--profile PATH]``.
``run_bench.py`` starts one process per measurement, so ``ru_maxrss`` is the peak of that workload alone.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import resource
import sys
import time
from pathlib import Path

from bench.workloads import WORKLOADS

#: Written to stderr just before the clock starts, so ``-X importtime`` output can be split into the
#: set-up's imports and the timed part's.
TIMED_MARKER = "bench: timed section starts"


def peak_rss_kib() -> int:
    """Return this process's peak resident set size in KiB (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True, choices=sorted(WORKLOADS), help="workload to run")
    parser.add_argument("--params", required=True, help="the workload's parameters, a JSON object")
    parser.add_argument("--result", required=True, type=Path, help="JSON file the measurements are written to")
    parser.add_argument("--profile", type=Path, help="run the timed part under cProfile and dump its stats here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    prepared = WORKLOADS[args.workload](json.loads(args.params))
    run, verify = prepared if isinstance(prepared, tuple) else (prepared, None)
    gc.collect()
    rss_before = peak_rss_kib()
    profiler = cProfile.Profile() if args.profile else None
    print(TIMED_MARKER, file=sys.stderr, flush=True)

    cpu_started = time.process_time()
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    items = run()
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    peak = peak_rss_kib()

    if verify:
        items = verify(items)
    if profiler:
        profiler.dump_stats(str(args.profile))
    result = {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "rss_before_kib": rss_before,
        "peak_rss_kib": peak,
        "items": items,
    }
    args.result.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
