"""Validating payroll rows and transforming them into ChartHop field codes."""

from __future__ import annotations

import datetime as dt
import tracemalloc
from decimal import Decimal

import pytest

from charthop.exceptions import PayrollValidationError
from charthop.payroll import load_mapping, prepare_payroll_csv, prepare_payroll_rows
from tests.charthop.payroll.conftest import CLEAN_FILE, DATA, HEADER, MAPPING_FILE, person, write_csv


def problem_text(mapping, path) -> str:
    with pytest.raises(PayrollValidationError) as caught:
        prepare_payroll_csv(path, mapping)
    return str(caught.value)


# Each case changes row 2 of a valid two-row file (line 3), so the message must name that row and line.
ROW_RULES = [
    pytest.param({"Work Email": ""}, "Work Email", None, "the match key is empty", id="match-key-empty"),
    pytest.param({"Work Email": "ada@"}, "Work Email", "'ada@'", "invalid e-mail address", id="email-invalid"),
    pytest.param({"Work Email": "PERSON1@example.com"}, "Work Email", "'PERSON1@example.com'", "duplicate match key", id="email-duplicate-case"),
    pytest.param({"Hire Date": "15/01/2019"}, "Hire Date", "'15/01/2019'", "invalid date; expected %m/%d/%Y", id="hire-date-format"),
    pytest.param({"Hire Date": "02/29/2023"}, "Hire Date", "'02/29/2023'", "invalid date; that day does not exist", id="hire-date-no-such-day"),
    pytest.param({"Termination Date": "2019-13-01"}, "Termination Date", "'2019-13-01'", "invalid date", id="termination-date-format"),
    pytest.param({"Termination Date": "01/14/2019"}, "Termination Date", "'01/14/2019'", "the termination date is before the hire date 2019-01-15", id="termination-before-hire"),
    pytest.param({"Pay Rate": "85.000,00"}, "Pay Rate", "'85.000,00'", "not a number in the declared notation", id="amount-separators"),
    pytest.param({"Pay Rate": "eighty"}, "Pay Rate", "'eighty'", "not a number", id="amount-text"),
    pytest.param({"Pay Rate": "$85,000"}, "Pay Rate", "'$85,000'", "not a number; remove the currency sign", id="amount-currency-sign"),
    pytest.param({"Pay Rate": "-85,000.00"}, "Pay Rate", "'-85,000.00'", "the pay amount is negative", id="amount-negative"),
    pytest.param({"Pay Rate": ""}, "Pay Rate", None, "the pay amount is empty", id="amount-missing"),
    pytest.param({"Pay Frequency": "Fortnightly"}, "Pay Frequency", "'Fortnightly'", "unknown pay frequency", id="frequency-unknown"),
    pytest.param({"Pay Frequency": ""}, "Pay Frequency", None, "the pay frequency is empty", id="frequency-missing"),
    pytest.param({"Currency": "EURO"}, "Currency", "'EURO'", "not an ISO 4217 currency code", id="currency-word"),
    pytest.param({"Currency": "XAU"}, "Currency", "'XAU'", "not an ISO 4217 currency code", id="currency-gold"),
    pytest.param({"Currency": ""}, "Currency", None, "the currency is empty", id="currency-missing"),
]


class TestRowRules:
    @pytest.mark.parametrize(("changes", "column", "value", "message"), ROW_RULES)
    def test_message_names_everything(self, mapping, tmp_path, changes, column, value, message):
        path = write_csv(tmp_path / "payroll.csv", [person(1), {**person(2), **changes}])
        where = f"row 2 (line 3), column {column!r}" + (f", value {value}" if value else "")
        assert f"{where}: {message}" in problem_text(mapping, path)

    @pytest.mark.parametrize(("changes", "column", "value", "message"), ROW_RULES)
    def test_message_names_file(self, mapping, tmp_path, changes, column, value, message):
        path = write_csv(tmp_path / "payroll.csv", [person(1), {**person(2), **changes}])
        assert f"Payroll data {path} has 1 problem" in problem_text(mapping, path)


class TestHeaderRules:
    def test_missing_column_named(self, mapping):
        text = problem_text(mapping, DATA / "payroll_missing_column.csv")
        assert "column 'Pay Frequency': required column missing from the header" in text

    def test_missing_column_shows_header(self, mapping):
        text = problem_text(mapping, DATA / "payroll_missing_column.csv")
        assert "Header found: 'Work Email', 'Employee Number'" in text

    def test_match_column_not_first(self, mapping):
        text = problem_text(mapping, DATA / "payroll_match_not_first.csv")
        assert "header (line 1), column 'Work Email': the match column must be the first column" in text

    def test_duplicate_column(self, mapping, tmp_path):
        path = write_csv(tmp_path / "p.csv", [person(1)], header=HEADER + ("Job Title",))
        assert "column 'Job Title': the column appears twice" in problem_text(mapping, path)

    def test_no_rows_checked_after_header_problem(self, mapping, tmp_path):
        header = tuple(column for column in HEADER if column != "Currency")
        path = write_csv(tmp_path / "p.csv", [person(1, **{"Hire Date": "bad"})], header=header)
        assert "has 1 problem" in problem_text(mapping, path)


