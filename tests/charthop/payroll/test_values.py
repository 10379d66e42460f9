"""Parsing single payroll values: amounts with separators, annual pay, dates and text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from charthop.payroll.values import annual_amount, clean_text, parse_amount, parse_date, parse_email


class TestParseAmount:
    @pytest.mark.parametrize(
        ("text", "decimal_separator", "thousands_separator", "expected"),
        [
            pytest.param("1234.56", ".", "", Decimal("1234.56"), id="plain"),
            pytest.param("1,234.56", ".", ",", Decimal("1234.56"), id="us-grouped"),
            pytest.param("1234.56", ".", ",", Decimal("1234.56"), id="us-ungrouped"),
            pytest.param("1.234,56", ",", ".", Decimal("1234.56"), id="german"),
            pytest.param("1 234,56", ",", " ", Decimal("1234.56"), id="french-space"),
            pytest.param("1\u00a0234,56", ",", " ", Decimal("1234.56"), id="french-nbsp"),
            pytest.param("1\u202f234,56", ",", " ", Decimal("1234.56"), id="french-narrow-nbsp"),
            pytest.param("1'234.56", ".", "'", Decimal("1234.56"), id="swiss"),
            pytest.param("6,100,000", ".", ",", Decimal("6100000"), id="no-decimals"),
            pytest.param("  42.50 ", ".", ",", Decimal("42.50"), id="whitespace"),
            pytest.param("0", ".", ",", Decimal("0"), id="zero"),
            pytest.param("-5", ".", ",", Decimal("-5"), id="negative-parses"),
        ],
    )
    def test_valid(self, text, decimal_separator, thousands_separator, expected):
        assert parse_amount(text, decimal_separator, thousands_separator) == expected

    @pytest.mark.parametrize(
        ("text", "decimal_separator", "thousands_separator"),
        [
            pytest.param("1,00", ".", ",", id="short-group"),
            pytest.param("1.234,56", ".", ",", id="wrong-convention"),
            pytest.param("1e5", ".", "", id="exponent"),
            pytest.param("NaN", ".", "", id="nan"),
            pytest.param("12.5.1", ".", "", id="two-points"),
            pytest.param("$100", ".", ",", id="dollar-sign"),
            pytest.param("100 €", ",", ".", id="euro-sign"),
            pytest.param("", ".", "", id="empty"),
            pytest.param("(100)", ".", "", id="accounting-negative"),
        ],
    )
    def test_invalid(self, text, decimal_separator, thousands_separator):
        with pytest.raises(ValueError):
            parse_amount(text, decimal_separator, thousands_separator)

    def test_currency_sign_message(self):
        with pytest.raises(ValueError, match="remove the currency sign"):
            parse_amount("$100")

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            pytest.param(85000, Decimal("85000"), id="int"),
            pytest.param(Decimal("7250.50"), Decimal("7250.50"), id="decimal"),
            pytest.param(42.5, Decimal("42.5"), id="float-repr"),
        ],
    )
    def test_typed_values(self, value, expected):
        assert parse_amount(value) == expected


class TestAnnualAmount:
    @pytest.mark.parametrize(
        ("amount", "multiplier", "expected"),
        [
            pytest.param("185000", "1", "185000.00", id="annual"),
            pytest.param("7250.00", "12", "87000.00", id="monthly"),
            pytest.param("2150.00", "24", "51600.00", id="semi-monthly"),
            pytest.param("3461.54", "26", "90000.04", id="biweekly"),
            pytest.param("1250.00", "52", "65000.00", id="weekly"),
            pytest.param("42.50", "2080", "88400.00", id="hourly-40h"),
            pytest.param("22.50", "2002.0", "45045.00", id="hourly-38.5h"),
            pytest.param("0.005", "1", "0.01", id="half-up"),
            pytest.param("0.004", "1", "0.00", id="rounds-down"),
            pytest.param("33.333", "3", "100.00", id="sub-cent-product"),
            pytest.param("-0", "12", "0.00", id="negative-zero"),
        ],
    )
    def test_exact(self, amount, multiplier, expected):
        assert str(annual_amount(Decimal(amount), Decimal(multiplier))) == expected


class TestParseDate:
    @pytest.mark.parametrize(
        ("text", "formats", "expected"),
        [
            pytest.param("01/31/2024", ["%m/%d/%Y"], dt.date(2024, 1, 31), id="us"),
            pytest.param("1/5/2022", ["%m/%d/%Y"], dt.date(2022, 1, 5), id="us-unpadded"),
            pytest.param("31.01.2024", ["%d.%m.%Y"], dt.date(2024, 1, 31), id="german"),
            pytest.param("2024-01-31", ["%Y-%m-%d"], dt.date(2024, 1, 31), id="iso"),
            pytest.param("2024-01-31", ["%m/%d/%Y", "%Y-%m-%d"], dt.date(2024, 1, 31), id="second-format"),
            pytest.param("2024-02-29", ["%Y-%m-%d"], dt.date(2024, 2, 29), id="leap-day"),
            pytest.param(dt.date(2024, 1, 31), ["%m/%d/%Y"], dt.date(2024, 1, 31), id="typed-date"),
            pytest.param(dt.datetime(2024, 1, 31), ["%m/%d/%Y"], dt.date(2024, 1, 31), id="midnight-datetime"),
        ],
    )
    def test_valid(self, text, formats, expected):
        assert parse_date(text, formats) == expected

    @pytest.mark.parametrize(
        ("text", "formats", "message"),
        [
            pytest.param("31/01/2024", ["%m/%d/%Y"], "expected %m/%d/%Y", id="eu-in-us-file"),
            pytest.param("2023-02-29", ["%Y-%m-%d"], "does not exist", id="no-leap-day"),
            pytest.param("04/31/2024", ["%m/%d/%Y"], "does not exist", id="april-31"),
            pytest.param("01/31/24", ["%m/%d/%Y"], "expected %m/%d/%Y", id="two-digit-year"),
            pytest.param("2024-01-31T09:00", ["%Y-%m-%d"], "expected %Y-%m-%d", id="timestamp-text"),
            pytest.param(dt.datetime(2024, 1, 31, 9), ["%m/%d/%Y"], "time of day", id="datetime-with-time"),
        ],
    )
    def test_invalid(self, text, formats, message):
        with pytest.raises(ValueError, match=message):
            parse_date(text, formats)


class TestText:
    def test_strips_whitespace(self):
        assert clean_text("  O'Brien \t") == "O'Brien"

    def test_blank_is_none(self):
        assert clean_text("   ") is None

    def test_nfc_normalised(self):
        assert clean_text("Jose\u0301") == "Jos\u00e9"

    def test_email_valid(self):
        assert parse_email("Ada.Lovelace@Example.com") == "Ada.Lovelace@Example.com"

    @pytest.mark.parametrize("text", ["ada", "ada@", "@example.com", "ada lovelace@example.com", "ada@example"])
    def test_email_invalid(self, text):
        with pytest.raises(ValueError, match="invalid e-mail"):
            parse_email(text)
