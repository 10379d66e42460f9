"""HTTP tests of the process endpoints: getProcess, updateProcess, the process log and findProcesses."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.plugins.emulator_fixtures import EmulatorProcess

PROCESSES = "/v1/org/{org}/process"
FLAGS = {"skipErrors": "false", "upsert": "false", "createGroups": "false", "disableSyncHireDate": "false",
         "disableOverwritePerson": "false", "importDryRun": "false"}


def _find(emulator: EmulatorProcess, **params: Any) -> list[str]:
    response = emulator.api("GET", PROCESSES, params=params)
    assert response.status_code == 200, response.text
    return [process["id"] for process in response.json()["data"]]


class TestGetProcess:
    def test_unknown_is_404(self, emulator: EmulatorProcess) -> None:
        response = emulator.api("GET", f"{PROCESSES}/000000000000000000000000")
        assert response.status_code == 404
        assert response.json()["message"] == "process not found: 000000000000000000000000"

    def test_needs_token(self, emulator: EmulatorProcess) -> None:
        process = emulator.create_process(label="Sync")
        response = emulator.api("GET", f"{PROCESSES}/{process['id']}", headers={"Authorization": ""})
        assert response.status_code == 401

    def test_state_only_when_asked(self, emulator: EmulatorProcess) -> None:
        process = emulator.create_process(label="Sync", state={"cursor": 5})
        assert "state" not in emulator.get_process(process["id"])
        assert emulator.get_process(process["id"], showState="true")["state"] == {"cursor": 5}

    def test_by_org_slug(self, emulator: EmulatorProcess) -> None:
        process = emulator.create_process(label="Sync")
        response = emulator.api("GET", f"/v1/org/{emulator.org_slug}/process/{process['id']}")
        assert response.json()["id"] == process["id"]


class TestUpdateProcess:
    def test_merges_fields(self, emulator: EmulatorProcess) -> None:
        process = emulator.create_process(label="Sync", status="PENDING")
        response = emulator.update_process(process["id"], {"status": "RUNNING", "progress": 0.4,
                                                           "message": "reading roster"})
        assert response.status_code == 200
        updated = response.json()
        assert updated["status"] == "RUNNING"
        assert updated["progress"] == 0.4
        assert updated["message"] == "reading roster"
        assert updated["label"] == "Sync"

    def test_results_merged_by_key(self, emulator: EmulatorProcess) -> None:
        process = emulator.create_process(label="Sync")
        emulator.update_process(process["id"], {"results": {"rows": 10}})
        emulator.update_process(process["id"], {"results": {"errors": 0}})
        assert emulator.get_process(process["id"])["results"] == {"rows": 10, "errors": 0}

    def test_log_entries_appended(self, emulator: EmulatorProcess) -> None:
        process = emulator.create_process(label="Sync")
        entry = {"level": "WARN", "at": "2026-01-01T00:00:00Z", "message": "slow", "data": {}}
        emulator.update_process(process["id"], {"logDataList": [entry]})
        emulator.update_process(process["id"], {"logDataList": [entry]})
        assert emulator.get_process(process["id"])["logDataList"] == [entry, entry]

    def test_null_ignored(self, emulator: EmulatorProcess) -> None:
        process = emulator.create_process(label="Sync", message="kept")
        emulator.update_process(process["id"], {"message": None, "progress": 0.2})
        assert emulator.get_process(process["id"])["message"] == "kept"

    def test_done_sets_end(self, emulator: EmulatorProcess) -> None:
        process = emulator.create_process(label="Sync")
        updated = emulator.update_process(process["id"], {"status": "DONE", "progress": 1}).json()
        assert "endAt" in updated
        assert updated["updateId"] == process["runUserId"]

    @pytest.mark.parametrize("body", [{"status": "FINISHED"}, {"progress": "half"}, {"results": [1]},
                                      {"logDataList": [{"level": "LOUD", "at": "x", "data": {}}]}, ["DONE"]],
                             ids=["status", "progress", "results", "log-level", "not-object"])
    def test_invalid_body_400(self, emulator: EmulatorProcess, body: Any) -> None:
        process = emulator.create_process(label="Sync")
        assert emulator.update_process(process["id"], body).status_code == 400

    def test_forbidden_without_editor(self, emulator: EmulatorProcess) -> None:
        emulator.add_token("reader", ["job.read"])
        process = emulator.create_process(label="Sync")
        response = emulator.update_process(process["id"], {"progress": 0.5}, token="reader")
        assert response.status_code == 403
        assert response.json()["message"] == "permission denied: the app needs the Primary Editor permission"

    def test_reader_can_get(self, emulator: EmulatorProcess) -> None:
        emulator.add_token("reader", ["job.read"])
        process = emulator.create_process(label="Sync")
        assert emulator.api("GET", f"{PROCESSES}/{process['id']}", token="reader").status_code == 200

    def test_unknown_is_404(self, emulator: EmulatorProcess) -> None:
        response = emulator.update_process("000000000000000000000000", {"progress": 0.5})
        assert response.status_code == 404

    def test_status_stops_lifecycle(self, emulator: EmulatorProcess) -> None:
        emulator.set_import_settings(seconds=0.3)
        process_id = emulator.import_csv("Work Email\nx@y.z\n", FLAGS).json()["id"]
        emulator.update_process(process_id, {"status": "ERROR", "message": "cancelled by the client"})
        time.sleep(0.5)
        assert emulator.get_process(process_id)["message"] == "cancelled by the client"


class TestHistory:
    def test_records_patches(self, emulator: EmulatorProcess) -> None:
        process = emulator.create_process(label="Sync")
        for progress in (0.25, 0.5):
            emulator.update_process(process["id"], {"status": "RUNNING", "progress": progress})
        emulator.update_process(process["id"], {"status": "DONE", "progress": 1, "message": "ok"})
        history = emulator.process_history(process["id"])
        assert [(entry["status"], entry["progress"]) for entry in history] == [
            ("PENDING", 0), ("RUNNING", 0.25), ("RUNNING", 0.5), ("DONE", 1)]

    def test_entries_have_source(self, emulator: EmulatorProcess) -> None:
        process = emulator.create_process(label="Sync")
        emulator.update_process(process["id"], {"progress": 0.5})
        assert [entry["source"] for entry in emulator.process_history(process["id"])] == ["create", "updateProcess"]

    def test_unchanged_patch_not_recorded(self, emulator: EmulatorProcess) -> None:
        process = emulator.create_process(label="Sync")
        emulator.update_process(process["id"], {"summary": "no status change"})
        assert len(emulator.process_history(process["id"])) == 1

    def test_unknown_is_404(self, emulator: EmulatorProcess) -> None:
        response = emulator.session.get(f"{emulator.url}/_emulator/processes/nope/history", timeout=10)
        assert response.status_code == 404


class TestProcessLog:
    def test_lines_are_log_data(self, emulator: EmulatorProcess) -> None:
        emulator.set_import_settings(seconds=0)
        process_id = emulator.import_csv("Work Email,Currency\nx@y.z,ZZZ\n", FLAGS).json()["id"]
        emulator.wait_process(process_id)
        response = emulator.api("GET", f"{PROCESSES}/{process_id}/log")
        entries = [json.loads(line) for line in response.text.splitlines()]
        assert entries == emulator.get_process(process_id)["logDataList"]

    def test_content_type(self, emulator: EmulatorProcess) -> None:
        process = emulator.create_process(label="Sync")
        response = emulator.api("GET", f"{PROCESSES}/{process['id']}/log")
        assert response.headers["Content-Type"].startswith("application/x-ndjson")

    def test_row_error_logged(self, emulator: EmulatorProcess) -> None:
        emulator.set_import_settings(seconds=0)
        process_id = emulator.import_csv("Work Email,Currency\nx@y.z,ZZZ\n", FLAGS).json()["id"]
        emulator.wait_process(process_id)
        lines = emulator.api("GET", f"{PROCESSES}/{process_id}/log").text.splitlines()
        assert any(json.loads(line)["data"] == {"row": 1, "column": "Currency"} for line in lines)


class TestFindProcesses:
    def test_by_import_source(self, emulator: EmulatorProcess) -> None:
        wanted = emulator.import_csv("Work Email\nx@y.z\n", FLAGS | {"importSource": "airflow-run-42"}).json()
        emulator.import_csv("Work Email\nx@y.z\n", FLAGS | {"importSource": "other"})
        assert _find(emulator, searchValue="run-42") == [wanted["id"]]

    def test_by_label(self, emulator: EmulatorProcess) -> None:
        wanted = emulator.create_process(label="Nightly payroll sync")
        emulator.create_process(label="Other")
        assert _find(emulator, searchValue="PAYROLL") == [wanted["id"]]

    def test_by_statuses(self, emulator: EmulatorProcess) -> None:
        pending = emulator.create_process(label="a")
        running = emulator.create_process(label="b", status="RUNNING")
        emulator.create_process(label="c", status="DONE")
        assert _find(emulator, statuses="PENDING,RUNNING") == [pending["id"], running["id"]]

    def test_by_process_types(self, emulator: EmulatorProcess) -> None:
        emulator.create_process(label="a", type="SYNC")
        wanted = emulator.import_csv("Work Email\nx@y.z\n", FLAGS).json()
        assert _find(emulator, processTypes="CSV Data Org Engine Import") == [wanted["id"]]

    def test_manual_is_sync_now(self, emulator: EmulatorProcess) -> None:
        emulator.import_csv("Work Email\nx@y.z\n", FLAGS)
        sync = emulator.sync_now()
        assert _find(emulator, type="manual") == [sync["id"]]

    def test_create_at_window(self, emulator: EmulatorProcess) -> None:
        old = emulator.create_process(label="old")
        time.sleep(0.05)
        new = emulator.create_process(label="new")
        assert _find(emulator, createAtFrom=new["createAt"]) == [new["id"]]
        assert _find(emulator, createAtUntil=new["createAt"]) == [old["id"]]

    def test_paging(self, emulator: EmulatorProcess) -> None:
        created = [emulator.create_process(label=f"p{number}")["id"] for number in range(5)]
        first = emulator.api("GET", PROCESSES, params={"limit": 2}).json()
        second = emulator.api("GET", PROCESSES, params={"limit": 10, "from": first["next"]}).json()
        assert [item["id"] for item in first["data"] + second["data"]] == created
        assert "next" not in second

    @pytest.mark.parametrize("params", [{"statuses": "FINISHED"}, {"createAtFrom": "yesterday"},
                                        {"isAppProcess": "maybe"}, {"syncCauses": "MANUAL"}],
                             ids=["status", "timestamp", "boolean", "unsupported"])
    def test_invalid_filter_400(self, emulator: EmulatorProcess, params: dict[str, str]) -> None:
        assert emulator.api("GET", PROCESSES, params=params).status_code == 400


class TestAdminProcesses:
    def test_created_pending(self, emulator: EmulatorProcess) -> None:
        process = emulator.create_process(label="Sync", type="SYNC")
        assert process["status"] == "PENDING"
        assert process["type"] == "SYNC"

    def test_created_visible_in_api(self, emulator: EmulatorProcess) -> None:
        process = emulator.create_process(label="Sync")
        assert emulator.get_process(process["id"])["label"] == "Sync"

    def test_invalid_status_400(self, emulator: EmulatorProcess) -> None:
        response = emulator.session.post(f"{emulator.url}/_emulator/processes", json={"status": "NOPE"}, timeout=10)
        assert response.status_code == 400

    def test_reset_forgets(self, emulator: EmulatorProcess) -> None:
        process = emulator.create_process(label="Sync")
        emulator.reset()
        assert emulator.api("GET", f"{PROCESSES}/{process['id']}").status_code == 404