@pytest.fixture(scope="module")
def problems_file_error() -> PayrollValidationError:
    with pytest.raises(PayrollValidationError) as caught:
        prepare_payroll_csv(DATA / "payroll_problems.csv", load_mapping(MAPPING_FILE))
    return caught.value


@pytest.fixture(scope="module")
def clean_rows() -> dict[str, dict]:
    prepared = prepare_payroll_csv(CLEAN_FILE, load_mapping(MAPPING_FILE))
    return {row["contact.workEmail"]: row for row in prepared.rows}


class TestProblemsFile:
    EXPECTED = [
        "row 2 (line 3), column 'Work Email': the match key is empty",
        "row 3 (line 4), column 'Work Email', value 'ADA.LOVELACE@example.com': duplicate match key",
        "row 4 (line 5), column 'Hire Date', value '31/01/2023': invalid date",
        "row 5 (line 6), column 'Hire Date', value '02/30/2020': invalid date",
        "row 6 (line 7), column 'Termination Date', value '01/31/2022': the termination date is before",
        "row 7 (line 8), column 'Pay Rate', value '$1,250.00': not a number",
        "row 8 (line 9), column 'Pay Rate', value '-92,000.00': the pay amount is negative",
        "row 9 (line 10), column 'Currency', value 'SKR': not an ISO 4217 currency code",
        "row 10 (line 11), column 'Pay Frequency', value 'Fortnightly': unknown pay frequency",
        "row 11 (line 12), column 'Pay Rate', value '3.461,54': not a number",
        "row 12 (line 13), column 'Work Email', value 'not-an-email': invalid e-mail address",
    ]

    @pytest.mark.parametrize("line", EXPECTED, ids=[f"row-{n}" for n in range(2, 13)])
    def test_problem_listed(self, problems_file_error, line):
        assert line in str(problems_file_error)

    def test_total(self, problems_file_error):
        assert problems_file_error.total == len(self.EXPECTED)

    def test_problems_attribute(self, problems_file_error):
        assert [(p.row_number, p.line_number) for p in problems_file_error.problems][:2] == [(2, 3), (3, 4)]

    def test_says_what_to_do(self, problems_file_error):
        assert "Correct the payroll export" in str(problems_file_error)


class TestProblemCap:
    @pytest.fixture
    def error(self, mapping, tmp_path) -> PayrollValidationError:
        rows = [person(n, **{"Currency": "XYZ"}) for n in range(1, 121)]
        path = write_csv(tmp_path / "p.csv", rows)
        with pytest.raises(PayrollValidationError) as caught:
            prepare_payroll_csv(path, mapping)
        return caught.value

    def test_total_counts_all(self, error):
        assert error.total == 120

    def test_lists_fifty(self, error):
        assert len(error.problems) == 50

    def test_message_gives_total(self, error):
        assert "...and 70 more: 50 of 120 problems are listed." in str(error)

    def test_message_stops_at_fifty(self, error):
        assert "row 51 " not in str(error)

    def test_custom_cap(self, mapping, tmp_path):
        path = write_csv(tmp_path / "p.csv", [person(n, **{"Currency": "XYZ"}) for n in range(1, 6)])
        with pytest.raises(PayrollValidationError) as caught:
            prepare_payroll_csv(path, mapping, max_problems=2)
        assert len(caught.value.problems) == 2


class TestCleanFile:
    @pytest.mark.parametrize(
        ("email", "annual", "currency"),
        [
            pytest.param("ada.lovelace@example.com", "185000.00", "USD", id="annual-usd"),
            pytest.param("jose.garcia@example.com", "87000.00", "EUR", id="monthly-eur"),
            pytest.param("conor.obrien@example.com", "90000.04", "GBP", id="biweekly-gbp"),
            pytest.param("li.wei@example.com", "88400.00", "USD", id="hourly-usd"),
            pytest.param("yui.sato@example.com", "6100000.00", "JPY", id="annual-jpy"),
            pytest.param("noa.cohen@example.com", "51600.00", "ILS", id="semi-monthly-ils"),
            pytest.param("omar.haddad@example.com", "65000.00", "USD", id="weekly-usd"),
            pytest.param("bjorn.nilsson@example.com", "702000.00", "SEK", id="monthly-sek"),
            pytest.param("priya.sharma@example.com", "52000.00", "CAD", id="hourly-cad"),
        ],
    )
    def test_annual_pay(self, clean_rows, email, annual, currency):
        assert (clean_rows[email]["baseComp"], clean_rows[email]["currency"]) == (Decimal(annual), currency)

    def test_pay_is_decimal(self, clean_rows):
        assert all(type(row["baseComp"]) is Decimal for row in clean_rows.values())

    def test_pay_has_two_places(self, clean_rows):
        assert {row["baseComp"].as_tuple().exponent for row in clean_rows.values()} == {-2}

    def test_dates_are_dates(self, clean_rows):
        assert clean_rows["zoe.dubois@example.com"]["endDate"] == dt.date(2024, 12, 31)

    def test_iso_date_accepted(self, clean_rows):
        assert clean_rows["yui.sato@example.com"]["startDate"] == dt.date(2020, 11, 2)

    def test_empty_date_is_none(self, clean_rows):
        assert clean_rows["ada.lovelace@example.com"]["endDate"] is None

    def test_cjk_name(self, clean_rows):
        assert (clean_rows["li.wei@example.com"]["name.first"], clean_rows["li.wei@example.com"]["name.last"]) == ("伟", "李")

    def test_hebrew_name(self, clean_rows):
        assert clean_rows["noa.cohen@example.com"]["name.first"] == "נועה"

    def test_apostrophe_name(self, clean_rows):
        assert clean_rows["conor.obrien@example.com"]["name.last"] == "O'Brien"

    def test_comma_in_title(self, clean_rows):
        assert clean_rows["ada.lovelace@example.com"]["title"] == "VP, Engineering"

    def test_employee_number_keeps_zeros(self, clean_rows):
        assert clean_rows["ada.lovelace@example.com"]["contact.employee"] == "000101"

    def test_keys_in_output_order(self, clean_rows, mapping):
        assert tuple(clean_rows["ada.lovelace@example.com"]) == mapping.output_fields


