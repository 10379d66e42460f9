"""Comparison of prepared payroll rows with the current ChartHop roster from the warehouse."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from charthop.payroll.mapping import FIELD_KINDS, PAY_FIELD, PayrollMapping
from charthop.payroll.transform import match_key
from charthop.payroll.values import clean_text
from charthop.warehouse.columns import ValueMismatch, column_base_name, to_decimal

log = logging.getLogger(__name__)

#: Roster view columns for the field codes whose column name differs from ``column_base_name(code)``.
#: ``department`` is a group, and the roster stores its name. Annual pay and its currency are compared
#: with ``baseComp.annualized``, because payroll gives pay per period and the roster's ``baseComp`` may be hourly.
ROSTER_COLUMNS: dict[str, tuple[str, ...]] = {
    "department": ("department_name",),
    PAY_FIELD: ("base_comp_annualized_amount",),
    "currency": ("base_comp_annualized_currency", "currency"),
}


def roster_columns(field_code: str) -> tuple[str, ...]:
    """Return the ``charthop_roster_current`` columns that can hold a field code, in order of preference."""
    return ROSTER_COLUMNS.get(field_code, (column_base_name(field_code),))


@dataclass(frozen=True)
class ChangedRow:
    """A payroll row that differs from the roster.

    :param row: the prepared payroll row, field code to value.
    :param changed_fields: the field codes whose values differ, in ``mapping.output_fields`` order.
    """

    row: dict[str, Any]
    changed_fields: tuple[str, ...]


@dataclass
class RosterDiff:
    """The result of ``diff_against_roster``.

    :param new_rows: payroll rows whose match key is not in the roster, in payroll order.
    :param changed_rows: payroll rows that differ from their roster row, in payroll order.
    :param unchanged_count: payroll rows equal to their roster row.
    :param missing_from_payroll: match keys of roster people absent from payroll, as the roster spells
        them. They are only reported: nothing is deleted in ChartHop.
    :param roster_count: roster rows with a match key (open jobs without a person have none).
    :param missing_roster_columns: view columns the mapping's fields need but the roster lacks. Such a
        field counts as changed wherever payroll has a value, because it cannot be compared.
    :param duplicate_roster_keys: match keys found on more than one roster row (a person with several
        jobs); payroll is compared with the first.
    """

    new_rows: list[dict[str, Any]] = field(default_factory=list)
    changed_rows: list[ChangedRow] = field(default_factory=list)
    unchanged_count: int = 0
    missing_from_payroll: list[str] = field(default_factory=list)
    roster_count: int = 0
    missing_roster_columns: tuple[str, ...] = ()
    duplicate_roster_keys: list[str] = field(default_factory=list)

    @property
    def change_count(self) -> int:
        """New plus changed rows: the rows the import would send."""
        return len(self.new_rows) + len(self.changed_rows)

    def rows_to_send(self) -> list[dict[str, Any]]:
        """Return the new rows, then the changed rows, for ``write_import_csv``."""
        return self.new_rows + [changed.row for changed in self.changed_rows]


def diff_against_roster(
    rows: Iterable[Mapping[str, Any]], roster_rows: Iterable[Mapping[str, Any]], mapping: PayrollMapping
) -> RosterDiff:
    """Sort prepared payroll rows into new, changed and unchanged against the current roster.

    The roster is streamed once, and only the payroll rows are held in memory. E-mail addresses compare
    case-insensitively, amounts as ``Decimal`` (so ``85000`` equals ``85000.00``), dates as dates and
    text after NFC normalisation and stripping. An empty payroll value is not compared, so it never
    counts as a change.

    :param rows: ``PreparedPayroll.rows``: field code to value, match field included.
    :param roster_rows: rows of ``charthop_roster_current`` keyed by column name, as ``read_current_roster``
        yields them; values may be text (SQLite) or typed (PostgreSQL).
    :param mapping: the mapping the rows were prepared with.
    """
    payroll: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        key = match_key(mapping.match_field, row.get(mapping.match_field))
        if key is None:
            raise ValueError(f"payroll row {dict(row)!r} has no {mapping.match_field}; pass rows from prepare_payroll_*")
        payroll[key] = row

    diff = RosterDiff()
    key_columns = roster_columns(mapping.match_field)
    compared = [code for code in mapping.output_fields if code != mapping.match_field]
    changes: dict[str, tuple[str, ...]] = {}
    seen_keys: set[str] = set()
    missing_columns: set[str] | None = None
    for roster_row in roster_rows:
        if missing_columns is None:
            missing_columns = {
                roster_columns(code)[0] for code in mapping.output_fields
                if not any(column in roster_row for column in roster_columns(code))
            }  # fmt: skip
        roster_key_value = _roster_value(roster_row, key_columns)
        key = match_key(mapping.match_field, roster_key_value)
        if key is None:
            continue
        if key in seen_keys:
            diff.duplicate_roster_keys.append(str(roster_key_value))
            continue
        seen_keys.add(key)
        diff.roster_count += 1
        row = payroll.get(key)
        if row is None:
            diff.missing_from_payroll.append(clean_text(roster_key_value) or "")
            continue
        changes[key] = tuple(
            code for code in compared if not _equal(code, row.get(code), _roster_value(roster_row, roster_columns(code)))
        )

    for key, row in payroll.items():
        changed = changes.get(key)
        if changed is None:
            diff.new_rows.append(dict(row))
        elif changed:
            diff.changed_rows.append(ChangedRow(dict(row), changed))
        else:
            diff.unchanged_count += 1
    diff.missing_roster_columns = tuple(sorted(missing_columns or ()))
    if diff.missing_roster_columns:
        log.warning(
            "The roster lacks the columns %s, so those fields count as changed wherever payroll has a value. "
            "Add their field codes to the roster export.",
            ", ".join(diff.missing_roster_columns),
        )
    if diff.duplicate_roster_keys:
        log.warning("%d roster match keys appear on several rows; payroll was compared with the first of each.",
                    len(diff.duplicate_roster_keys))  # fmt: skip
    return diff


def _roster_value(roster_row: Mapping[str, Any], columns: tuple[str, ...]) -> Any:
    for column in columns:
        value = roster_row.get(column)
        if value is not None and value != "":
            return value
    return None


def _equal(code: str, payroll_value: Any, roster_value: Any) -> bool:
    """Return whether a payroll value matches the roster; an empty payroll value matches anything."""
    if payroll_value is None:
        return True
    if roster_value is None:
        return False
    if code == PAY_FIELD:
        return payroll_value == _as_decimal(roster_value)
    kind = FIELD_KINDS.get(code, "text")
    if kind == "date":
        return payroll_value == _as_date(roster_value)
    if kind == "email":
        return str(payroll_value).casefold() == (clean_text(roster_value) or "").casefold()
    if kind == "currency":
        return str(payroll_value).upper() == (clean_text(roster_value) or "").upper()
    return clean_text(payroll_value) == clean_text(roster_value)


def _as_decimal(value: Any) -> Decimal | None:
    try:
        return to_decimal(value)
    except ValueMismatch:
        return None


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
