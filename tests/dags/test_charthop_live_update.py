"""The charthop_live_update DAG run by real Airflow against the emulator and an SQLite warehouse."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from airflow.dag_processing.dagbag import DagBag

from tests.conftest import FAST_RETRY_EXTRAS, REPO_ROOT, charthop_connection


@pytest.fixture
def dags(emulator, monkeypatch, sqlite_warehouse, airflow_db):
    monkeypatch.setenv(
        "AIRFLOW_CONN_CHARTHOP_DEFAULT",
        charthop_connection(emulator.url, emulator.token, emulator.org_slug, **FAST_RETRY_EXTRAS),
    )
    return DagBag(dag_folder=str(REPO_ROOT / "dags")).dags


@pytest.fixture
def yesterday_loaded(dags, emulator) -> str:
    """Load yesterday's roster, so a live change today opens a new history version."""
    yesterday = dt.date.fromisoformat(emulator.today) - dt.timedelta(days=1)
    when = dt.datetime.combine(yesterday, dt.time(), tzinfo=dt.timezone.utc)
    assert dags["charthop_roster_snapshot"].test(logical_date=when).state == "success"
    return yesterday.isoformat()


def query(path, sql: str, *parameters) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, parameters).fetchall()


def live_update(dags, job_id: str):
    return dags["charthop_live_update"].test(run_conf={"job_id": job_id, "event_code": "change.create.update", "event_id": "e1"})


def a_filled_job(sqlite_warehouse) -> str:
    return query(sqlite_warehouse, "SELECT job_id FROM charthop_roster_current WHERE open = 'filled' AND manager IS NOT NULL LIMIT 1")[0][0]


class TestLiveUpdate:
    def test_edit_changes_current_row(self, dags, emulator, sqlite_warehouse, yesterday_loaded):
        job_id = a_filled_job(sqlite_warehouse)
        emulator.edit_job(job_id, title="Chief Vibes Officer")
        assert live_update(dags, job_id).state == "success"
        rows = query(sqlite_warehouse, "SELECT snapshot_date, title FROM charthop_roster_current WHERE job_id = ?", job_id)
        assert rows == [(emulator.today, "Chief Vibes Officer")]

    def test_other_jobs_carried_forward(self, dags, emulator, sqlite_warehouse, yesterday_loaded):
        job_id = a_filled_job(sqlite_warehouse)
        emulator.edit_job(job_id, title="Chief Vibes Officer")
        live_update(dags, job_id)
        (before,) = query(sqlite_warehouse, "SELECT COUNT(*) FROM charthop_roster_snapshot WHERE snapshot_date = ?", yesterday_loaded)
        (after,) = query(sqlite_warehouse, "SELECT COUNT(*) FROM charthop_roster_current")
        assert after == before

    def test_edit_closes_history_version(self, dags, emulator, sqlite_warehouse, yesterday_loaded):
        job_id = a_filled_job(sqlite_warehouse)
        emulator.edit_job(job_id, title="Chief Vibes Officer")
        live_update(dags, job_id)
        rows = query(sqlite_warehouse, "SELECT valid_from, valid_to, title FROM charthop_roster_history WHERE job_id = ? "
                     "ORDER BY valid_from", job_id)  # fmt: skip
        assert [row[:2] for row in rows] == [(yesterday_loaded, emulator.today), (emulator.today, None)]
        assert rows[1][2] == "Chief Vibes Officer"

    def test_departure_closes_person_version(self, dags, emulator, sqlite_warehouse, yesterday_loaded):
        job_id = a_filled_job(sqlite_warehouse)
        # The person leaves as of yesterday, so the job is open in the as-of-today read.
        emulator.edit_job(job_id, depart=True, date=yesterday_loaded)
        live_update(dags, job_id)
        rows = query(sqlite_warehouse, "SELECT valid_to, open FROM charthop_roster_history WHERE job_id = ? ORDER BY valid_from", job_id)
        assert rows == [(emulator.today, "filled"), (None, "open")]

    def test_unknown_job_removed(self, dags, emulator, sqlite_warehouse, yesterday_loaded):
        job_id = "ffffffffffffffffffffffff"
        assert live_update(dags, job_id).state == "success"
        assert query(sqlite_warehouse, "SELECT COUNT(*) FROM charthop_roster_current WHERE job_id = ?", job_id) == [(0,)]


class TestLiveUpdateFaults:
    @pytest.mark.fault_cell(stage="live update", fault="503 twice on getJob", expect="recovers")
    def test_recovers_from_503(self, dags, emulator, sqlite_warehouse, yesterday_loaded):
        job_id = a_filled_job(sqlite_warehouse)
        emulator.edit_job(job_id, title="Chief Vibes Officer")
        emulator.set_faults([{"kind": "status", "status": 503, "path": "/v2/org/*/job/*", "times": 2}])
        assert live_update(dags, job_id).state == "success"
        assert query(sqlite_warehouse, "SELECT title FROM charthop_roster_current WHERE job_id = ?", job_id) == [("Chief Vibes Officer",)]

    @pytest.mark.fault_cell(stage="live update", fault="401 bad token")
    def test_bad_token_leaves_tables(self, dags, emulator, sqlite_warehouse, yesterday_loaded, monkeypatch, capfd):
        job_id = a_filled_job(sqlite_warehouse)
        before = query(sqlite_warehouse, "SELECT * FROM charthop_roster_snapshot ORDER BY 1, 2")
        monkeypatch.setenv(
            "AIRFLOW_CONN_CHARTHOP_DEFAULT", charthop_connection(emulator.url, "revoked", emulator.org_slug, **FAST_RETRY_EXTRAS)
        )
        assert live_update(dags, job_id).state == "failed"
        assert "rejected the API token" in capfd.readouterr().out
        assert query(sqlite_warehouse, "SELECT * FROM charthop_roster_snapshot ORDER BY 1, 2") == before
