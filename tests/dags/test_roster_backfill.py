"""Backfill of charthop_roster_snapshot through ``airflow backfill create`` and real Airflow services.

The services run the DAG against the ChartHop emulator and a SQLite warehouse file. Each backfilled
date must hold exactly as many rows as countJobs returns as of that date.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import FAST_RETRY_EXTRAS, charthop_connection, job_count
from tests.plugins.airflow_services import AirflowServices, AirflowServicesError, AirflowServicesFactory

pytestmark = pytest.mark.airflow_services

DAG_ID = "charthop_roster_snapshot"
RUN_TIMEOUT_SECONDS = 180
#: One backfill per entry: (from, to) as days before the emulator's today, both ends included.
BACKFILL_RANGES = ((120, 120), (4, 3))
BACKFILL_OFFSETS = tuple(sorted({days for pair in BACKFILL_RANGES for days in range(pair[1], pair[0] + 1)}))


@dataclass
class BackfillResult:
    """The warehouse and every run of the DAG after the backfills."""

    warehouse: Path
    today: dt.date
    runs: list[dict]

    def date(self, days_before_today: int) -> str:
        return (self.today - dt.timedelta(days=days_before_today)).isoformat()

    def runs_on(self, snapshot_date: str) -> list[dict]:
        return [run for run in self.runs if (run["logical_date"] or "").startswith(snapshot_date)]


@pytest.fixture(scope="class")
def backfilled(
    airflow_services_factory: AirflowServicesFactory, emulator_process, tmp_path_factory: pytest.TempPathFactory
) -> BackfillResult:
    """Run each backfill of BACKFILL_RANGES through the CLI, one after the other, and wait for its runs."""
    emulator_process.reset()
    warehouse = tmp_path_factory.mktemp("backfill-warehouse") / "warehouse.db"
    services = airflow_services_factory(
        {
            "AIRFLOW_CONN_CHARTHOP_DEFAULT": charthop_connection(
                emulator_process.url, emulator_process.token, emulator_process.org_slug, **FAST_RETRY_EXTRAS
            ),
            "AIRFLOW_CONN_CHARTHOP_WAREHOUSE": json.dumps({"conn_type": "sqlite", "host": str(warehouse)}),
        }
    )
    services.unpause(DAG_ID)
    # Unpausing creates the run of the latest schedule (catchup is off); it finishes before the
    # backfills start, so the counts below come from the backfill runs alone.
    scheduled = _wait_for_scheduled_run(services)
    services.wait_for_run(DAG_ID, scheduled["dag_run_id"], timeout=RUN_TIMEOUT_SECONDS, fail_on_retry=True)

    today = dt.date.fromisoformat(emulator_process.today)
    for index, (first, last) in enumerate(BACKFILL_RANGES):
        from_date = (today - dt.timedelta(days=first)).isoformat()
        to_date = (today - dt.timedelta(days=last)).isoformat()
        # Backfill runs ignore the DAG's max_active_runs=1 (Airflow 3.3) and run their dates at once;
        # the roster loader serialises their loads with a lock.
        services.cli("backfill", "create", "--dag-id", DAG_ID, "--from-date", from_date, "--to-date", to_date)
        for run in _backfill_runs(services):
            services.wait_for_run(DAG_ID, run["dag_run_id"], timeout=RUN_TIMEOUT_SECONDS, fail_on_retry=True)
        if index < len(BACKFILL_RANGES) - 1:
            # A DAG may have one open backfill at a time, so the next create fails until this one completes.
            services.wait_for_backfills(DAG_ID)

    return BackfillResult(warehouse, today, services.list_runs(DAG_ID))


def _wait_for_scheduled_run(services: AirflowServices, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        scheduled = [run for run in services.list_runs(DAG_ID) if run["run_type"] == "scheduled"]
        if scheduled:
            return scheduled[0]
        time.sleep(0.5)
    raise AirflowServicesError(
        f"Timed out after {timeout} s waiting for a scheduled run of {DAG_ID} after unpausing it"
    )


def _backfill_runs(services: AirflowServices) -> list[dict]:
    return [run for run in services.list_runs(DAG_ID) if run["run_type"] == "backfill"]


def _rows_for(warehouse: Path, snapshot_date: str) -> int:
    with sqlite3.connect(warehouse) as conn:
        (rows,) = conn.execute(
            "SELECT COUNT(*) FROM charthop_roster_snapshot WHERE snapshot_date = ?", (snapshot_date,)
        ).fetchone()
    return rows


class TestRosterBackfill:
    @pytest.mark.parametrize("days_before_today", BACKFILL_OFFSETS)
    def test_one_run_per_date(self, backfilled: BackfillResult, days_before_today: int):
        assert len(backfilled.runs_on(backfilled.date(days_before_today))) == 1, backfilled.runs

    @pytest.mark.parametrize("days_before_today", BACKFILL_OFFSETS)
    def test_run_is_backfill_run(self, backfilled: BackfillResult, days_before_today: int):
        (run,) = backfilled.runs_on(backfilled.date(days_before_today))
        assert run["run_type"] == "backfill", run
        assert run["dag_run_id"].startswith("backfill__"), run

    @pytest.mark.parametrize("days_before_today", BACKFILL_OFFSETS)
    def test_run_succeeds(self, backfilled: BackfillResult, days_before_today: int):
        (run,) = backfilled.runs_on(backfilled.date(days_before_today))
        assert run["state"] == "success", run

    @pytest.mark.parametrize("days_before_today", BACKFILL_OFFSETS)
    def test_rows_match_count_jobs(self, backfilled: BackfillResult, emulator, days_before_today: int):
        snapshot_date = backfilled.date(days_before_today)
        assert _rows_for(backfilled.warehouse, snapshot_date) == job_count(emulator, date=snapshot_date)