class TestTransformedValues:
    def test_text_stripped(self, mapping, tmp_path):
        path = write_csv(tmp_path / "p.csv", [person(1, **{"Job Title": "  Staff Engineer  "})])
        assert prepare_payroll_csv(path, mapping).rows[0]["title"] == "Staff Engineer"

    def test_currency_upper_cased(self, mapping, tmp_path):
        path = write_csv(tmp_path / "p.csv", [person(1, Currency="eur")])
        assert prepare_payroll_csv(path, mapping).rows[0]["currency"] == "EUR"

    def test_no_pay_gives_none(self, mapping, tmp_path):
        path = write_csv(tmp_path / "p.csv", [person(1, **{"Pay Rate": "", "Pay Frequency": "", "Currency": ""})])
        assert prepare_payroll_csv(path, mapping).rows[0]["baseComp"] is None

    def test_hourly_hours_configurable(self, tmp_path):
        prepared = prepare_payroll_csv(DATA / "payroll_de.csv", load_mapping(DATA / "mapping_de.yaml"))
        assert prepared.rows[2]["baseComp"] == Decimal("45045.00")

    def test_german_monthly(self):
        prepared = prepare_payroll_csv(DATA / "payroll_de.csv", load_mapping(DATA / "mapping_de.yaml"))
        assert prepared.rows[0]["baseComp"] == Decimal("69999.96")

    def test_german_dates(self):
        prepared = prepare_payroll_csv(DATA / "payroll_de.csv", load_mapping(DATA / "mapping_de.yaml"))
        assert prepared.rows[1]["endDate"] == dt.date(2025, 3, 31)


class TestMemory:
    def test_raw_rows_not_kept(self, mapping, tmp_path):
        path = write_csv(tmp_path / "p.csv", [person(n) for n in range(10_000)])
        tracemalloc.start()
        try:
            prepared = prepare_payroll_csv(path, mapping)
            retained, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert len(prepared.rows) == 10_000
        # Converted rows are kept; raw rows are not, so the peak stays close to what is retained.
        assert peak < 1.6 * retained


class TestCallerRows:
    def test_typed_values(self, mapping):
        record = {**person(1), "Hire Date": dt.date(2019, 1, 15), "Pay Rate": Decimal("7250.00"), "Pay Frequency": "Monthly"}
        row = prepare_payroll_rows([record], mapping).rows[0]
        assert (row["startDate"], row["baseComp"]) == (dt.date(2019, 1, 15), Decimal("87000.00"))

    def test_match_column_need_not_be_first(self, mapping):
        record = {key: value for key, value in reversed(person(1).items())}
        assert len(prepare_payroll_rows([record], mapping).rows) == 1

    def test_integer_employee_number(self, mapping):
        record = {**person(1), "Employee Number": 4711}
        assert prepare_payroll_rows([record], mapping).rows[0]["contact.employee"] == "4711"

    def test_problem_names_source_and_row(self, mapping):
        records = [person(1), person(2, Currency="DOLLARS")]
        with pytest.raises(PayrollValidationError, match=r"payroll_table has 1 problem.*\n  row 2, column 'Currency', value 'DOLLARS'"):
            prepare_payroll_rows(records, mapping, source_name="payroll_table")

    def test_missing_key_in_later_row(self, mapping):
        second = person(2)
        del second["Department"]
        with pytest.raises(PayrollValidationError, match="row 2, column 'Department': the row has no key"):
            prepare_payroll_rows([person(1), second], mapping)

    def test_missing_column(self, mapping):
        record = person(1)
        del record["Currency"]
        with pytest.raises(PayrollValidationError, match="column 'Currency': required column missing"):
            prepare_payroll_rows([record], mapping)

    def test_datetime_with_time_rejected(self, mapping):
        record = {**person(1), "Hire Date": dt.datetime(2019, 1, 15, 9, 30)}
        with pytest.raises(PayrollValidationError, match="time of day"):
            prepare_payroll_rows([record], mapping)
