"""Column naming, kind inference and value conversion for ChartHop field codes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from charthop.warehouse.columns import (
    ColumnKind,
    FieldColumns,
    ValueMismatch,
    column_base_name,
    infer_kind,
    to_decimal,
)


class TestColumnBaseName:
    @pytest.mark.parametrize(
        ("code", "expected"),
        [
            ("contact.workEmail", "contact_work_email"),
            ("name.first", "name_first"),
            ("baseComp", "base_comp"),
            ("esquemaDeContratacin", "esquema_de_contratacin"),
            ('x"; DROP TABLE t; --', "x_drop_table_t"),
            ("2ndManager", "f_2nd_manager"),
            ("job_id", "job_id_field"),
            ("", "field"),
        ],
        ids=["dotted", "nested", "camel", "custom", "injection", "leading-digit", "fixed-clash", "empty"],
    )
    def test_sanitises(self, code, expected):
        assert column_base_name(code) == expected

    def test_caps_length(self):
        assert len(column_base_name("a" * 200)) == 63


class TestInferKind:
    @pytest.mark.parametrize(
        ("code", "values", "expected"),
        [
            ("title", ["CEO", None], ColumnKind.TEXT),
            ("startDate", ["2024-01-31", None, ""], ColumnKind.DATE),
            ("perfRating", [3, 4.5], ColumnKind.NUMBER),
            ("remote", [True, False], ColumnKind.BOOLEAN),
            ("tags", [["Contractor"], []], ColumnKind.JSON),
            ("salary", [{"amount": 1, "currency": "EUR"}], ColumnKind.MONEY),
            ("baseComp", [{"interval": "YEARLY", "pay": {"amount": 1, "currency": "USD"}}], ColumnKind.PAY),
            ("contact.employee", ["000123"], ColumnKind.TEXT),
            ("personId", [12345], ColumnKind.TEXT),
            ("mixed", ["2024-01-01", "soon"], ColumnKind.TEXT),
            ("empty", [None, "", [], {}], None),
        ],
        ids=["text", "date", "number", "boolean", "list", "money", "pay", "employee-id", "id-number", "mixed", "empty"],
    )
    def test_kind(self, code, values, expected):
        assert infer_kind(code, values) == expected


class TestConvert:
    def test_money_is_exact_decimal(self):
        columns = FieldColumns("salary", ColumnKind.MONEY, "salary")
        assert columns.convert({"amount": 1234.1, "currency": "eur"}) == [Decimal("1234.1"), "EUR"]

    def test_pay_splits_three_ways(self):
        columns = FieldColumns("baseComp", ColumnKind.PAY, "base_comp")
        value = {"interval": "HOURLY", "pay": {"amount": 31.25, "currency": "USD", "places": 2}}
        assert columns.convert(value) == ["HOURLY", Decimal("31.25"), "USD"]

    def test_pay_column_names(self):
        names = [name for name, _ in FieldColumns("baseComp", ColumnKind.PAY, "base_comp").columns]
        assert names == ["base_comp_interval", "base_comp_amount", "base_comp_currency"]

    def test_date_kept_as_written(self):
        assert FieldColumns("startDate", ColumnKind.DATE, "start_date").convert("2024-02-29") == ["2024-02-29"]

    def test_list_becomes_json_text(self):
        assert FieldColumns("tags", ColumnKind.JSON, "tags").convert(["Contractor"]) == ['["Contractor"]']

    def test_empty_becomes_nulls(self):
        assert FieldColumns("baseComp", ColumnKind.PAY, "base_comp").convert(None) == [None, None, None]

    @pytest.mark.parametrize(
        ("kind", "value"),
        [
            (ColumnKind.DATE, "31/01/2024"),
            (ColumnKind.NUMBER, "12"),
            (ColumnKind.BOOLEAN, "yes"),
            (ColumnKind.MONEY, {"amount": 1, "currency": "EURO"}),
            (ColumnKind.PAY, "100 EUR"),
            (ColumnKind.JSON, "plain"),
        ],
        ids=["date", "number", "boolean", "currency", "pay", "json"],
    )
    def test_misfit_raises(self, kind, value):
        with pytest.raises(ValueMismatch):
            FieldColumns("field", kind, "field").convert(value)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [(0.1, "0.1"), (85000, "85000"), (1e-7, "1E-7"), ("12.50", "12.50")],
        ids=["float", "int", "small", "string"],
    )
    def test_to_decimal(self, value, expected):
        assert to_decimal(value) == Decimal(expected)
