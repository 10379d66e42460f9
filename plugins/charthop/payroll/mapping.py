"""The payroll mapping file: which payroll column feeds which ChartHop field code, and how values convert.

A mapping file is YAML, for example ``include/payroll/mapping.yaml``::

    match_field: contact.workEmail        # or contact.employee; its column must come first in the file
    fields:                               # ChartHop field code: payroll column
      contact.workEmail: Work Email
      contact.employee: Employee Number
      name.first: Legal First Name
      startDate: Hire Date
      currency: Currency
    pay:                                  # optional; fills baseComp with the annual amount
      amount_column: Pay Rate
      frequency_column: Pay Frequency
      hours_per_week: 40                  # for "hourly"; the default is 40
      frequencies:                        # label in the file (case-insensitive): pay periods per year
        Annual: 1
        Bi-Weekly: 26
        Hourly: hourly                    # hours_per_week x 52
    dates:
      formats: ["%m/%d/%Y"]               # strptime formats, tried in order
    numbers:
      decimal_separator: "."              # "." or ","
      thousands_separator: ","            # "", ",", ".", " " or "'"
    delimiter: ","                        # the CSV field separator: ",", ";", "|" or a tab; "," by default
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import yaml

from charthop.exceptions import PayrollMappingError
from charthop.warehouse.columns import ValueMismatch, to_decimal

#: The field codes a mapping can fill, with the kind of value each takes.
FIELD_KINDS: dict[str, str] = {
    "contact.workEmail": "email",
    "contact.employee": "text",
    "name.first": "text",
    "name.last": "text",
    "title": "text",
    "department": "text",
    "startDate": "date",
    "endDate": "date",
    "currency": "currency",
}

#: The field codes that can identify a person in the import; ChartHop reads the leftmost column as that key.
MATCH_FIELDS = ("contact.workEmail", "contact.employee")

#: The field code that receives the annual base pay computed from the pay columns.
PAY_FIELD = "baseComp"

HOURLY = "hourly"
WEEKS_PER_YEAR = Decimal(52)
DEFAULT_HOURS_PER_WEEK = Decimal(40)
DECIMAL_SEPARATORS = (".", ",")
THOUSANDS_SEPARATORS = ("", ",", ".", " ", "'")
DELIMITERS = (",", ";", "|", "\t")

_TOP_LEVEL_KEYS = {"match_field", "fields", "pay", "dates", "numbers", "delimiter"}
_PAY_KEYS = {"amount_column", "frequency_column", "hours_per_week", "frequencies"}


def normalize_column(name: str) -> str:
    """Return the form in which column names are compared: case-folded, with runs of whitespace made one space."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class PayMapping:
    """The pay columns and the multipliers that turn them into the annual base pay.

    :param amount_column: payroll column with the pay per period (or per hour).
    :param frequency_column: payroll column with the pay frequency label.
    :param periods_per_year: normalized frequency label to the number of pay periods in a year; hourly
        labels map to ``hours_per_week`` x 52.
    :param labels: normalized frequency label to the label as the mapping file spells it, for messages.
    :param hours_per_week: hours an hourly employee works in a week; 40 by default.
    """

    amount_column: str
    frequency_column: str
    periods_per_year: Mapping[str, Decimal]
    labels: Mapping[str, str]
    hours_per_week: Decimal

    def multiplier(self, frequency: str) -> Decimal | None:
        """Return the factor from one period's pay to annual pay, or ``None`` for an unknown label."""
        return self.periods_per_year.get(normalize_column(frequency))


