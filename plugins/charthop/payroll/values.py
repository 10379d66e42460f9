"""Conversion of single payroll values: amounts, dates, text and e-mail addresses.

Each parser raises ``ValueError`` with a message that states what was expected. The caller adds the row,
column and value.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from charthop.warehouse.columns import ValueMismatch, to_decimal

CENT = Decimal("0.01")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Payroll systems that group digits with a space often write a no-break space (U+00A0) or a narrow
# no-break space (U+202F), which is what CLDR uses for French and several other locales.
_SPACE_SEPARATORS = (" ", "\u00a0", "\u202f")
_CURRENCY_SIGNS = re.compile(r"[$€£¥₹₩₪₽₺₴₦₫฿]")


def clean_text(value: Any) -> str | None:
    """Return ``value`` as text in Unicode NFC form with surrounding whitespace removed; ``None`` when blank.

    NFC makes an accent typed as a combining mark (as macOS exports write it) equal to the precomposed
    letter, so ``José`` compares equal however it was encoded.
    """
    if value is None:
        return None
    text = unicodedata.normalize("NFC", str(value)).strip()
    return text or None


def parse_email(text: str) -> str:
    """Return a work e-mail address unchanged, or raise ``ValueError`` when it is not one."""
    if not _EMAIL.match(text):
        raise ValueError("invalid e-mail address; expected name@example.com")
    return text


def parse_amount(value: Any, decimal_separator: str = ".", thousands_separator: str = "") -> Decimal:
    """Parse a pay amount written with the file's separators, such as ``1.234,56`` or ``1,234.56``.

    Digit groups must have three digits, so ``1,00`` with a ``,`` thousands separator is rejected rather
    than read as 100.

    :param value: the amount as text, or an ``int``/``Decimal``/``float`` from rows given by a caller
        (a float is read from its shortest ``repr``).
    :param decimal_separator: ``.`` or ``,``; ``.`` by default.
    :param thousands_separator: ``""`` (none, the default), ``,``, ``.``, ``" "`` or ``'``.
    :raises ValueError: the value is not a finite number in that notation.
    """
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        try:
            number = to_decimal(value)
        except ValueMismatch as error:
            raise ValueError(str(error)) from None
        if not number.is_finite():
            raise ValueError("not a finite number")
        return number

    text = str(value).strip()
    if _CURRENCY_SIGNS.search(text):
        raise ValueError("not a number; remove the currency sign and give the currency in its own column")
    if thousands_separator == " ":
        for space in _SPACE_SEPARATORS[1:]:
            text = text.replace(space, " ")
    digits = r"\d+"
    if thousands_separator:
        grouped = rf"\d{{1,3}}(?:{re.escape(thousands_separator)}\d{{3}})+"
        digits = rf"(?:{grouped}|\d+)"
    pattern = rf"^-?{digits}(?:{re.escape(decimal_separator)}\d+)?$"
    if not re.match(pattern, text):
        example = f"1{thousands_separator}234{decimal_separator}56"
        raise ValueError(
            f"not a number in the declared notation (decimal separator {decimal_separator!r}, "
            f"thousands separator {thousands_separator!r}), such as {example}"
        )
    if thousands_separator:
        text = text.replace(thousands_separator, "")
    text = text.replace(decimal_separator, ".")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError("not a number") from None


def annual_amount(amount: Decimal, multiplier: Decimal) -> Decimal:
    """Return ``amount`` x ``multiplier`` rounded half up to cents.

    :param amount: pay for one period (or one hour).
    :param multiplier: periods (or hours) per year.
    """
    annual = (amount * multiplier).quantize(CENT, rounding=ROUND_HALF_UP)
    # -0 * 12 keeps its sign in Decimal, and "-0.00" would look like a negative salary in the CSV.
    return annual if annual else Decimal("0.00")


def parse_date(value: Any, formats: Sequence[str]) -> dt.date:
    """Parse a date with the first of ``formats`` that fits.

    :param value: text, or a ``datetime.date`` from rows given by a caller (a ``datetime`` must be at
        midnight, because a time of day would be lost).
    :param formats: ``strptime`` formats, tried in order.
    :raises ValueError: no format fits, or the date does not exist (such as 31 April).
    """
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0, 0):
            raise ValueError("a date and time; expected a date without a time of day")
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    out_of_range = False
    for date_format in formats:
        try:
            return dt.datetime.strptime(text, date_format).date()
        except ValueError as error:
            # strptime raises "day is out of range for month" for text that fits the format, such as 02/30/2024.
            out_of_range = out_of_range or "out of range" in str(error)
    if out_of_range:
        raise ValueError("invalid date; that day does not exist in that month")
    sample = dt.date(2024, 1, 31)
    examples = " or ".join(f"{f} (such as {sample.strftime(f)})" for f in formats)
    raise ValueError(f"invalid date; expected {examples}")
