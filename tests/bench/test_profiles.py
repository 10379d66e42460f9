"""Unit tests of the evidence summaries in ``bench.profiles``."""

from __future__ import annotations

from bench.profiles import summarise_importtime

MARKER = "bench: timed section starts"
IMPORTTIME_OUTPUT = f"""import time: self [us] | cumulative | imported package
import time:       500 |        500 | airflow.sdk
{MARKER}
import time:       100 |        100 |     requests.compat
import time:       300 |        400 |   requests
import time:        50 |         50 |   charthop.exceptions
import time:      1000 |       1450 | charthop.operators.jobs
import time:        20 |         20 | charthop.assets
"""


def test_importtime_ignores_setup_imports() -> None:
    summary = summarise_importtime(IMPORTTIME_OUTPUT, MARKER)
    assert summary["modules"] == 5


def test_importtime_lists_outermost_slowest_first() -> None:
    summary = summarise_importtime(IMPORTTIME_OUTPUT, MARKER)
    assert [item["module"] for item in summary["outermost"]] == ["charthop.operators.jobs", "charthop.assets"]
    assert summary["outermost_ms"] == 1.5


def test_importtime_without_marker_is_empty() -> None:
    summary = summarise_importtime("import time:       500 |        500 | airflow.sdk\n", MARKER)
    assert summary["modules"] == 0
