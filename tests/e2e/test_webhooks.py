"""Webhooks end to end: the emulator posts events to the receiver inside real Airflow services on loopback."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import hmac
import json
import sqlite3
import time
import uuid

import pytest
import requests

from tests.conftest import FAST_RETRY_EXTRAS, charthop_connection

SECRET = "whsec-test-6c1f0b"
PAYROLL_HEADER = [
    "Work Email", "Employee Number", "Legal First Name", "Legal Last Name", "Job Title", "Department",
    "Hire Date", "Termination Date", "Pay Rate", "Pay Frequency", "Currency",
]  # fmt: skip


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return tmp_path_factory.mktemp("webhooks")


@pytest.fixture(scope="module")
def services(airflow_services_factory, emulator_process, workspace):
    env = {
        "AIRFLOW_CONN_CHARTHOP_DEFAULT": charthop_connection(
            emulator_process.url, emulator_process.token, emulator_process.org_slug, **FAST_RETRY_EXTRAS
        ),
        "AIRFLOW_CONN_CHARTHOP_WAREHOUSE": json.dumps({"conn_type": "sqlite", "host": str(workspace / "warehouse.db")}),
        "AIRFLOW__CHARTHOP__WEBHOOK_SECRET": SECRET,
        "AIRFLOW__CHARTHOP__WEBHOOK_MAX_BODY_BYTES": "65536",
        "CHARTHOP_WORK_DIR": str(workspace / "imports"),
        "CHARTHOP_PAYROLL_PATH": str(workspace / "payroll.csv"),
    }
    return airflow_services_factory(env)


@pytest.fixture(scope="module")
def roster_loaded(services, emulator_process, workspace):
    """Run today's roster snapshot through the scheduler, then write a payroll export with two promotions."""
    emulator_process.reset()
    services.unpause("charthop_roster_snapshot")
    deadline = time.monotonic() + 120
    while not services.list_runs("charthop_roster_snapshot"):
        assert time.monotonic() < deadline, "the scheduler created no roster run after unpausing"
        time.sleep(1)
    run = services.list_runs("charthop_roster_snapshot")[0]
    assert services.wait_for_run("charthop_roster_snapshot", run["dag_run_id"], timeout=180, fail_on_retry=True) == "success"
    with sqlite3.connect(workspace / "warehouse.db") as conn:
        conn.row_factory = sqlite3.Row
        roster = conn.execute("SELECT * FROM charthop_roster_current WHERE open = 'filled' ORDER BY job_id").fetchall()
    with open(workspace / "payroll.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(PAYROLL_HEADER)
        for index, row in enumerate(roster):
            hired = dt.date.fromisoformat(row["start_date"]).strftime("%m/%d/%Y") if row["start_date"] else ""
            writer.writerow([
                row["contact_work_email"], row["contact_employee"], row["name_first"], row["name_last"],
                f"Senior {row['title']}" if index < 2 else row["title"], row["department_name"], hired, "",
                row["base_comp_annualized_amount"], "Annual", row["base_comp_annualized_currency"],
            ])  # fmt: skip
    for dag_id in ("charthop_sync_now", "charthop_live_update"):
        services.unpause(dag_id)
    return roster


@pytest.fixture
def webhooks(services, emulator_process, roster_loaded):
    """The emulator's webhooks pointed at the receiver, signed with the shared secret."""
    emulator_process.reset()
    emulator_process.set_import_settings(seconds=1, mode="normal")
    emulator_process.set_webhooks(f"{services.url}/charthop/webhook", secret=SECRET)
    return emulator_process


def wait_for_new_run(services, dag_id: str, known: set[str], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = [run["dag_run_id"] for run in services.list_runs(dag_id) if run["dag_run_id"] not in known]
        if fresh:
            return fresh[0]
        time.sleep(0.5)
    raise AssertionError(f"no new run of {dag_id} within {timeout} s")


def explain(services, dag_id: str, run_id: str) -> str:
    """Return each task's state and the log tail of every failed task, for assertion messages."""
    lines = []
    for instance in services.task_instances(dag_id, run_id):
        lines.append(f"{instance['task_id']}: {instance['state']}")
        if instance["state"] == "failed":
            lines.append(services.task_log(dag_id, run_id, instance["task_id"], instance.get("try_number") or 1))
    return "\n".join(lines)


def run_ids(services, dag_id: str) -> set[str]:
    return {run["dag_run_id"] for run in services.list_runs(dag_id)}


def post(services, body: bytes, **headers) -> requests.Response:
    return requests.post(f"{services.url}/charthop/webhook", data=body, headers=headers, timeout=30)


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def event(code: str, **fields) -> bytes:
    return json.dumps({"id": uuid.uuid4().hex, "code": code, **fields}).encode()


@pytest.mark.airflow_services
class TestSyncNow:
    def test_progress_rises_then_done(self, services, webhooks):
        known = run_ids(services, "charthop_sync_now")
        process = webhooks.sync_now()
        run_id = wait_for_new_run(services, "charthop_sync_now", known)
        state = services.wait_for_run("charthop_sync_now", run_id, timeout=180)
        history = [entry for entry in webhooks.process_history(process["id"]) if entry.get("source") == "updateProcess"]
        progress = [entry["progress"] for entry in history if entry.get("progress") is not None]
        assert state == "success", explain(services, "charthop_sync_now", run_id)
        assert len(progress) >= 4
        assert progress == sorted(progress)
        assert webhooks.get_process(process["id"])["status"] == "DONE"

    @pytest.mark.fault_cell(stage="sync now", fault="change events from its own import (loop)", expect="recovers")
    def test_own_import_starts_no_live_update(self, services, webhooks):
        known_sync = run_ids(services, "charthop_sync_now")
        known_live = run_ids(services, "charthop_live_update")
        webhooks.sync_now()
        services.wait_for_run("charthop_sync_now", wait_for_new_run(services, "charthop_sync_now", known_sync), timeout=180)
        time.sleep(5)
        change_events = [d for d in webhooks.webhook_deliveries() if str(d.get("code", "")).startswith("change.")]
        assert change_events
        assert run_ids(services, "charthop_live_update") == known_live

    @pytest.mark.fault_cell(stage="sync now", fault="import ERROR: process marked ERROR with the message")
    def test_failed_import_marks_error(self, services, webhooks):
        webhooks.set_import_settings(seconds=1, mode="reject_file")
        known = run_ids(services, "charthop_sync_now")
        process = webhooks.sync_now()
        run_id = wait_for_new_run(services, "charthop_sync_now", known)
        state = services.wait_for_run("charthop_sync_now", run_id, timeout=180)
        final = webhooks.get_process(process["id"])
        assert state == "failed"
        assert final["status"] == "ERROR"
        assert "ended in ERROR" in final["message"]


@pytest.mark.airflow_services
class TestLiveUpdate:
    def test_edit_changes_warehouse_row(self, services, webhooks, roster_loaded, workspace):
        job_id = roster_loaded[5]["job_id"]
        known = run_ids(services, "charthop_live_update")
        webhooks.edit_job(job_id, title="Head of Webhooks")
        run_id = wait_for_new_run(services, "charthop_live_update", known)
        assert services.wait_for_run("charthop_live_update", run_id, timeout=120) == "success"
        with sqlite3.connect(workspace / "warehouse.db") as conn:
            (title,) = conn.execute("SELECT title FROM charthop_roster_current WHERE job_id = ?", (job_id,)).fetchone()
        assert title == "Head of Webhooks"


@pytest.mark.airflow_services
class TestReceiverSecurity:
    @pytest.mark.fault_cell(stage="live update", fault="unsigned webhook", expect="rejected, no run started")
    def test_unsigned_rejected(self, services, webhooks):
        known = run_ids(services, "charthop_live_update")
        response = post(services, event("change.create.update", jobId="j1"))
        assert response.status_code == 401
        assert run_ids(services, "charthop_live_update") == known

    @pytest.mark.fault_cell(stage="live update", fault="forged signature", expect="rejected, no run started")
    def test_forged_signature_rejected(self, services, webhooks):
        body = event("change.create.update", jobId="j1")
        response = post(services, body, **{"X-Charthop-Signature": sign(body, secret="guessed-secret")})
        assert response.status_code == 401

    def test_wrong_token_rejected(self, services, webhooks):
        response = post(services, event("change.create.update", jobId="j1"), **{"X-Charthop-Token": "nope"})
        assert response.status_code == 401

    @pytest.mark.fault_cell(stage="live update", fault="oversize webhook", expect="rejected, no run started")
    def test_oversize_rejected(self, services, webhooks):
        body = event("change.create.update", jobId="j1", payload={"padding": "x" * 70_000})
        response = post(services, body, **{"X-Charthop-Signature": sign(body)})
        assert response.status_code == 413

    @pytest.mark.fault_cell(stage="live update", fault="webhook replay", expect="ignored (duplicate run id)")
    def test_replay_ignored(self, services, webhooks):
        body = event("change.create.update", jobId="ffffffffffffffffffffffff")
        first = post(services, body, **{"X-Charthop-Signature": sign(body)})
        second = post(services, body, **{"X-Charthop-Signature": sign(body)})
        assert first.json()["status"] == "accepted"
        assert second.json()["status"] == "duplicate"

    def test_unknown_event_acknowledged(self, services, webhooks):
        body = event("group.create")
        response = post(services, body, **{"X-Charthop-Token": SECRET})
        assert response.status_code == 200
        assert response.json()["status"] == "ignored"

    def test_lowercase_three_part_event(self, services, webhooks):
        body = json.dumps({"id": uuid.uuid4().hex, "entitytype": "CHANGE", "type": "CREATE", "subtype": "HIRE",
                           "jobid": "ffffffffffffffffffffffff"}).encode()  # fmt: skip
        response = post(services, body, **{"X-Charthop-Signature": sign(body)})
        assert response.status_code == 202
        assert response.json()["dag_id"] == "charthop_live_update"
