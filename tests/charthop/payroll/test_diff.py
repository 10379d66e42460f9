"""Comparing prepared payroll rows with current-roster rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from charthop.payroll import diff_against_roster, load_mapping, prepare_payroll_rows
from tests.charthop.payroll.conftest import DATA, person


def roster_row(number: int, **changes: object) -> dict[str, object]:
    """A ``charthop_roster_current`` row (SQLite text values) equal to ``person(number)`` after transformation."""
    row: dict[str, object] = {
        "snapshot_date": "2026-01-05",
        "job_id": f"job{number}",
        "contact_work_email": f"person{number}@example.com",
        "contact_employee": f"{number:06d}",
        "name_first": "Ada",
        "name_last": "Lovelace",
        "title": "Engineer",
        "department_name": "Engineering",
        "start_date": "2019-01-15",
        "end_date": None,
        "base_comp_annualized_amount": "185000",
        "base_comp_annualized_currency": "USD",
    }
    row.update(changes)
    return row


@pytest.fixture
def prepared_rows(mapping):
    return prepare_payroll_rows([person(1), person(2), person(3)], mapping).rows


class TestClassification:
    def test_unchanged(self, mapping, prepared_rows):
        diff = diff_against_roster(prepared_rows, [roster_row(1), roster_row(2), roster_row(3)], mapping)
        assert diff.unchanged_count == 3

    def test_new_row(self, mapping, prepared_rows):
        diff = diff_against_roster(prepared_rows, [roster_row(1), roster_row(2)], mapping)
        assert [row["contact.workEmail"] for row in diff.new_rows] == ["person3@example.com"]

    def test_missing_from_payroll(self, mapping, prepared_rows):
        roster = [roster_row(1), roster_row(2), roster_row(3), roster_row(4, contact_work_email="Left@Example.com")]
        diff = diff_against_roster(prepared_rows, roster, mapping)
        assert diff.missing_from_payroll == ["Left@Example.com"]

    def test_roster_count(self, mapping, prepared_rows):
        roster = [roster_row(1), roster_row(4), roster_row(5, contact_work_email=None)]
        assert diff_against_roster(prepared_rows, roster, mapping).roster_count == 2

    def test_open_job_not_missing(self, mapping, prepared_rows):
        roster = [roster_row(1), roster_row(2), roster_row(3), roster_row(9, contact_work_email="")]
        assert diff_against_roster(prepared_rows, roster, mapping).missing_from_payroll == []

    def test_email_case_ignored(self, mapping, prepared_rows):
        roster = [roster_row(1, contact_work_email="PERSON1@EXAMPLE.COM"), roster_row(2), roster_row(3)]
        assert diff_against_roster(prepared_rows, roster, mapping).unchanged_count == 3

    def test_rows_to_send(self, mapping, prepared_rows):
        diff = diff_against_roster(prepared_rows, [roster_row(1, title="Intern"), roster_row(2)], mapping)
        assert [row["contact.workEmail"] for row in diff.rows_to_send()] == ["person3@example.com", "person1@example.com"]

    def test_change_count(self, mapping, prepared_rows):
        diff = diff_against_roster(prepared_rows, [roster_row(1, title="Intern"), roster_row(2)], mapping)
        assert diff.change_count == 2

    def test_duplicate_roster_key(self, mapping, prepared_rows):
        roster = [roster_row(1), roster_row(1, job_id="second", title="Advisor"), roster_row(2), roster_row(3)]
        diff = diff_against_roster(prepared_rows, roster, mapping)
        assert (diff.duplicate_roster_keys, diff.unchanged_count) == (["person1@example.com"], 3)

    def test_empty_roster(self, mapping, prepared_rows):
        assert len(diff_against_roster(prepared_rows, [], mapping).new_rows) == 3


CHANGES = [
    pytest.param({"Legal First Name": "Augusta"}, {}, ("name.first",), id="first-name"),
    pytest.param({"Legal Last Name": "King"}, {}, ("name.last",), id="last-name"),
    pytest.param({"Job Title": "Staff Engineer"}, {}, ("title",), id="title"),
    pytest.param({"Department": "Research"}, {}, ("department",), id="department"),
    pytest.param({"Employee Number": "900001"}, {}, ("contact.employee",), id="employee-number"),
    pytest.param({"Hire Date": "02/01/2019"}, {}, ("startDate",), id="hire-date"),
    pytest.param({"Termination Date": "06/30/2026"}, {}, ("endDate",), id="termination-date"),
    pytest.param({"Pay Rate": "190,000.00"}, {}, ("baseComp",), id="annual-pay"),
    pytest.param({"Pay Rate": "15,500.00", "Pay Frequency": "Monthly"}, {}, ("baseComp",), id="pay-frequency"),
    pytest.param({"Currency": "EUR"}, {}, ("currency",), id="currency"),
    pytest.param({}, {"title": "Engineer II"}, ("title",), id="roster-side-title"),
    pytest.param({}, {"start_date": None}, ("startDate",), id="roster-date-empty"),
    pytest.param({"Job Title": "CTO", "Department": "Office"}, {}, ("title", "department"), id="two-fields"),
]

EQUALS = [
    pytest.param({}, {"base_comp_annualized_amount": Decimal("185000.00")}, id="decimal-amount"),
    pytest.param({}, {"base_comp_annualized_amount": "185000.000"}, id="text-amount-more-places"),
    pytest.param({}, {"base_comp_annualized_amount": 185000}, id="int-amount"),
    pytest.param({}, {"start_date": dt.date(2019, 1, 15)}, id="date-object"),
    pytest.param({}, {"start_date": dt.datetime(2019, 1, 15, 0, 0)}, id="datetime-object"),
    pytest.param({}, {"base_comp_annualized_currency": "usd"}, id="currency-case"),
    pytest.param({}, {"base_comp_annualized_currency": None, "currency": "USD"}, id="currency-column-fallback"),
    pytest.param({}, {"name_first": "  Ada "}, id="roster-whitespace"),
    pytest.param({"Legal First Name": "Jose\u0301"}, {"name_first": "Jos\u00e9"}, id="nfc-accents"),
    pytest.param({"Termination Date": ""}, {"end_date": "2025-01-01"}, id="empty-payroll-not-compared"),
    pytest.param({"Pay Rate": "15,416.67", "Pay Frequency": "Monthly"}, {"base_comp_annualized_amount": "185000.04"}, id="monthly-annualized"),
]


class TestFieldComparison:
    @pytest.mark.parametrize(("payroll_changes", "roster_changes", "changed"), CHANGES)
    def test_changed_fields(self, mapping, payroll_changes, roster_changes, changed):
        rows = prepare_payroll_rows([person(1, **payroll_changes)], mapping).rows
        diff = diff_against_roster(rows, [roster_row(1, **roster_changes)], mapping)
        assert [row.changed_fields for row in diff.changed_rows] == [changed]

    @pytest.mark.parametrize(("payroll_changes", "roster_changes"), EQUALS)
    def test_equal_values(self, mapping, payroll_changes, roster_changes):
        rows = prepare_payroll_rows([person(1, **payroll_changes)], mapping).rows
        diff = diff_against_roster(rows, [roster_row(1, **roster_changes)], mapping)
        assert diff.unchanged_count == 1

    def test_missing_roster_column_reported(self, mapping):
        rows = prepare_payroll_rows([person(1)], mapping).rows
        roster = roster_row(1)
        del roster["department_name"]
        assert diff_against_roster(rows, [roster], mapping).missing_roster_columns == ("department_name",)

    def test_missing_roster_column_counts_changed(self, mapping):
        rows = prepare_payroll_rows([person(1)], mapping).rows
        roster = roster_row(1)
        del roster["department_name"]
        assert diff_against_roster(rows, [roster], mapping).changed_rows[0].changed_fields == ("department",)


class TestEmployeeIdMatch:
    def test_matches_on_employee_number(self):
        mapping = load_mapping(DATA / "mapping_de.yaml")
        record = {
            "Personalnummer": "0815", "E-Mail": "lukas.weber@example.ch", "Vorname": "Lukas", "Nachname": "Weber",
            "Position": "Praktikant", "Abteilung": "Technik", "Eintritt": "01.02.2024", "Austritt": "",
            "Betrag": "22,50", "Zahlungsintervall": "stündlich", "Währung": "CHF",
        }  # fmt: skip
        roster = {
            "contact_employee": "0815", "contact_work_email": "LUKAS.WEBER@example.ch", "name_first": "Lukas",
            "name_last": "Weber", "title": "Praktikant", "department_name": "Technik", "start_date": "2024-02-01",
            "end_date": None, "base_comp_annualized_amount": "45045", "base_comp_annualized_currency": "CHF",
        }  # fmt: skip
        rows = prepare_payroll_rows([record], mapping).rows
        assert diff_against_roster(rows, [roster], mapping).unchanged_count == 1

    def test_leading_zeros_matter(self):
        mapping = load_mapping(DATA / "mapping_de.yaml")
        rows = [{"contact.employee": "0815"}]
        roster = [{"contact_employee": "815"}]
        assert diff_against_roster(rows, roster, mapping).missing_from_payroll == ["815"]
