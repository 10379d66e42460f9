"""The charthop_roster_snapshot DAG run end to end with real Airflow, the emulator and SQLite."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from airflow.dag_processing.dagbag import DagBag

from tests.conftest import FAST_RETRY_EXTRAS, REPO_ROOT, charthop_connection, job_count


@pytest.fixture
def roster_dag(emulator, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_CHARTHOP_DEFAULT",
        charthop_connection(emulator.url, emulator.token, emulator.org_slug, **FAST_RETRY_EXTRAS),
    )
    return DagBag(dag_folder=str(REPO_ROOT / "dags")).dags["charthop_roster_snapshot"]


@pytest.mark.usefixtures("airflow_db")
class TestRosterSnapshotDag:
    def test_snapshot_matches_count_jobs(self, roster_dag, emulator, sqlite_warehouse):
        when = dt.datetime.fromisoformat(emulator.today).replace(tzinfo=dt.timezone.utc)
        dag_run = roster_dag.test(logical_date=when)
        with sqlite3.connect(sqlite_warehouse) as conn:
            (loaded,) = conn.execute(
                "SELECT COUNT(*) FROM charthop_roster_snapshot WHERE snapshot_date = ?", (emulator.today,)
            ).fetchone()
        assert dag_run.state == "success"
        assert loaded == job_count(emulator, date=emulator.today)

    def test_run_updates_roster_asset(self, roster_dag, emulator, sqlite_warehouse):
        from airflow.models.asset import AssetEvent, AssetModel
        from airflow.utils.session import create_session
        from sqlalchemy import func, select

        def events() -> int:
            with create_session() as session:
                return session.scalar(
                    select(func.count())
                    .select_from(AssetEvent)
                    .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
                    .where(AssetModel.name == "charthop_roster")
                )

        before = events()
        when = dt.datetime.fromisoformat(emulator.today).replace(tzinfo=dt.timezone.utc) - dt.timedelta(days=1)
        roster_dag.test(logical_date=when)
        assert events() == before + 1


@pytest.mark.usefixtures("airflow_db")
class TestRerunIsIdentical:
    @pytest.mark.fault_cell(stage="rerun", fault="same logical date run twice: identical tables", expect="recovers")
    def test_rerun_same_checksum(self, roster_dag, emulator, sqlite_warehouse):
        import hashlib
        import json

        def tables_checksum() -> str:
            with sqlite3.connect(sqlite_warehouse) as conn:
                snapshot = conn.execute(
                    "SELECT * FROM charthop_roster_snapshot ORDER BY snapshot_date, job_id"
                ).fetchall()
                names = [column[1] for column in conn.execute("PRAGMA table_info(charthop_roster_snapshot)")]
                history = conn.execute("SELECT * FROM charthop_roster_history ORDER BY job_id, valid_from").fetchall()
            # run_id and loaded_at name the run that wrote the row, so they differ by design.
            volatile = {names.index("run_id"), names.index("loaded_at")}
            stable = [[value for index, value in enumerate(row) if index not in volatile] for row in snapshot]
            return hashlib.sha256(json.dumps([stable, history], default=str).encode()).hexdigest()

        when = dt.datetime.fromisoformat(emulator.today).replace(tzinfo=dt.timezone.utc) - dt.timedelta(days=2)
        roster_dag.test(logical_date=when)
        first = tables_checksum()
        roster_dag.test(logical_date=when)
        assert tables_checksum() == first
