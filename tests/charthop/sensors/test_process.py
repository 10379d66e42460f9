"""ChartHopProcessSensor in poke, reschedule and deferrable modes, run by real Airflow against the emulator."""

from __future__ import annotations

import datetime as dt

import pytest
from airflow.dag_processing.dagbag import DagBag

from charthop.hooks.charthop import ChartHopHook
from tests.charthop.process_helpers import set_import_mode, title_change_csv
from tests.conftest import REPO_ROOT

MODES = ("poke", "reschedule", "deferrable")


@pytest.fixture(scope="module")
def dags():
    return DagBag(dag_folder=str(REPO_ROOT / "tests" / "dag_fixtures")).dags


def start_import(emulator, charthop_conn, tmp_path, *, mode: str, skip_errors: bool = False) -> str:
    set_import_mode(emulator, mode, seconds=1)
    hook = ChartHopHook(charthop_conn)
    content = open(title_change_csv(hook, tmp_path / "import.csv"), "rb").read()
    return hook.import_csv(content, upsert=False, skip_errors=skip_errors)["id"]


def run(dags, mode: str, capfd, **conf) -> tuple[str, str]:
    capfd.readouterr()
    when = dt.datetime.now(dt.timezone.utc)
    dag_run = dags[f"charthop_test_wait_{mode}"].test(logical_date=when, run_conf=conf)
    captured = capfd.readouterr()
    return str(dag_run.state), captured.out + captured.err


@pytest.mark.usefixtures("airflow_db")
class TestProcessSensorModes:
    @pytest.mark.parametrize("mode", MODES)
    @pytest.mark.parametrize(
        ("import_mode", "skip_errors", "policy", "state", "expected"),
        [
            ("normal", False, "fail", "success", "DONE"),
            pytest.param("reject_file", False, "fail", "failed", "ended in ERROR",
                         marks=pytest.mark.fault_cell(stage="wait", fault="import ERROR")),
            pytest.param("bad_row", True, "fail", "failed", "rejected 1 rows",
                         marks=pytest.mark.fault_cell(stage="wait", fault="row errors, policy fail")),
            pytest.param("bad_row", True, "warn", "success", "rejected 1 rows",
                         marks=pytest.mark.fault_cell(stage="wait", fault="row errors, policy warn", expect="recovers")),
            pytest.param("never_finish", False, "fail", "failed", "did not finish within 6 s; last seen: RUNNING",
                         marks=pytest.mark.fault_cell(stage="wait", fault="stuck process hits the timeout")),
        ],
        ids=["done", "error", "row-errors-fail", "row-errors-warn", "timeout"],
    )
    def test_outcome(self, dags, emulator, charthop_conn, tmp_path, capfd, mode, import_mode, skip_errors, policy,
                     state, expected):  # fmt: skip
        process_id = start_import(emulator, charthop_conn, tmp_path, mode=import_mode, skip_errors=skip_errors)
        result, output = run(dags, mode, capfd, process_id=process_id, row_error_policy=policy)
        assert result == state
        assert expected in output

    @pytest.mark.parametrize("mode", MODES)
    def test_each_poll_logs_progress(self, dags, emulator, charthop_conn, tmp_path, capfd, mode):
        process_id = start_import(emulator, charthop_conn, tmp_path, mode="normal")
        _, output = run(dags, mode, capfd, process_id=process_id)
        assert f"ChartHop process {process_id}: PENDING" in output or f"ChartHop process {process_id}: RUNNING" in output

    def test_missing_process_id_fails_clearly(self, dags, emulator, charthop_conn, capfd):
        state, output = run(dags, "poke", capfd, process_id="")
        assert state == "failed"
        assert "has no process id" in output
