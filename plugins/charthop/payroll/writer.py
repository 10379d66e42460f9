"""Writing the CSV file that ChartHop's bulk importer (importDataCsv) reads."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from charthop.payroll.mapping import PayrollMapping


@dataclass(frozen=True)
class ImportCsv:
    """A written import file.

    :param path: where it was written.
    :param row_count: data rows, the header not counted.
    :param sha256: hex SHA-256 of the file's bytes.
    """

    path: Path
    row_count: int
    sha256: str


class _HashingWriter:
    """A text sink for ``csv.writer`` that encodes to UTF-8, hashes the bytes and writes them to a file."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self.digest.update(data)
        self.handle.write(data)
        return len(text)


def format_value(value: Any) -> str:
    """Return a value as the importer reads it: plain decimals, ISO dates, empty text for ``None``.

    :raises TypeError: ``value`` is a float or another type with no exact text form here.
    """
    if value is None:
        return ""
    if isinstance(value, Decimal):
        # The "f" format never uses an exponent or digit grouping, unlike str(Decimal("1E+6")).
        return format(value, "f")
    if isinstance(value, dt.datetime):
        raise TypeError(f"{value!r} is a datetime; the importer expects a date, so pass value.date()")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"{value!r} has type {type(value).__name__}; pass str, int, Decimal or datetime.date")


def write_import_csv(path: str | os.PathLike[str], rows: Iterable[Mapping[str, Any]], mapping: PayrollMapping) -> ImportCsv:
    """Write rows to an import CSV: UTF-8 without a byte order mark, RFC 4180 quoting and CRLF line ends.

    The header is ``mapping.output_fields`` (ChartHop field codes, the match field first, because the
    importer matches people on the leftmost column). The file is written to ``<path>.tmp`` and renamed,
    so ``path`` never contains a partial file.

    :param path: the CSV file to write; its folder must exist.
    :param rows: field code to value, such as ``RosterDiff.rows_to_send()``; keys outside the header are
        ignored, missing keys give empty fields.
    :param mapping: the mapping the rows were prepared with.
    :return: the path, the number of data rows and the SHA-256 of the bytes written.
    :raises ValueError: a row has no match key.
    :raises TypeError: a value is a float or another type with no exact text form.
    """
    # NOTE: ChartHop does not document whether an empty field clears a value or leaves it, so empty
    # payroll cells are written as empty fields.
    target = Path(path)
    partial = target.with_name(target.name + ".tmp")
    fields = mapping.output_fields
    row_count = 0
    try:
        with open(partial, "wb") as handle:
            sink = _HashingWriter(handle)
            writer = csv.writer(sink, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
            writer.writerow(fields)
            for row in rows:
                if not row.get(mapping.match_field):
                    raise ValueError(f"import row {dict(row)!r} has no {mapping.match_field}, which ChartHop matches on")
                writer.writerow([format_value(row.get(code)) for code in fields])
                row_count += 1
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return ImportCsv(path=target, row_count=row_count, sha256=sink.digest.hexdigest())
