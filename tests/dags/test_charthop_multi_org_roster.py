"""The charthop_multi_org_roster DAG: one mapped extract per org, with failures isolated per org."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag

from charthop.exceptions import ChartHopConfigError
from dags.charthop_multi_org_roster import parse_org_conn_ids, table_prefix_for
from tests.conftest import FAST_RETRY_EXTRAS, REPO_ROOT, charthop_connection, job_count

DAG_ID = "charthop_multi_org_roster"
GOOD_CONN_ID = "charthop_good"
BAD_CONN_ID = "charthop_bad"
UNKNOWN_ORG = "no-such-org"


@pytest.fixture(scope="module")
def multi_org_dag():
    # Parsed once, before any test sets the Variable: the org list must come from the run, not the parse.
    return DagBag(dag_folder=str(REPO_ROOT / "dags")).dags[DAG_ID]


@dataclass
class MultiOrgRun:
    """One finished run of the DAG with a good and a bad org, and what it left behind."""

    state: str
    task_states: dict[str, str]
    output: str
    warehouse: Path
    today: str
    expected_rows: int


@pytest.fixture(scope="class")
def two_org_run(multi_org_dag, emulator_process, airflow_db, tmp_path_factory) -> MultiOrgRun:
    emulator_process.reset()
    warehouse = tmp_path_factory.mktemp("multi-org") / "warehouse.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_CHARTHOP_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(warehouse)}))
        for conn_id, org in ((GOOD_CONN_ID, emulator_process.org_slug), (BAD_CONN_ID, UNKNOWN_ORG)):
            patch.setenv(
                f"AIRFLOW_CONN_{conn_id.upper()}",
                charthop_connection(emulator_process.url, emulator_process.token, org, **FAST_RETRY_EXTRAS),
            )
        # The bad org comes first, so the good one runs after a failure.
        patch.setenv("AIRFLOW_VAR_CHARTHOP_ORG_CONN_IDS", json.dumps([BAD_CONN_ID, GOOD_CONN_ID]))
        when = dt.datetime.fromisoformat(emulator_process.today).replace(tzinfo=dt.timezone.utc)
        # dag.test() writes the task logs, errors included, to stdout.
        with contextlib.redirect_stdout(io.StringIO()) as stdout:
            dag_run = multi_org_dag.test(logical_date=when)
        output = stdout.getvalue()
    task_states = {
        ti.rendered_map_index or ti.task_id: ti.state for ti in dag_run.get_task_instances()
    }
    return MultiOrgRun(
        state=dag_run.state,
        task_states=task_states,
        output=output,
        warehouse=warehouse,
        today=emulator_process.today,
        expected_rows=job_count(emulator_process, date=emulator_process.today),
    )


class TestTablePrefix:
    def test_plain_id_appended(self):
        assert table_prefix_for("charthop_acme") == "charthop_roster_charthop_acme"

    def test_other_characters_replaced(self):
        assert table_prefix_for("ChartHop-Acme.EU") == "charthop_roster_charthop_acme_eu"

    def test_long_id_fits_warehouse(self):
        assert len(table_prefix_for("charthop_" + "x" * 80)) == 41

    def test_long_ids_stay_distinct(self):
        assert table_prefix_for("charthop_" + "x" * 40 + "1") != table_prefix_for("charthop_" + "x" * 40 + "2")


class TestParseOrgConnIds:
    def test_json_list(self):
        assert parse_org_conn_ids('["a", "b"]') == ["a", "b"]

    def test_comma_list(self):
        assert parse_org_conn_ids(" a, b ,") == ["a", "b"]

    def test_repeats_dropped(self):
        assert parse_org_conn_ids(["a", "b", "a"]) == ["a", "b"]

    def test_empty_list_rejected(self):
        with pytest.raises(ChartHopConfigError, match="lists no connection id"):
            parse_org_conn_ids("[]")

    def test_non_strings_rejected(self):
        with pytest.raises(ChartHopConfigError, match="JSON list of ChartHop connection ids"):
            parse_org_conn_ids("[1, 2]")

    def test_invalid_json_rejected(self):
        with pytest.raises(ChartHopConfigError, match="Invalid Variable charthop_org_conn_ids"):
            parse_org_conn_ids('["a",')

    def test_prefix_collision_rejected(self):
        with pytest.raises(ChartHopConfigError, match="would both write the tables charthop_roster_org_a_"):
            parse_org_conn_ids(["org-a", "org.a"])


class TestMultiOrgDagShape:
    def test_daily_without_catchup(self, multi_org_dag):
        assert multi_org_dag.timetable.expression == "0 0 * * *"
        assert multi_org_dag.catchup is False

    def test_default_org_list(self, multi_org_dag, monkeypatch):
        monkeypatch.delenv("AIRFLOW_VAR_CHARTHOP_ORG_CONN_IDS", raising=False)
        orgs = multi_org_dag.get_task("list_orgs").python_callable()
        assert orgs == [{"charthop_conn_id": "charthop_default", "table_prefix": "charthop_roster_charthop_default"}]

    def test_variable_read_at_run_time(self, multi_org_dag, monkeypatch):
        monkeypatch.setenv("AIRFLOW_VAR_CHARTHOP_ORG_CONN_IDS", '["charthop_x"]')
        orgs = multi_org_dag.get_task("list_orgs").python_callable()
        assert [org["charthop_conn_id"] for org in orgs] == ["charthop_x"]


class TestTwoOrgRun:
    def test_run_ends_failed(self, two_org_run):
        assert two_org_run.state == "failed"

    def test_good_org_succeeds(self, two_org_run):
        assert two_org_run.task_states[GOOD_CONN_ID] == "success"

    def test_bad_org_fails(self, two_org_run):
        assert two_org_run.task_states[BAD_CONN_ID] == "failed"

    def test_bad_org_message_logged(self, two_org_run):
        assert f"ChartHopNotFoundError: ChartHop countJobs for org '{UNKNOWN_ORG}' failed with HTTP 404" in (
            two_org_run.output
        )

    def test_good_org_rows_land(self, two_org_run):
        table = f"{table_prefix_for(GOOD_CONN_ID)}_snapshot"
        with sqlite3.connect(two_org_run.warehouse) as conn:
            (loaded,) = conn.execute(
                f"SELECT COUNT(*) FROM {table} WHERE snapshot_date = ?", (two_org_run.today,)
            ).fetchone()
        assert loaded == two_org_run.expected_rows

    def test_bad_org_writes_nothing(self, two_org_run):
        table = f"{table_prefix_for(BAD_CONN_ID)}_snapshot"
        with sqlite3.connect(two_org_run.warehouse) as conn:
            found = conn.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = ? AND type = 'table'", (table,)
            ).fetchone()[0]
        assert found == 0
