"""Validation and transformation of payroll rows into rows of ChartHop field codes.

Every row is checked and every problem is collected before anything is returned, so one run reports the
whole file's problems in one ``PayrollValidationError``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from charthop.payroll.currencies import is_currency_code
from charthop.payroll.mapping import FIELD_KINDS, PAY_FIELD, PayrollMapping
from charthop.payroll.source import PayrollCsvReader, SourceRow, rows_from_records
from charthop.payroll.validation import DEFAULT_MAX_PROBLEMS, ProblemCollector
from charthop.payroll.values import annual_amount, clean_text, parse_amount, parse_date, parse_email

log = logging.getLogger(__name__)


@dataclass
class PreparedPayroll:
    """Payroll rows that passed validation, converted to ChartHop field codes.

    :param source: the payroll file, or the name given for rows from the caller.
    :param mapping: the mapping used.
    :param rows: one dict per payroll row, field code to value, keys in ``mapping.output_fields`` order.
        Text is ``str``, dates are ``datetime.date``, ``baseComp`` is the annual pay as a ``Decimal`` with
        two places, ``currency`` is upper case. An empty payroll cell gives ``None``.
    :param blank_rows: rows with no value in any field, which were skipped.
    :param bom_stripped: whether the file started with a UTF-8 byte order mark, which was ignored.
    """

    source: str
    mapping: PayrollMapping
    rows: list[dict[str, Any]] = field(default_factory=list)
    blank_rows: int = 0
    bom_stripped: bool = False


def match_key(field_code: str, value: Any) -> str | None:
    """Return the form in which match keys are compared: e-mail addresses case-folded, employee ids as text."""
    text = clean_text(value)
    if text is None:
        return None
    return text.casefold() if field_code == "contact.workEmail" else text


def prepare_payroll_csv(
    path: str | os.PathLike[str], mapping: PayrollMapping, *, max_problems: int = DEFAULT_MAX_PROBLEMS
) -> PreparedPayroll:
    """Read, validate and transform a payroll CSV file, streaming it once.

    :param path: the payroll export, UTF-8 with an optional byte order mark (stripped with a warning).
    :param mapping: from ``load_mapping``.
    :param max_problems: problems listed in the error message; 50 by default. All are counted.
    :raises PayrollEncodingError: the file is not UTF-8, such as a Latin-1 or Windows-1252 export.
    :raises PayrollValidationError: the header or any row has a problem.
    :raises PayrollError: the file does not exist.
    """
    problems = ProblemCollector(str(path), max_problems)
    with PayrollCsvReader(path, mapping, problems) as reader:
        prepared = _prepare(reader.rows(), mapping, problems, source=str(path))
        prepared.blank_rows = reader.blank_rows
        prepared.bom_stripped = reader.bom_stripped
    if prepared.blank_rows:
        log.info("Skipped %d blank rows in payroll file %s.", prepared.blank_rows, path)
    return prepared


def prepare_payroll_rows(
    records: Iterable[Mapping[str, Any]],
    mapping: PayrollMapping,
    *,
    source_name: str = "payroll rows",
    max_problems: int = DEFAULT_MAX_PROBLEMS,
) -> PreparedPayroll:
    """Validate and transform payroll rows given as dicts, such as rows of a warehouse table.

    Keys are payroll column names, compared case-insensitively with the mapping's. Values may be text or
    already typed: ``datetime.date`` for dates, ``int``/``Decimal`` for amounts.

    :param records: the rows; the first row's keys are taken as the header.
    :param mapping: from ``load_mapping``.
    :param source_name: how messages name the rows' origin, such as a table name.
    :param max_problems: problems listed in the error message; 50 by default. All are counted.
    :raises PayrollValidationError: a mapped column is missing or any row has a problem.
    """
    problems = ProblemCollector(source_name, max_problems)
    return _prepare(rows_from_records(records, mapping, problems), mapping, problems, source=source_name)


def _prepare(
    rows: Iterator[SourceRow], mapping: PayrollMapping, problems: ProblemCollector, *, source: str
) -> PreparedPayroll:
    prepared = PreparedPayroll(source=source, mapping=mapping)
    # Only the position of each key's first row is kept, so the raw rows are not held next to the converted ones.
    first_row_of_key: dict[str, tuple[int, int | None]] = {}
    for row in rows:
        converted = _convert_row(row, mapping, problems)
        if converted is None:
            continue
        key = match_key(mapping.match_field, converted[mapping.match_field])
        first = first_row_of_key.get(key)
        if first is not None:
            first_row, first_line = first
            where = f"row {first_row}" + (f" (line {first_line})" if first_line else "")
            case = " (e-mail addresses are compared case-insensitively)" if mapping.match_field == "contact.workEmail" else ""
            problems.add(
                f"duplicate match key{case}; {where} has the same key. Keep one row per person",
                row_number=row.row_number,
                line_number=row.line_number,
                column=mapping.match_column,
                value=row.values[mapping.match_column],
            )
            continue
        first_row_of_key[key] = (row.row_number, row.line_number)
        # Rows are dropped once a problem is found, because they will never be sent.
        if not problems.total:
            prepared.rows.append(converted)
    problems.raise_if_any()
    return prepared


class _RowProblems:
    """Records problems of one row, adding its position."""

    def __init__(self, row: SourceRow, problems: ProblemCollector) -> None:
        self.row = row
        self.problems = problems
        self.count = 0

    def add(self, column: str, message: str, value: Any = None) -> None:
        self.count += 1
        self.problems.add(
            message, row_number=self.row.row_number, line_number=self.row.line_number, column=column, value=value
        )


def _convert_row(row: SourceRow, mapping: PayrollMapping, problems: ProblemCollector) -> dict[str, Any] | None:
    """Return the row as field code to value, or ``None`` after recording its problems."""
    row_problems = _RowProblems(row, problems)
    converted: dict[str, Any] = {}
    for code, column in mapping.fields.items():
        raw = row.values[column]
        converted[code] = _convert_value(FIELD_KINDS[code], raw, mapping, column, row_problems)

    match_column = mapping.match_column
    if converted[mapping.match_field] is None and clean_text(row.values[match_column]) is None:
        row_problems.add(match_column, "the match key is empty; every row needs one, because ChartHop matches people on it")

    start, end = converted.get("startDate"), converted.get("endDate")
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        row_problems.add(
            mapping.fields["endDate"],
            f"the termination date is before the hire date {start.isoformat()}; correct one of them",
            row.values[mapping.fields["endDate"]],
        )

    if mapping.pay is not None:
        converted[PAY_FIELD] = _annual_pay(row, mapping, converted.get("currency"), row_problems)
    return None if row_problems.count else converted


def _convert_value(kind: str, raw: Any, mapping: PayrollMapping, column: str, row_problems: _RowProblems) -> Any:
    typed_date = kind == "date" and isinstance(raw, dt.date)
    text = None if typed_date else clean_text(raw)
    if text is None and not typed_date:
        return None
    try:
        if typed_date:
            return parse_date(raw, mapping.date_formats)
        if kind == "email":
            return parse_email(text)
        if kind == "date":
            return parse_date(text, mapping.date_formats)
        if kind == "currency":
            code = text.upper()
            if not is_currency_code(code):
                raise ValueError("not an ISO 4217 currency code; use a three-letter code such as USD, EUR or JPY")
            return code
        return text
    except ValueError as error:
        row_problems.add(column, str(error), raw)
        return None


def _annual_pay(
    row: SourceRow, mapping: PayrollMapping, currency: str | None, row_problems: _RowProblems
) -> Decimal | None:
    pay = mapping.pay
    assert pay is not None
    raw_amount, raw_frequency = row.values[pay.amount_column], row.values[pay.frequency_column]
    amount_text, frequency = clean_text(raw_amount), clean_text(raw_frequency)
    if amount_text is None and frequency is None:
        return None
    if amount_text is None:
        row_problems.add(pay.amount_column, "the pay amount is empty but a pay frequency is given; fill in both or neither")
        return None

    amount: Decimal | None
    try:
        amount = parse_amount(
            raw_amount if not isinstance(raw_amount, str) else amount_text,
            mapping.decimal_separator,
            mapping.thousands_separator,
        )
    except ValueError as error:
        row_problems.add(pay.amount_column, str(error), raw_amount)
        amount = None
    if amount is not None and amount < 0:
        row_problems.add(pay.amount_column, "the pay amount is negative; expected zero or more", raw_amount)
        amount = None

    multiplier = None
    if frequency is None:
        row_problems.add(pay.frequency_column, "the pay frequency is empty but a pay amount is given; fill in both or neither")
    else:
        multiplier = pay.multiplier(frequency)
        if multiplier is None:
            known = ", ".join(repr(label) for label in pay.labels.values())
            row_problems.add(
                pay.frequency_column,
                f"unknown pay frequency; use one of {known}, or add it under pay.frequencies in {mapping.source}",
                raw_frequency,
            )

    currency_column = mapping.fields["currency"]
    if currency is None and clean_text(row.values[currency_column]) is None:
        row_problems.add(currency_column, "the currency is empty but a pay amount is given; give an ISO 4217 code such as USD")

    if amount is None or multiplier is None:
        return None
    return annual_amount(amount, multiplier)
