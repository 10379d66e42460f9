"""ChartHopFindJobsOperator run by real Airflow (``dag.test()``) against the emulator and a warehouse."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3

import pytest
from airflow.dag_processing.dagbag import DagBag

from charthop.warehouse.roster import field_value
from tests.conftest import FAST_RETRY_EXTRAS, REPO_ROOT, charthop_connection, job_count

TABLE = "charthop_roster_snapshot"
JOB_PATH = "/v2/org/*/job"


@pytest.fixture(scope="module")
def test_dag():
    return DagBag(dag_folder=str(REPO_ROOT / "tests" / "dag_fixtures")).dags["charthop_test_extract"]


def run_dag(dag, capfd, *, logical_date: str, **conf) -> tuple[str, str]:
    """Run the test DAG once with ``conf``; return the run's state and everything it printed."""
    when = dt.datetime.fromisoformat(logical_date).replace(tzinfo=dt.timezone.utc)
    capfd.readouterr()
    dag_run = dag.test(logical_date=when, run_conf=conf)
    captured = capfd.readouterr()
    return str(dag_run.state), captured.out + captured.err


def sqlite_rows(path, snapshot_date: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            f"SELECT job_id, row_data, run_id FROM {TABLE} WHERE snapshot_date = ? ORDER BY job_id", (snapshot_date,)
        ).fetchall()


def checksum(rows: list[tuple]) -> str:
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


class TestFieldValue:
    @pytest.mark.parametrize(
        ("row", "code", "expected"),
        [
            ({"name.first": "Zoë"}, "name.first", "Zoë"),
            ({"name": {"first": "Zoë"}}, "name.first", "Zoë"),
            ({"name": {"first": "Zoë"}}, "name.last", None),
            ({"name": "Zoë Ruiz"}, "name.first", None),
        ],
        ids=["flat", "nested", "nested-missing", "scalar-parent"],
    )
    def test_reads_both_shapes(self, row, code, expected):
        assert field_value(row, code) == expected


