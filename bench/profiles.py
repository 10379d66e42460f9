"""Summaries of the evidence runs: where a cProfile run spent its time, and what a DAG file imports."""

from __future__ import annotations

import pstats
import re
from pathlib import Path
from typing import Any

#: Parts of the extract whose cumulative time the report lists: (label, file path suffix, function name).
#: An indented label is a part of the line above it.
EXTRACT_PARTS: tuple[tuple[str, str, str], ...] = (
    ("ChartHopHook.find_jobs (every page request and its checks)", "charthop/hooks/charthop.py", "find_jobs"),
    ("  ChartHopHook.request_json (retry loop, request preparation, status checks)", "charthop/hooks/charthop.py",
     "request_json"),
    ("    requests Session.send (HTTP round trip)", "requests/sessions.py", "send"),
    ("    Response.json (JSON decoding)", "requests/models.py", "json"),
    ("SnapshotLoad.write (per page)", "charthop/warehouse/roster.py", "write"),
    ("  row_hash", "charthop/warehouse/roster.py", "row_hash"),
    ("  SnapshotLoad._convert", "charthop/warehouse/roster.py", "_convert"),
    ("  Dialect.insert_rows", "charthop/warehouse/dialects.py", "insert_rows"),
    ("  json.dumps (row_data and row_hash)", "json/__init__.py", "dumps"),
    ("empty-field scan in execute", "charthop/operators/jobs.py", "<genexpr>"),
    ("SnapshotLoad.finish (manager check, history, view)", "charthop/warehouse/roster.py", "finish"),
    ("  SnapshotLoad._check_managers", "charthop/warehouse/roster.py", "_check_managers"),
    ("  SnapshotLoad._rebuild_history", "charthop/warehouse/roster.py", "_rebuild_history"),
    ("ChartHopHook.count_jobs", "charthop/hooks/charthop.py", "count_jobs"),
    ("commit (SQLite COMMIT or psycopg commit)", "psycopg/connection.py", "commit"),
)

#: Parts of the payroll preparation, as for ``EXTRACT_PARTS``.
PAYROLL_PARTS: tuple[tuple[str, str, str], ...] = (
    ("prepare_payroll_csv", "charthop/payroll/transform.py", "prepare_payroll_csv"),
    ("  PayrollCsvReader.rows (decode, csv, header check)", "charthop/payroll/source.py", "rows"),
    ("  _convert_row", "charthop/payroll/transform.py", "_convert_row"),
    ("    _convert_value", "charthop/payroll/transform.py", "_convert_value"),
    ("    parse_amount", "charthop/payroll/values.py", "parse_amount"),
    ("    parse_date", "charthop/payroll/values.py", "parse_date"),
    ("    parse_email", "charthop/payroll/values.py", "parse_email"),
    ("    clean_text", "charthop/payroll/values.py", "clean_text"),
    ("  match_key", "charthop/payroll/transform.py", "match_key"),
    ("diff_against_roster", "charthop/payroll/diff.py", "diff_against_roster"),
    ("write_import_csv", "charthop/payroll/writer.py", "write_import_csv"),
    ("  format_value", "charthop/payroll/writer.py", "format_value"),
)

_IMPORT_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s+)(\S+)\s*$")


def summarise_profile(path: Path, parts: tuple[tuple[str, str, str], ...], top: int = 15) -> dict[str, Any]:
    """Return the total time of a cProfile dump, the cumulative time of each of ``parts`` and the top functions.

    A part that matches several functions (two classes' ``insert_rows``) gets their sum.
    """
    stats = pstats.Stats(str(path))
    entries = stats.stats  # type: ignore[attr-defined]
    total = stats.total_tt  # type: ignore[attr-defined]
    breakdown = []
    for label, suffix, function in parts:
        seconds = sum(
            cumulative
            for (filename, _, name), (_, _, _, cumulative, _) in entries.items()
            if name == function and filename.replace("\\", "/").endswith(suffix)
        )
        breakdown.append({"part": label, "seconds": round(seconds, 3), "share": round(seconds / total, 3) if total else 0.0})
    by_own_time = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)[:top]
    top_functions = [
        {
            "function": f"{_short_path(filename)}:{line}({name})",
            "calls": calls,
            "own_seconds": round(own, 3),
            "cumulative_seconds": round(cumulative, 3),
        }
        for (filename, line, name), (_, calls, own, cumulative, _) in by_own_time
    ]
    return {"total_seconds": round(total, 3), "breakdown": breakdown, "top_own_time": top_functions}


def _short_path(filename: str) -> str:
    for marker in ("site-packages/", "plugins/", "lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def summarise_importtime(stderr_text: str, marker: str, top: int = 8) -> dict[str, Any]:
    """Return the imports that ``python -X importtime`` logged after ``marker``: their count, their total
    cumulative time and the outermost ones, slowest first, in milliseconds."""
    _, _, timed = stderr_text.partition(marker)
    entries = []
    for line in timed.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            own_us, cumulative_us, indent, module = match.groups()
            entries.append({"module": module, "depth": len(indent) // 2, "cumulative_ms": int(cumulative_us) / 1000})
    if not entries:
        return {"modules": 0, "outermost_ms": 0.0, "outermost": []}
    outer_depth = min(entry["depth"] for entry in entries)
    outermost = [entry for entry in entries if entry["depth"] == outer_depth]
    outermost.sort(key=lambda entry: entry["cumulative_ms"], reverse=True)
    return {
        "modules": len(entries),
        "outermost_ms": round(sum(entry["cumulative_ms"] for entry in outermost), 1),
        "outermost": [{"module": e["module"], "cumulative_ms": round(e["cumulative_ms"], 1)} for e in outermost[:top]],
    }
