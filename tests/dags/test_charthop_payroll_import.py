"""The charthop_payroll_import DAG run by real Airflow against the emulator and an SQLite warehouse."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3

import pytest
import requests
from airflow.dag_processing.dagbag import DagBag

from tests.conftest import FAST_RETRY_EXTRAS, REPO_ROOT, charthop_connection

PAYROLL_HEADER = [
    "Work Email", "Employee Number", "Legal First Name", "Legal Last Name", "Job Title", "Department",
    "Hire Date", "Termination Date", "Pay Rate", "Pay Frequency", "Currency",
]  # fmt: skip


def us_date(value: str | None) -> str:
    return dt.date.fromisoformat(str(value)).strftime("%m/%d/%Y") if value else ""


@pytest.fixture
def dags(emulator, monkeypatch, sqlite_warehouse, tmp_path, airflow_db):
    monkeypatch.setenv(
        "AIRFLOW_CONN_CHARTHOP_DEFAULT",
        charthop_connection(emulator.url, emulator.token, emulator.org_slug, **FAST_RETRY_EXTRAS),
    )
    monkeypatch.setenv("CHARTHOP_WORK_DIR", str(tmp_path / "work"))
    # Imports finish on the first getProcess, so the sensor's first poke finds the process finished.
    requests.post(f"{emulator.url}/_emulator/imports/settings", json={"seconds": 0}, timeout=10).raise_for_status()
    bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    return bag.dags


@pytest.fixture
def roster(dags, emulator, sqlite_warehouse) -> list[dict]:
    """Load today's roster into the warehouse and return the filled jobs of the current-roster view."""
    today = dt.datetime.fromisoformat(emulator.today).replace(tzinfo=dt.timezone.utc)
    assert dags["charthop_roster_snapshot"].test(logical_date=today).state == "success"
    with sqlite3.connect(sqlite_warehouse) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT * FROM charthop_roster_current WHERE open = 'filled' ORDER BY job_id").fetchall()
    return [dict(row) for row in rows]


