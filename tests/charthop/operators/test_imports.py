"""ChartHopImportCsvOperator run by real Airflow against the emulator's bulk CSV import."""

from __future__ import annotations

import datetime as dt

import pytest
from airflow.dag_processing.dagbag import DagBag

from charthop.hooks.charthop import ChartHopHook
from tests.charthop.process_helpers import set_import_mode, title_change_csv, uploads
from tests.conftest import FAST_RETRY_EXTRAS, REPO_ROOT, charthop_connection

REQUIRED_BOOLEANS = ("upsert", "createGroups", "skipErrors", "disableSyncHireDate", "disableOverwritePerson", "importDryRun")


@pytest.fixture(scope="module")
def dags():
    return DagBag(dag_folder=str(REPO_ROOT / "tests" / "dag_fixtures")).dags


def run(dags, dag_id: str, capfd, **conf) -> tuple[str, str]:
    capfd.readouterr()
    dag_run = dags[dag_id].test(logical_date=dt.datetime.now(dt.timezone.utc), run_conf=conf)
    captured = capfd.readouterr()
    return str(dag_run.state), captured.out + captured.err


@pytest.fixture
def csv_path(charthop_conn, tmp_path) -> str:
    return title_change_csv(ChartHopHook(charthop_conn), tmp_path / "titles.csv")


@pytest.mark.usefixtures("airflow_db")
class TestImportCsvOperator:
    @pytest.mark.parametrize("dag_id", ["charthop_test_import_worker", "charthop_test_import_deferred"])
    def test_uploads_once_and_waits(self, dags, emulator, csv_path, capfd, dag_id):
        set_import_mode(emulator, "normal", seconds=1)
        state, output = run(dags, dag_id, capfd, csv_path=csv_path)
        sent = uploads(emulator)
        assert state == "success"
        assert len(sent) == 1
        assert f"ChartHop process {sent[0]['process_id']} finished" in output or "DONE" in output

    def test_sends_required_booleans(self, dags, emulator, csv_path, capfd):
        set_import_mode(emulator, "normal")
        run(dags, "charthop_test_import_worker", capfd, csv_path=csv_path)
        query = uploads(emulator)[0]["query"]
        assert {name: query.get(name) for name in REQUIRED_BOOLEANS} == {
            "upsert": ["true"], "createGroups": ["false"], "skipErrors": ["false"],
            "disableSyncHireDate": ["false"], "disableOverwritePerson": ["false"], "importDryRun": ["false"],
        }  # fmt: skip

    @pytest.mark.fault_cell(stage="upload", fault="Airflow retry after the upload: no second upload")
    def test_retry_reuses_the_process(self, dags, emulator, csv_path, capfd):
        set_import_mode(emulator, "never_finish")
        state, output = run(dags, "charthop_test_import_worker", capfd, csv_path=csv_path)
        assert state == "failed"
        assert len(uploads(emulator)) == 1
        assert "Reusing ChartHop process" in output

    def test_process_id_pushed_before_waiting(self, dags, emulator, csv_path, capfd, airflow_db):
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session
        from sqlalchemy import select

        set_import_mode(emulator, "never_finish")
        run(dags, "charthop_test_import_worker", capfd, csv_path=csv_path)
        with create_session() as session:
            values = session.scalars(
                select(XComModel.value).where(XComModel.dag_id == "charthop_test_import_worker", XComModel.key == "process_id")
            ).all()
        assert uploads(emulator)[0]["process_id"] in str(values)

    def test_notify_email_resolved_to_user_id(self, dags, emulator, csv_path, capfd, charthop_conn):
        set_import_mode(emulator, "normal")
        user = next(user for user in ChartHopHook(charthop_conn).find_users() if user.get("email") and user.get("type") == "USER")
        run(dags, "charthop_test_import_worker", capfd, csv_path=csv_path, notify=[user["email"].upper()])
        assert uploads(emulator)[0]["query"]["notifyUserIds"] == [user["id"]]

    @pytest.mark.fault_cell(stage="upload", fault="import ERROR (file rejected)")
    def test_rejected_file_fails_with_message(self, dags, emulator, csv_path, capfd):
        set_import_mode(emulator, "reject_file")
        state, output = run(dags, "charthop_test_import_worker", capfd, csv_path=csv_path)
        assert state == "failed"
        assert "ended in ERROR" in output

    @pytest.mark.fault_cell(stage="upload", fault="403 without Primary Editor")
    def test_missing_primary_editor_named(self, dags, emulator, csv_path, capfd, monkeypatch):
        emulator.add_token("reader-token", ["job.read", "person.read", "user.read"])
        monkeypatch.setenv(
            "AIRFLOW_CONN_CHARTHOP_TEST",
            charthop_connection(emulator.url, "reader-token", emulator.org_slug, **FAST_RETRY_EXTRAS),
        )
        state, output = run(dags, "charthop_test_import_worker", capfd, csv_path=csv_path)
        assert state == "failed"
        assert "Primary Editor permission" in output
        assert uploads(emulator) == []

    def test_missing_file_fails_before_upload(self, dags, emulator, capfd, tmp_path):
        state, output = run(dags, "charthop_test_import_worker", capfd, csv_path=str(tmp_path / "nope.csv"))
        assert state == "failed"
        assert "not found. Check csv_path" in output
        assert uploads(emulator) == []