@pytest.mark.usefixtures("airflow_db", "charthop_conn")
class TestExtractToSqlite:
    def test_loads_every_job_of_the_date(self, test_dag, emulator, sqlite_warehouse, capfd):
        state, _ = run_dag(test_dag, capfd, logical_date=emulator.today)
        assert state == "success"
        assert len(sqlite_rows(sqlite_warehouse, emulator.today)) == job_count(emulator, date=emulator.today)

    def test_logical_date_is_as_of_date(self, test_dag, emulator, sqlite_warehouse, capfd):
        past = (dt.date.fromisoformat(emulator.today) - dt.timedelta(days=900)).isoformat()
        state, _ = run_dag(test_dag, capfd, logical_date=past)
        assert state == "success"
        assert len(sqlite_rows(sqlite_warehouse, past)) == job_count(emulator, date=past)
        assert job_count(emulator, date=past) != job_count(emulator, date=emulator.today)

    def test_rerun_replaces_the_date(self, test_dag, emulator, sqlite_warehouse, capfd):
        run_dag(test_dag, capfd, logical_date=emulator.today)
        first = sqlite_rows(sqlite_warehouse, emulator.today)
        state, _ = run_dag(test_dag, capfd, logical_date=emulator.today)
        second = sqlite_rows(sqlite_warehouse, emulator.today)
        assert state == "success"
        assert [row[:2] for row in second] == [row[:2] for row in first]
        assert {row[2] for row in second} != {row[2] for row in first}

    def test_other_dates_are_kept(self, test_dag, emulator, sqlite_warehouse, capfd):
        past = (dt.date.fromisoformat(emulator.today) - dt.timedelta(days=30)).isoformat()
        run_dag(test_dag, capfd, logical_date=past)
        before = checksum(sqlite_rows(sqlite_warehouse, past))
        run_dag(test_dag, capfd, logical_date=emulator.today)
        assert checksum(sqlite_rows(sqlite_warehouse, past)) == before

    @pytest.mark.fault_cell(stage="extract", fault="400 on page 4 (SQLite warehouse kept)")
    def test_failure_mid_extract_keeps_rows(self, test_dag, emulator, sqlite_warehouse, capfd):
        run_dag(test_dag, capfd, logical_date=emulator.today)
        before = checksum(sqlite_rows(sqlite_warehouse, emulator.today))
        emulator.set_faults([{"kind": "status", "status": 400, "path": JOB_PATH, "after": 3}])
        state, output = run_dag(test_dag, capfd, logical_date=emulator.today)
        assert state == "failed"
        assert "ChartHopBadRequestError" in output
        assert checksum(sqlite_rows(sqlite_warehouse, emulator.today)) == before

    @pytest.mark.fault_cell(stage="extract", fault="503 twice inside an Airflow task", expect="recovers")
    def test_retries_inside_the_task(self, test_dag, emulator, sqlite_warehouse, capfd):
        emulator.set_faults([{"kind": "status", "status": 503, "path": JOB_PATH, "after": 2, "times": 2}])
        state, output = run_dag(test_dag, capfd, logical_date=emulator.today)
        assert state == "success"
        assert "Retrying in" in output

    def test_warns_on_field_empty_everywhere(self, test_dag, emulator, sqlite_warehouse, capfd, monkeypatch):
        emulator.add_token("no-comp-token", ["job.read"])
        monkeypatch.setenv(
            "AIRFLOW_CONN_CHARTHOP_TEST",
            charthop_connection(emulator.url, "no-comp-token", emulator.org_slug, **FAST_RETRY_EXTRAS),
        )
        state, output = run_dag(test_dag, capfd, logical_date=emulator.today)
        assert state == "success"
        assert "Field baseComp came back empty in all" in output

    def test_filter_and_fields_reach_chartHop(self, test_dag, emulator, sqlite_warehouse, capfd):
        state, _ = run_dag(
            test_dag, capfd, logical_date=emulator.today, q="open:filled", fields="name.first,contact.workEmail"
        )
        rows = sqlite_rows(sqlite_warehouse, emulator.today)
        assert state == "success"
        assert len(rows) == job_count(emulator, q="open:filled", date=emulator.today)
        assert set(json.loads(rows[0][1])) == {"jobId", "name.first", "contact.workEmail"}

    def test_names_round_trip_unchanged(self, test_dag, emulator, sqlite_warehouse, capfd):
        run_dag(test_dag, capfd, logical_date=emulator.today, q="open:filled", fields="name.first,name.last")
        names = {json.loads(row[1])["name.last"] for row in sqlite_rows(sqlite_warehouse, emulator.today)}
        assert any("'" in name for name in names)
        assert any(not name.isascii() for name in names)


@pytest.mark.usefixtures("airflow_db", "charthop_conn", "sqlite_warehouse")
class TestExtractErrors:
    @pytest.mark.parametrize(
        ("conf", "expected"),
        [
            ({"q": "title ~ boss"}, "Carrot syntax of 'q'"),
            ({"fields": "title,titel"}, "titel"),
        ],
        ids=["invalid-q", "unknown-field"],
    )
    def test_bad_query_fails_task(self, test_dag, emulator, capfd, conf, expected):
        state, output = run_dag(test_dag, capfd, logical_date=emulator.today, **conf)
        assert state == "failed"
        assert expected in output

    @pytest.mark.parametrize(
        ("connection", "expected"),
        [
            ({"org": "no-such-org"}, "Check the org id or slug 'no-such-org'"),
            ({"token": "revoked-token"}, "rejected the API token of connection 'charthop_test'"),
        ],
        ids=["unknown-org", "bad-token"],
    )
    def test_bad_connection_fails_task(self, test_dag, emulator, capfd, monkeypatch, connection, expected):
        settings = {"token": emulator.token, "org": emulator.org_slug, **connection}
        monkeypatch.setenv(
            "AIRFLOW_CONN_CHARTHOP_TEST",
            charthop_connection(emulator.url, settings["token"], settings["org"], **FAST_RETRY_EXTRAS),
        )
        state, output = run_dag(test_dag, capfd, logical_date=emulator.today)
        assert state == "failed"
        assert expected in output

    def test_token_absent_from_task_output(self, test_dag, emulator, capfd, airflow_db):
        emulator.set_faults([{"kind": "status", "status": 429, "retry_after": 0, "path": "/v2/org/*", "times": 1}])
        _, output = run_dag(test_dag, capfd, logical_date=emulator.today, q="((")
        task_logs = "".join(path.read_text(errors="replace") for path in (airflow_db / "logs").rglob("*.log"))
        assert "Retrying in" in output
        assert "ChartHopBadRequestError" in output
        assert emulator.token not in output
        assert emulator.token not in task_logs