@dataclass(frozen=True)
class PayrollMapping:
    """A loaded and validated mapping file.

    :param source: the file the mapping came from, for messages.
    :param match_field: ``contact.workEmail`` or ``contact.employee``.
    :param fields: ChartHop field code to payroll column, the match field first.
    :param pay: the pay columns, or ``None`` when the mapping does not fill ``baseComp``.
    :param date_formats: ``strptime`` formats of the payroll file's dates, tried in order.
    :param decimal_separator: ``.`` or ``,``.
    :param thousands_separator: one of ``""``, ``,``, ``.``, ``" "`` and ``'``.
    :param delimiter: the payroll CSV's field separator: ``,`` (the default), ``;``, ``|`` or a tab.
    """

    source: str
    match_field: str
    fields: Mapping[str, str]
    pay: PayMapping | None
    date_formats: tuple[str, ...]
    decimal_separator: str
    thousands_separator: str
    delimiter: str = ","

    @property
    def match_column(self) -> str:
        """The payroll column that contains the match key."""
        return self.fields[self.match_field]

    @property
    def output_fields(self) -> tuple[str, ...]:
        """The field codes of a transformed row, in CSV order: the match field first, ``baseComp`` last."""
        codes = tuple(self.fields)
        return codes + (PAY_FIELD,) if self.pay else codes

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Every payroll column the mapping reads, the match column first."""
        columns = tuple(self.fields.values())
        if self.pay:
            columns += (self.pay.amount_column, self.pay.frequency_column)
        return columns


def load_mapping(path: str | os.PathLike[str]) -> PayrollMapping:
    """Read and validate a payroll mapping file.

    :param path: the YAML mapping file.
    :raises PayrollMappingError: the file is missing or not valid YAML, or a key is missing or invalid.
        The message names the file and the key.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PayrollMappingError(f"Payroll mapping file {source} not found. Pass the path of a YAML mapping file.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PayrollMappingError(f"Could not read payroll mapping file {source}: {error}. Save it as UTF-8 text.") from error
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PayrollMappingError(f"Payroll mapping file {source} is not valid YAML: {error}") from error
    return mapping_from_dict(data, source=source)


def mapping_from_dict(data: Any, source: str = "<mapping>") -> PayrollMapping:
    """Validate a mapping given as parsed YAML (nested dicts and lists), such as an operator argument.

    :param data: the mapping, in the shape of the mapping file.
    :param source: name of the mapping's origin, used in messages.
    :raises PayrollMappingError: a key is missing or invalid; the message names ``source`` and the key.
    """
    fail = _Failer(source)
    if not isinstance(data, Mapping):
        fail("", f"the file must contain a YAML mapping with the keys {', '.join(sorted(_TOP_LEVEL_KEYS))}")
    unknown = sorted(set(map(str, data)) - _TOP_LEVEL_KEYS)
    if unknown:
        fail(unknown[0], f"unknown key; the allowed keys are {', '.join(sorted(_TOP_LEVEL_KEYS))}")

    match_field = data.get("match_field")
    if match_field not in MATCH_FIELDS:
        fail("match_field", f"{match_field!r} is not a match field; use one of {', '.join(MATCH_FIELDS)}")
    fields = _fields(data.get("fields"), match_field, fail)
    pay = _pay(data.get("pay"), fail) if data.get("pay") is not None else None
    if pay is not None and "currency" not in fields:
        fail("fields", "the pay section needs a column for the field code 'currency', so baseComp has a currency")
    date_formats = _date_formats(data.get("dates"), fields, fail)
    decimal_separator, thousands_separator = _separators(data.get("numbers"), fail)
    delimiter = data.get("delimiter", ",")
    if delimiter not in DELIMITERS:
        fail("delimiter", f"{delimiter!r} is not one of {DELIMITERS}")

    columns = list(fields.values()) + ([pay.amount_column, pay.frequency_column] if pay else [])
    seen: dict[str, str] = {}
    for column in columns:
        if normalize_column(column) in seen:
            fail("fields", f"the payroll column {column!r} is mapped twice; map each column once")
        seen[normalize_column(column)] = column

    return PayrollMapping(
        source=source,
        match_field=match_field,
        fields=fields,
        pay=pay,
        date_formats=date_formats,
        decimal_separator=decimal_separator,
        thousands_separator=thousands_separator,
        delimiter=delimiter,
    )


class _Failer:
    """Raises ``PayrollMappingError`` naming the mapping source and the key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __call__(self, key: str, problem: str) -> NoReturn:
        where = f"key '{key}'" if key else "top level"
        raise PayrollMappingError(f"Invalid payroll mapping {self.source}, {where}: {problem}.")


def _column_name(value: Any, key: str, fail: _Failer) -> str:
    if not isinstance(value, str) or not value.strip():
        fail(key, f"{value!r} is not a column name; give the payroll column's header text")
    return value.strip()


def _fields(value: Any, match_field: str, fail: _Failer) -> dict[str, str]:
    if not isinstance(value, Mapping) or not value:
        fail("fields", "missing; map ChartHop field codes to payroll columns, such as 'contact.workEmail: Work Email'")
    fields: dict[str, str] = {}
    for code, column in value.items():
        if code not in FIELD_KINDS:
            supported = ", ".join(FIELD_KINDS)
            hint = "; baseComp is filled from the 'pay' section" if code == PAY_FIELD else ""
            fail(f"fields.{code}", f"unsupported field code; use one of {supported}{hint}")
        fields[code] = _column_name(column, f"fields.{code}", fail)
    if match_field not in fields:
        fail("fields", f"the match field {match_field} has no column; add '{match_field}: <payroll column>'")
    # The match field comes first, because ChartHop's importer reads the leftmost column as the key.
    return {match_field: fields[match_field], **{k: v for k, v in fields.items() if k != match_field}}


def _positive_decimal(value: Any, key: str, fail: _Failer) -> Decimal:
    try:
        number = to_decimal(value) if isinstance(value, (int, float, str)) else None
    except ValueMismatch:
        number = None
    if number is None or not number.is_finite() or number <= 0:
        fail(key, f"{value!r} is not a positive number")
    return number


def _pay(value: Any, fail: _Failer) -> PayMapping:
    if not isinstance(value, Mapping):
        fail("pay", "must be a mapping with amount_column, frequency_column and frequencies")
    unknown = sorted(set(map(str, value)) - _PAY_KEYS)
    if unknown:
        fail(f"pay.{unknown[0]}", f"unknown key; the allowed keys are {', '.join(sorted(_PAY_KEYS))}")
    amount_column = _column_name(value.get("amount_column"), "pay.amount_column", fail)
    frequency_column = _column_name(value.get("frequency_column"), "pay.frequency_column", fail)
    hours = value.get("hours_per_week", DEFAULT_HOURS_PER_WEEK)
    hours_per_week = _positive_decimal(hours, "pay.hours_per_week", fail)
    if hours_per_week > 168:
        fail("pay.hours_per_week", f"{hours!r} is more than the 168 hours of a week")

    frequencies = value.get("frequencies")
    if not isinstance(frequencies, Mapping) or not frequencies:
        fail("pay.frequencies", "missing; map each pay frequency label to pay periods per year, such as 'Monthly: 12'")
    periods: dict[str, Decimal] = {}
    labels: dict[str, str] = {}
    for label, per_year in frequencies.items():
        key = f"pay.frequencies.{label}"
        label_text = _column_name(label, key, fail)
        if normalize_column(label_text) in periods:
            fail(key, "the label is listed twice (labels are compared case-insensitively)")
        if isinstance(per_year, str) and per_year.strip().lower() == HOURLY:
            multiplier = hours_per_week * WEEKS_PER_YEAR
        else:
            multiplier = _positive_decimal(per_year, key, fail)
        periods[normalize_column(label_text)] = multiplier
        labels[normalize_column(label_text)] = label_text
    return PayMapping(amount_column, frequency_column, periods, labels, hours_per_week)


def _date_formats(value: Any, fields: Mapping[str, str], fail: _Failer) -> tuple[str, ...]:
    has_dates = any(FIELD_KINDS[code] == "date" for code in fields)
    if value is not None and not isinstance(value, Mapping):
        fail("dates", "must be a mapping with the key formats")
    formats = value.get("formats") if value is not None else None
    if formats is None:
        if has_dates:
            fail("dates.formats", "missing; list the strptime formats of the payroll file's dates, such as ['%m/%d/%Y']")
        return ()
    if isinstance(formats, str):
        formats = [formats]
    if not isinstance(formats, list) or not formats:
        fail("dates.formats", f"{formats!r} is not a list of strptime formats")
    sample = dt.date(2024, 1, 31)
    for text in formats:
        # A format that cannot read back the date it writes, such as '%Q' or '%m/%Y', is rejected.
        try:
            valid = isinstance(text, str) and dt.datetime.strptime(sample.strftime(text), text).date() == sample
        except ValueError:
            valid = False
        if not valid:
            fail("dates.formats", f"{text!r} is not a strptime format with day, month and year, such as '%d.%m.%Y'")
    return tuple(formats)


def _separators(value: Any, fail: _Failer) -> tuple[str, str]:
    value = value if value is not None else {}
    if not isinstance(value, Mapping):
        fail("numbers", "must be a mapping with decimal_separator and thousands_separator")
    decimal_separator = value.get("decimal_separator", ".")
    thousands_separator = value.get("thousands_separator", "")
    if thousands_separator is None:
        thousands_separator = ""
    if decimal_separator not in DECIMAL_SEPARATORS:
        fail("numbers.decimal_separator", f"{decimal_separator!r} is not one of {DECIMAL_SEPARATORS}")
    if thousands_separator not in THOUSANDS_SEPARATORS:
        fail("numbers.thousands_separator", f"{thousands_separator!r} is not one of {THOUSANDS_SEPARATORS}")
    if thousands_separator == decimal_separator:
        fail("numbers.thousands_separator", f"{thousands_separator!r} is also the decimal separator; use another one")
    return decimal_separator, thousands_separator
