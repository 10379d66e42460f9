"""Typed warehouse columns for ChartHop field codes: naming, kind inference and value conversion."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_IDENTIFIER = re.compile(r"[^a-z0-9_]+")
MAX_IDENTIFIER_LENGTH = 63

#: Field codes whose values are ids: always stored as text, so leading zeros and long digit runs survive.
ID_FIELDS = frozenset({"jobid", "personid", "manager", "userid", "contact.employee"})

#: Columns every snapshot row has; a field whose column name would clash gets the suffix ``_field``.
FIXED_COLUMNS = frozenset({"snapshot_date", "job_id", "run_id", "loaded_at", "row_hash", "row_data"})


class ColumnKind(str, Enum):
    """Storage kind of a field's values. Money and pay are split over several columns."""

    TEXT = "text"
    DATE = "date"
    NUMBER = "number"
    BOOLEAN = "boolean"
    JSON = "json"
    MONEY = "money"
    PAY = "pay"


class ValueMismatch(Exception):
    """A value does not fit the kind its field was registered with."""


def column_base_name(field_code: str) -> str:
    """Turn a field code into a safe SQL identifier: ``contact.workEmail`` becomes ``contact_work_email``.

    Only lowercase letters, digits and underscores remain, so the name cannot carry SQL.
    """
    name = _CAMEL_BOUNDARY.sub("_", field_code).lower()
    name = _NOT_IDENTIFIER.sub("_", name).strip("_") or "field"
    if name[0].isdigit():
        name = f"f_{name}"
    if name in FIXED_COLUMNS:
        name = f"{name}_field"
    return name[:MAX_IDENTIFIER_LENGTH]


def _is_money(value: Any) -> bool:
    return isinstance(value, Mapping) and "amount" in value and "currency" in value


def _is_pay(value: Any) -> bool:
    return isinstance(value, Mapping) and _is_money(value.get("pay"))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def is_empty(value: Any) -> bool:
    """Return whether a ChartHop value carries nothing: null, an empty string, list or object."""
    return value is None or value == "" or value == [] or value == {}


def infer_kind(field_code: str, values: Iterable[Any]) -> ColumnKind | None:
    """Return the kind that fits every non-empty value, ``TEXT`` when they disagree, ``None`` when all are empty."""
    if field_code.lower() in ID_FIELDS:
        return ColumnKind.TEXT
    kinds = {_kind_of(value) for value in values if not is_empty(value)}
    if not kinds:
        return None
    if len(kinds) == 1:
        return kinds.pop()
    if kinds <= {ColumnKind.NUMBER, ColumnKind.TEXT} or kinds <= {ColumnKind.DATE, ColumnKind.TEXT}:
        return ColumnKind.TEXT
    return ColumnKind.JSON if kinds <= {ColumnKind.JSON, ColumnKind.MONEY, ColumnKind.PAY} else ColumnKind.TEXT


def _kind_of(value: Any) -> ColumnKind:
    if isinstance(value, bool):
        return ColumnKind.BOOLEAN
    if _is_number(value):
        return ColumnKind.NUMBER
    if isinstance(value, str):
        return ColumnKind.DATE if _DATE.match(value) else ColumnKind.TEXT
    if _is_pay(value):
        return ColumnKind.PAY
    if _is_money(value):
        return ColumnKind.MONEY
    return ColumnKind.JSON


def to_decimal(value: Any) -> Decimal:
    """Convert a JSON number or numeric string to ``Decimal`` without passing through binary float error.

    ``repr`` of a float is the shortest text that parses back to it, which is the text ChartHop sent for
    any amount with up to 15 significant digits.
    """
    if isinstance(value, bool):
        raise ValueMismatch(f"{value!r} is a boolean, not an amount")
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        raise ValueMismatch(f"{value!r} is not a decimal amount") from None


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class FieldColumns:
    """The columns that hold one field code, and how its values convert into them.

    :param field_code: the ChartHop field code, such as ``baseComp``.
    :param kind: the registered kind.
    :param base_name: the sanitised identifier the column names start with.
    """

    field_code: str
    kind: ColumnKind
    base_name: str

    @functools.cached_property
    def columns(self) -> list[tuple[str, str]]:
        """Return ``(column name, generic type)`` pairs; the type is one of text, date, decimal, boolean, json."""
        if self.kind == ColumnKind.MONEY:
            return [(f"{self.base_name}_amount", "decimal"), (f"{self.base_name}_currency", "text")]
        if self.kind == ColumnKind.PAY:
            return [
                (f"{self.base_name}_interval", "text"),
                (f"{self.base_name}_amount", "decimal"),
                (f"{self.base_name}_currency", "text"),
            ]
        generic = {
            ColumnKind.TEXT: "text",
            ColumnKind.DATE: "date",
            ColumnKind.NUMBER: "decimal",
            ColumnKind.BOOLEAN: "boolean",
            ColumnKind.JSON: "json",
        }[self.kind]
        return [(self.base_name, generic)]

    def convert(self, value: Any) -> list[Any]:
        """Return the column values for one field value; raise ``ValueMismatch`` when it does not fit the kind."""
        width = len(self.columns)
        if is_empty(value):
            return [None] * width
        if self.kind == ColumnKind.TEXT:
            return [value if isinstance(value, str) else _json_text(value)]
        if self.kind == ColumnKind.DATE:
            if isinstance(value, str) and _DATE.match(value):
                return [value]
            raise ValueMismatch(f"{value!r} is not a YYYY-MM-DD date")
        if self.kind == ColumnKind.NUMBER:
            if not _is_number(value):
                raise ValueMismatch(f"{value!r} is not a number")
            return [to_decimal(value)]
        if self.kind == ColumnKind.BOOLEAN:
            if not isinstance(value, bool):
                raise ValueMismatch(f"{value!r} is not a boolean")
            return [value]
        if self.kind == ColumnKind.JSON:
            if not isinstance(value, (list, Mapping)):
                raise ValueMismatch(f"{value!r} is not a list or object")
            return [_json_text(value)]
        if self.kind == ColumnKind.MONEY:
            if not _is_money(value):
                raise ValueMismatch(f"{value!r} is not a money object with amount and currency")
            return [to_decimal(value["amount"]), _currency(value["currency"])]
        if not _is_pay(value):
            raise ValueMismatch(f"{value!r} is not a pay object with interval and pay")
        pay = value["pay"]
        interval = value.get("interval")
        return [str(interval) if interval is not None else None, to_decimal(pay["amount"]), _currency(pay["currency"])]


def _currency(value: Any) -> str:
    code = str(value).strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueMismatch(f"{value!r} is not a three-letter ISO 4217 currency code")
    return code
