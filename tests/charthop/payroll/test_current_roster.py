"""Reading the current roster from real SQLite and PostgreSQL warehouses, and diffing payroll against it."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest

from charthop.exceptions import ChartHopConfigError
from charthop.payroll import diff_against_roster, prepare_payroll_csv, read_current_roster
from charthop.warehouse import RosterWarehouse
from tests.charthop.payroll.conftest import CLEAN_FILE

FIELDS = [
    "jobId", "contact.workEmail", "contact.employee", "name.first", "name.last", "title", "department.name",
    "startDate", "endDate", "baseComp.annualized",
]  # fmt: skip


def job(job_id: str, email: str | None, first: str, last: str, amount: object, currency: str, **extra) -> dict:
    """A job row as ChartHop's findJobs returns it with ``format=minimal``."""
    return {
        "jobId": job_id,
        "contact.workEmail": email,
        "contact.employee": extra.pop("employee", None),
        "name.first": first,
        "name.last": last,
        "title": extra.pop("title", "Engineer"),
        "department.name": extra.pop("department", "Engineering"),
        "startDate": extra.pop("start", "2019-01-15"),
        "endDate": extra.pop("end", None),
        "baseComp.annualized": {"amount": amount, "currency": currency} if amount is not None else None,
    }


ROSTER = [
    job("j1", "Ada.Lovelace@example.com", "Ada", "Lovelace", 185000, "USD", employee="000101", title="VP, Engineering"),
    # José got a raise in payroll: 7,250.00 monthly is 87,000.00 a year.
    job("j2", "jose.garcia@example.com", "José", "García Márquez", 84000, "EUR", employee="000102",
        title="Software Engineer", start="2021-03-01"),
    job("j3", "li.wei@example.com", "伟", "李", 88400.0, "USD", employee="000104", title="数据分析师",
        department="Data", start="2023-09-05"),
    job("j4", "gone@example.com", "Gone", "Person", 50000, "USD", employee="000999"),
    job("j5", None, "", "", None, "USD"),
]  # fmt: skip


@pytest.fixture(params=["sqlite", "postgres"])
def warehouse(request, tmp_path, monkeypatch) -> RosterWarehouse:
    if request.param == "sqlite":
        path = tmp_path / "warehouse.db"
        monkeypatch.setenv("AIRFLOW_CONN_CHARTHOP_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    else:
        request.getfixturevalue("postgres_warehouse")
    warehouse = RosterWarehouse("charthop_warehouse", table_prefix=f"p{uuid.uuid4().hex[:8]}")
    with warehouse.load_snapshot("2026-01-05", "run-1", FIELDS, manager_policy="off") as snapshot:
        snapshot.write(ROSTER)
    return warehouse


class TestReadCurrentRoster:
    def test_all_rows(self, warehouse):
        rows = list(read_current_roster(warehouse.db_hook(), view=warehouse.current_view))
        assert sorted(row["job_id"] for row in rows) == ["j1", "j2", "j3", "j4", "j5"]

    def test_column_names(self, warehouse):
        row = next(iter(read_current_roster(warehouse.db_hook(), view=warehouse.current_view)))
        assert {"contact_work_email", "department_name", "base_comp_annualized_amount", "start_date"} <= set(row)

    def test_amount_exact(self, warehouse):
        rows = {row["job_id"]: row for row in read_current_roster(warehouse.db_hook(), view=warehouse.current_view)}
        assert Decimal(str(rows["j2"]["base_comp_annualized_amount"])) == Decimal("84000")

    def test_small_batches(self, warehouse):
        rows = read_current_roster(warehouse.db_hook(), view=warehouse.current_view, batch_size=2)
        assert len(list(rows)) == 5

    def test_stops_early(self, warehouse):
        rows = read_current_roster(warehouse.db_hook(), view=warehouse.current_view, batch_size=1)
        first = next(rows)
        rows.close()
        assert first["job_id"].startswith("j")


class TestDiffAgainstWarehouse:
    @pytest.fixture
    def diff(self, warehouse, mapping):
        prepared = prepare_payroll_csv(CLEAN_FILE, mapping)
        roster = read_current_roster(warehouse.db_hook(), view=warehouse.current_view)
        return diff_against_roster(prepared.rows, roster, mapping)

    def test_unchanged(self, diff):
        assert diff.unchanged_count == 2

    def test_changed_pay(self, diff):
        assert [(c.row["contact.workEmail"], c.changed_fields) for c in diff.changed_rows] == [
            ("jose.garcia@example.com", ("baseComp",))
        ]

    def test_new_people(self, diff):
        assert len(diff.new_rows) == 7

    def test_missing_from_payroll(self, diff):
        assert diff.missing_from_payroll == ["gone@example.com"]

    def test_roster_count_skips_open_jobs(self, diff):
        assert diff.roster_count == 4

    def test_no_missing_columns(self, diff):
        assert diff.missing_roster_columns == ()


class TestViewName:
    @pytest.mark.parametrize("view", ["roster; DROP TABLE x", "Roster", '"quoted"', ""])
    def test_invalid_rejected(self, view):
        with pytest.raises(ChartHopConfigError, match="Invalid roster view name"):
            next(read_current_roster(None, view=view))  # type: ignore[arg-type]