def write_payroll(path, roster: list[dict], *, retitle: int = 0, hires: int = 0, departments: list[str] | None = None):
    """Write a payroll export equal to the roster, with ``retitle`` title changes and ``hires`` new people."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(PAYROLL_HEADER)
        for index, row in enumerate(roster):
            title = f"{row['title']} II" if index < retitle else row["title"]
            writer.writerow([
                row["contact_work_email"], row["contact_employee"], row["name_first"], row["name_last"], title,
                row["department_name"], us_date(row["start_date"]), "", row["base_comp_annualized_amount"],
                "Annual", row["base_comp_annualized_currency"],
            ])  # fmt: skip
        for number in range(hires):
            writer.writerow([
                f"new.hire{number}@acme.example.com", f"9{number:05d}", "Zoë", f"O'Neil, {number}", "Analyst",
                (departments or [roster[0]["department_name"]])[0], "01/05/2026", "", "85000.50", "Annual", "EUR",
            ])  # fmt: skip
    return path


def imports(emulator) -> list[dict]:
    return requests.get(f"{emulator.url}/_emulator/imports", timeout=10).json()


def audit_rows(path) -> list[dict]:
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute("SELECT * FROM charthop_payroll_audit")]


def run_payroll(dags, emulator, **conf):
    today = dt.datetime.fromisoformat(emulator.today).replace(tzinfo=dt.timezone.utc)
    return dags["charthop_payroll_import"].test(logical_date=today, run_conf=conf)


class TestPayrollImportDag:
    def test_sends_only_changes(self, dags, roster, emulator, tmp_path, sqlite_warehouse):
        payroll = write_payroll(tmp_path / "payroll.csv", roster, retitle=3, hires=2)
        dag_run = run_payroll(dags, emulator, payroll_path=str(payroll))
        uploads = imports(emulator)
        assert dag_run.state == "success"
        assert len(uploads) == 1
        assert uploads[0]["row_count"] == 5

    def test_import_changes_the_org(self, dags, roster, emulator, tmp_path):
        payroll = write_payroll(tmp_path / "payroll.csv", roster, retitle=1)
        run_payroll(dags, emulator, payroll_path=str(payroll))
        job = emulator.get(f"/v2/org/{{org}}/job/{roster[0]['job_id']}", params={"fields": "title", "format": "minimal"})
        assert job.json()["title"] == f"{roster[0]['title']} II"

    def test_audit_row_per_run(self, dags, roster, emulator, tmp_path, sqlite_warehouse):
        payroll = write_payroll(tmp_path / "payroll.csv", roster, retitle=2)
        run_payroll(dags, emulator, payroll_path=str(payroll))
        (row,) = audit_rows(sqlite_warehouse)
        assert row["status"] == "DONE"
        assert row["rows_sent"] == 2
        assert row["process_id"] == imports(emulator)[0]["process_id"]

    def test_no_changes_sends_nothing(self, dags, roster, emulator, tmp_path, sqlite_warehouse):
        payroll = write_payroll(tmp_path / "payroll.csv", roster)
        dag_run = run_payroll(dags, emulator, payroll_path=str(payroll))
        assert dag_run.state == "success"
        assert imports(emulator) == []
        assert audit_rows(sqlite_warehouse)[0]["status"] == "NOT_SENT"

    def test_guard_stops_large_change(self, dags, roster, emulator, tmp_path, sqlite_warehouse):
        payroll = write_payroll(tmp_path / "payroll.csv", roster, retitle=len(roster) // 2)
        dag_run = run_payroll(dags, emulator, payroll_path=str(payroll))
        assert dag_run.state == "failed"
        assert imports(emulator) == []
        assert audit_rows(sqlite_warehouse)[0]["status"] == "FAILED_BEFORE_UPLOAD"

    def test_guard_can_be_overridden(self, dags, roster, emulator, tmp_path):
        payroll = write_payroll(tmp_path / "payroll.csv", roster, retitle=len(roster) // 2)
        dag_run = run_payroll(dags, emulator, payroll_path=str(payroll), allow_large_change=True)
        assert dag_run.state == "success"
        assert len(imports(emulator)) == 1

    def test_invalid_payroll_sends_nothing(self, dags, roster, emulator, tmp_path, capfd):
        payroll = write_payroll(tmp_path / "payroll.csv", roster, retitle=1)
        text = payroll.read_text(encoding="utf-8").splitlines()
        text[2] = text[2].replace("Annual", "Fortnightly-ish")
        payroll.write_text("\n".join(text) + "\n", encoding="utf-8")
        dag_run = run_payroll(dags, emulator, payroll_path=str(payroll))
        output = capfd.readouterr().out
        assert dag_run.state == "failed"
        assert imports(emulator) == []
        assert "row 2 (line 3), column 'Pay Frequency'" in output

    def test_dry_run_uses_import_dry_run(self, dags, roster, emulator, tmp_path):
        payroll = write_payroll(tmp_path / "payroll.csv", roster, retitle=1)
        dag_run = run_payroll(dags, emulator, payroll_path=str(payroll), dry_run=True)
        job = emulator.get(f"/v2/org/{{org}}/job/{roster[0]['job_id']}", params={"fields": "title", "format": "minimal"})
        assert dag_run.state == "success"
        assert imports(emulator)[0]["query"]["importDryRun"] == ["true"]
        assert job.json()["title"] == roster[0]["title"]


class TestBadPayrollFiles:
    def test_none_reaches_the_emulator(self, dags, emulator, capfd):
        corpus = REPO_ROOT / "tests" / "charthop" / "payroll" / "bad_files"
        expected = json.loads((corpus / "expected.json").read_text(encoding="utf-8"))
        states = {}
        for name in sorted(expected):
            states[name] = str(run_payroll(dags, emulator, payroll_path=str(corpus / name)).state)
        output = capfd.readouterr().out
        assert set(states.values()) == {"failed"}
        assert imports(emulator) == []
        assert all(message.split(": ")[0] in output for message in expected.values())
