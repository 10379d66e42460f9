"""Every DAG file parses, without errors and without network calls."""

from __future__ import annotations

import socket

import pytest
from airflow.dag_processing.dagbag import DagBag

from tests.conftest import REPO_ROOT

EXPECTED_DAGS = {"charthop_roster_snapshot", "charthop_payroll_import", "charthop_live_update", "charthop_sync_now"}


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    return DagBag(dag_folder=str(REPO_ROOT / "dags"))


class TestDagIntegrity:
    def test_no_import_errors(self, dagbag):
        assert dagbag.import_errors == {}

    def test_expected_dags_present(self, dagbag):
        assert EXPECTED_DAGS <= set(dagbag.dag_ids)

    @pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAGS))
    def test_dag_is_tagged(self, dagbag, dag_id):
        assert "charthop" in dagbag.dags[dag_id].tags

    @pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAGS))
    def test_dag_has_docs(self, dagbag, dag_id):
        assert dagbag.dags[dag_id].doc_md

    def test_parse_opens_no_socket(self, monkeypatch):
        def refuse(*args, **kwargs):
            raise AssertionError(f"a DAG file opened a network connection at parse time: {args}")

        monkeypatch.setattr(socket.socket, "connect", refuse)
        monkeypatch.setattr(socket, "create_connection", refuse)
        bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
        assert bag.import_errors == {}

    def test_roster_schedule_and_catchup(self, dagbag):
        dag = dagbag.dags["charthop_roster_snapshot"]
        assert dag.catchup is False
        assert dag.timetable.expression == "0 0 * * *"
