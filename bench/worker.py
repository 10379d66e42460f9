"""Run one workload in this (fresh) process and write its measurements as JSON.

Usage: ``python -m bench.worker --workload NAME --params JSON --result PATH [--profile PATH]
[--tracemalloc PATH]``.
``run_bench.py`` starts one process per measurement, so ``ru_maxrss`` is the peak of that workload alone.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import resource
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

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
    parser.add_argument("--tracemalloc", type=Path,
                        help="trace Python allocations in the timed part and write the largest at the peak here (JSON)")
    return parser.parse_args(argv)


class PeakSnapshots:
    """Takes a tracemalloc snapshot whenever traced memory reaches a new high, from a background thread.

    Polling can miss a short spike, so the snapshot is of the highest level seen, not always the exact peak.
    """

    def __init__(self, interval: float = 0.2, margin_bytes: int = 2 * 1024 * 1024) -> None:
        self.interval = interval
        self.margin_bytes = margin_bytes
        self.best_bytes = 0
        self.best: tracemalloc.Snapshot | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> PeakSnapshots:
        tracemalloc.start(1)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            current = tracemalloc.get_traced_memory()[0]
            if current > self.best_bytes + self.margin_bytes:
                self.best = tracemalloc.take_snapshot()
                self.best_bytes = current

    def summary(self, top: int = 12) -> dict[str, Any]:
        """Return the traced peak and the source lines holding the most memory in the highest snapshot."""
        stats = self.best.statistics("lineno")[:top] if self.best else []
        return {
            "traced_peak_mib": round(self.peak_bytes / 1024 / 1024, 1),
            "snapshot_mib": round(self.best_bytes / 1024 / 1024, 1),
            "top_lines": [
                {"line": f"{stat.traceback[0].filename}:{stat.traceback[0].lineno}",
                 "mib": round(stat.size / 1024 / 1024, 2), "blocks": stat.count}
                for stat in stats
            ],
        }


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
    if args.tracemalloc:
        with PeakSnapshots() as snapshots:
            items = run()
        args.tracemalloc.write_text(json.dumps(snapshots.summary()))
    else:
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