@pytest.mark.postgres
@pytest.mark.usefixtures("airflow_db", "charthop_conn")
class TestExtractToPostgres:
    def rows(self, database: str, snapshot_date: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={database}") as conn:
            return conn.execute(
                f"SELECT job_id, row_data, run_id FROM {TABLE} WHERE snapshot_date = %s ORDER BY job_id",
                (snapshot_date,),
            ).fetchall()

    def test_loads_every_job_of_the_date(self, test_dag, emulator, postgres_warehouse, capfd):
        state, _ = run_dag(test_dag, capfd, logical_date=emulator.today)
        assert state == "success"
        assert len(self.rows(postgres_warehouse, emulator.today)) == job_count(emulator, date=emulator.today)

    @pytest.mark.fault_cell(stage="extract", fault="400 on page 4 (PostgreSQL warehouse kept)")
    def test_failure_mid_extract_keeps_rows(self, test_dag, emulator, postgres_warehouse, capfd):
        run_dag(test_dag, capfd, logical_date=emulator.today)
        before = checksum(self.rows(postgres_warehouse, emulator.today))
        emulator.set_faults([{"kind": "status", "status": 400, "path": JOB_PATH, "after": 3}])
        state, _ = run_dag(test_dag, capfd, logical_date=emulator.today)
        assert state == "failed"
        assert checksum(self.rows(postgres_warehouse, emulator.today)) == before


@pytest.mark.usefixtures("airflow_db", "charthop_conn")
class TestHistoryThroughAirflow:
    def history(self, path, prefix: str) -> list[tuple]:
        with sqlite3.connect(path) as conn:
            return conn.execute(
                f"SELECT job_id, valid_from, valid_to, is_current, row_hash FROM {prefix}_history ORDER BY 1, 2"
            ).fetchall()

    def test_out_of_order_dates_match_in_order(self, test_dag, emulator, sqlite_warehouse, capfd):
        today = dt.date.fromisoformat(emulator.today)
        dates = [(today - dt.timedelta(days=days)).isoformat() for days in (700, 350, 20)]
        fields = "title,open,personId,department.name"
        for date in dates:
            run_dag(test_dag, capfd, logical_date=date, table_prefix="in_order", fields=fields)
        for date in (dates[2], dates[0], dates[1]):
            run_dag(test_dag, capfd, logical_date=date, table_prefix="out_of_order", fields=fields)
        in_order = self.history(sqlite_warehouse, "in_order")
        out_of_order = self.history(sqlite_warehouse, "out_of_order")
        assert len(in_order) > len({row[0] for row in in_order})
        assert out_of_order == in_order


class TestPrefetched:
    def test_yields_every_item_in_order(self):
        from charthop.operators.jobs import prefetched

        assert list(prefetched(iter(range(50)))) == list(range(50))

    def test_producer_error_reaches_consumer(self):
        from charthop.operators.jobs import prefetched

        def broken():
            yield 1
            raise ValueError("page 2 failed")

        consumed = []
        with pytest.raises(ValueError, match="page 2 failed"):
            for item in prefetched(broken()):
                consumed.append(item)
        assert consumed == [1]

    def test_early_stop_ends_producer(self):
        import threading

        from charthop.operators.jobs import prefetched

        for item in prefetched(iter(range(1000))):
            if item == 3:
                break
        assert not any(thread.name == "charthop-prefetch" for thread in threading.enumerate())
