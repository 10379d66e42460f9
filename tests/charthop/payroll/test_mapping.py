"""Loading and validating payroll mapping files."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from charthop.exceptions import PayrollMappingError
from charthop.payroll import load_mapping, mapping_from_dict
from tests.charthop.payroll.conftest import DATA, MAPPING_FILE


def shipped() -> dict:
    return yaml.safe_load(MAPPING_FILE.read_text(encoding="utf-8"))


def write_mapping(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


class TestShippedMapping:
    def test_match_field_is_work_email(self, mapping):
        assert mapping.match_field == "contact.workEmail"

    def test_match_column_first(self, mapping):
        assert mapping.required_columns[0] == "Work Email"

    def test_output_fields_order(self, mapping):
        assert mapping.output_fields == (
            "contact.workEmail", "contact.employee", "name.first", "name.last", "title", "department",
            "startDate", "endDate", "currency", "baseComp",
        )  # fmt: skip

    @pytest.mark.parametrize(
        ("label", "multiplier"),
        [
            pytest.param("Annual", Decimal(1), id="annual"),
            pytest.param("monthly", Decimal(12), id="monthly-lowercase"),
            pytest.param("Semi-Monthly", Decimal(24), id="semi-monthly"),
            pytest.param("BI-WEEKLY", Decimal(26), id="biweekly-uppercase"),
            pytest.param("Weekly", Decimal(52), id="weekly"),
            pytest.param("Hourly", Decimal(2080), id="hourly-40h"),
        ],
    )
    def test_frequency_multiplier(self, mapping, label, multiplier):
        assert mapping.pay.multiplier(label) == multiplier

    def test_unknown_frequency_is_none(self, mapping):
        assert mapping.pay.multiplier("Fortnightly") is None

    def test_separators(self, mapping):
        assert (mapping.decimal_separator, mapping.thousands_separator) == (".", ",")


class TestGermanMapping:
    def test_hourly_uses_hours_per_week(self):
        mapping = load_mapping(DATA / "mapping_de.yaml")
        assert mapping.pay.multiplier("stündlich") == Decimal("2002.0")

    def test_employee_number_first(self):
        mapping = load_mapping(DATA / "mapping_de.yaml")
        assert mapping.output_fields[0] == "contact.employee"

    def test_delimiter(self):
        assert load_mapping(DATA / "mapping_de.yaml").delimiter == ";"


def without(data: dict, *path: str) -> dict:
    node = data
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return data


def replaced(data: dict, value: object, *path: str) -> dict:
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


INVALID_MAPPINGS = [
    pytest.param(lambda d: replaced(d, "name", "match_field"), "match_field", id="match-field-name"),
    pytest.param(lambda d: without(d, "match_field"), "match_field", id="match-field-missing"),
    pytest.param(lambda d: without(d, "fields", "contact.workEmail"), "fields", id="match-column-unmapped"),
    pytest.param(lambda d: replaced(d, "Salary", "fields", "baseComp"), "fields.baseComp", id="basecomp-in-fields"),
    pytest.param(lambda d: replaced(d, "Location", "fields", "location"), "fields.location", id="unsupported-code"),
    pytest.param(lambda d: replaced(d, "", "fields", "title"), "fields.title", id="empty-column"),
    pytest.param(lambda d: replaced(d, "work email", "fields", "contact.employee"), "fields", id="column-twice"),
    pytest.param(lambda d: replaced(d, 1, "sftp"), "sftp", id="unknown-top-key"),
    pytest.param(lambda d: without(d, "fields", "currency"), "fields", id="pay-without-currency"),
    pytest.param(lambda d: without(d, "pay", "amount_column"), "pay.amount_column", id="pay-amount-missing"),
    pytest.param(lambda d: replaced(d, 0, "pay", "hours_per_week"), "pay.hours_per_week", id="hours-zero"),
    pytest.param(lambda d: replaced(d, 200, "pay", "hours_per_week"), "pay.hours_per_week", id="hours-over-168"),
    pytest.param(lambda d: replaced(d, "often", "pay", "frequencies", "Weekly"), "pay.frequencies.Weekly", id="frequency-word"),
    pytest.param(lambda d: replaced(d, -12, "pay", "frequencies", "Monthly"), "pay.frequencies.Monthly", id="frequency-negative"),
    pytest.param(lambda d: replaced(d, 52, "pay", "frequencies", "WEEKLY"), "pay.frequencies.Weekly", id="frequency-twice"),
    pytest.param(lambda d: replaced(d, {}, "pay", "frequencies"), "pay.frequencies", id="frequencies-empty"),
    pytest.param(lambda d: replaced(d, 1, "pay", "rounding"), "pay.rounding", id="unknown-pay-key"),
    pytest.param(lambda d: without(d, "dates"), "dates.formats", id="dates-missing"),
    pytest.param(lambda d: replaced(d, ["%m/%Y"], "dates", "formats"), "dates.formats", id="format-without-day"),
    pytest.param(lambda d: replaced(d, ["%Q"], "dates", "formats"), "dates.formats", id="format-invalid"),
    pytest.param(lambda d: replaced(d, ";", "numbers", "decimal_separator"), "numbers.decimal_separator", id="decimal-separator"),
    pytest.param(lambda d: replaced(d, "_", "numbers", "thousands_separator"), "numbers.thousands_separator", id="thousands-separator"),
    pytest.param(lambda d: replaced(d, ".", "numbers", "thousands_separator"), "numbers.thousands_separator", id="separators-equal"),
    pytest.param(lambda d: replaced(d, ":", "delimiter"), "delimiter", id="delimiter"),
]


class TestInvalidMapping:
    @pytest.mark.parametrize(("change", "key"), INVALID_MAPPINGS)
    def test_error_names_key(self, tmp_path, change, key):
        path = write_mapping(tmp_path, change(shipped()))
        with pytest.raises(PayrollMappingError, match=re.escape(f"key '{key}'")):
            load_mapping(path)

    @pytest.mark.parametrize(("change", "key"), INVALID_MAPPINGS[:3])
    def test_error_names_file(self, tmp_path, change, key):
        path = write_mapping(tmp_path, change(shipped()))
        with pytest.raises(PayrollMappingError, match=re.escape(str(path))):
            load_mapping(path)

    def test_missing_file(self, tmp_path):
        with pytest.raises(PayrollMappingError, match="not found"):
            load_mapping(tmp_path / "absent.yaml")

    def test_yaml_syntax_error(self, tmp_path):
        path = tmp_path / "mapping.yaml"
        path.write_text("fields: [unclosed\n", encoding="utf-8")
        with pytest.raises(PayrollMappingError, match="not valid YAML"):
            load_mapping(path)

    def test_not_a_mapping(self, tmp_path):
        path = write_mapping(tmp_path, ["a", "b"])
        with pytest.raises(PayrollMappingError, match="top level"):
            load_mapping(path)

    def test_dict_source_named(self):
        with pytest.raises(PayrollMappingError, match="operator argument"):
            mapping_from_dict({"match_field": "x"}, source="operator argument")

    def test_dates_optional_without_dates(self):
        mapping = mapping_from_dict({"match_field": "contact.employee", "fields": {"contact.employee": "Id"}})
        assert mapping.date_formats == ()
