"""Smoke test of ``make bench``: a quick run writes both output files with every measurement and ratio.

It asserts no timing: the numbers of a quick run on a shared machine mean little.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, _postgres_answers

QUICK_SIZES = (2_000, 10_000)
QUICK_ROWS = 10_000
EXTRACT_CONTENDERS = ("fetch", "extract_sqlite", "extract_postgres", "http_operator", "pandas_script")


def expected_items() -> dict[str, int]:
    """Return every measurement key of a quick run with the rows (or DAGs) each must report."""
    expected = {f"{name}@{size}": size for size in QUICK_SIZES for name in EXTRACT_CONTENDERS}
    for key in ("payroll_prepare", "payroll_read_csv", "insert_copy", "insert_executemany"):
        expected[key] = QUICK_ROWS
    expected["parse:empty"] = 1
    for path in sorted((REPO_ROOT / "dags").glob("*.py")):
        expected[f"parse:{path.name}"] = 1
    return expected


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of one ``run_bench.py --quick --repeat 1`` run."""
    if not _postgres_answers():
        pytest.skip("No PostgreSQL server answers on 127.0.0.1:5432; the benchmark needs one.")
    out_dir = tmp_path_factory.mktemp("bench-out")
    command = [sys.executable, "bench/run_bench.py", "--quick", "--repeat", "1", "--out-dir", str(out_dir)]
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, f"{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    return out_dir


@pytest.mark.postgres
def test_quick_run_writes_every_measurement(quick_run: Path) -> None:
    results = json.loads((quick_run / "bench" / "results.json").read_text())
    measurements = results["measurements"]
    for key, items in expected_items().items():
        assert key in measurements, f"results.json lacks the measurement {key}"
        runs = measurements[key]["runs"]
        assert len(runs) == 1, f"{key} has {len(runs)} runs, expected 1 with --repeat 1"
        assert runs[0]["items"] == items, f"{key} handled {runs[0]['items']} items, expected {items}"
        assert runs[0]["seconds"] > 0
        assert runs[0]["peak_rss_kib"] >= runs[0]["rss_before_kib"] > 0


@pytest.mark.postgres
def test_quick_run_reports_every_ratio(quick_run: Path) -> None:
    results = json.loads((quick_run / "bench" / "results.json").read_text())
    markdown = (quick_run / "BENCHMARKS.md").read_text()
    dag_count = len(list((REPO_ROOT / "dags").glob("*.py")))
    # Per size and warehouse 3 time ratios, per warehouse 2 memory ratios, then inserts, payroll and the DAGs.
    assert len(results["ratios"]) == len(QUICK_SIZES) * 2 * 3 + 2 * 2 + 2 + dag_count
    for ratio in results["ratios"]:
        assert ratio["value"] > 0, ratio["name"]
        assert isinstance(ratio["met"], bool), ratio["name"]
        assert f"| {ratio['name']} |" in markdown, f"BENCHMARKS.md lacks the ratio {ratio['name']}"
    for heading in ("## Targets", "## Causes of missed targets", "## Medians", "## Machine and versions"):
        assert heading in markdown
    assert results["machine"]["versions"]["apache-airflow"] != "not installed"
