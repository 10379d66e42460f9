"""Reading payroll rows: a UTF-8 CSV file streamed line by line, or rows given by the caller.

Encoding rules for CSV files:

- UTF-8 only. The first byte sequence that is not UTF-8 (typical of a Latin-1 or Windows-1252 export)
  raises ``PayrollEncodingError`` naming the file, the byte offset and the line, and how to convert the file.
- A UTF-8 byte order mark, which Excel writes for "CSV UTF-8", is stripped and logged as a warning.
- UTF-16 and UTF-32 files, recognised by their byte order mark or by NUL characters, are rejected.
"""

from __future__ import annotations

import codecs
import csv
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from charthop.exceptions import PayrollEncodingError, PayrollError
from charthop.payroll.mapping import PayrollMapping, normalize_column
from charthop.payroll.validation import ProblemCollector

log = logging.getLogger(__name__)

_CONVERT_HINT = (
    "Export the file from the payroll system as UTF-8 (in Excel: 'CSV UTF-8'), or convert it, for example "
    "with: iconv -f WINDOWS-1252 -t UTF-8 '{path}' > converted.csv"
)
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


@dataclass(frozen=True)
class SourceRow:
    """One payroll row with its position.

    :param row_number: 1-based data row; the header and blank lines are not counted.
    :param line_number: 1-based line of the file where the row starts; ``None`` for rows given by a caller.
    :param values: payroll column (as the mapping names it) to raw value; columns the mapping does not
        read are left out.
    """

    row_number: int
    line_number: int | None
    values: dict[str, Any]


class _Utf8Lines:
    """Decodes a binary file line by line, so an invalid byte is reported with its offset and line."""

    def __init__(self, handle: BinaryIO, path: str) -> None:
        self.handle = handle
        self.path = path
        self.bom_stripped = False

    def __iter__(self) -> Iterator[str]:
        offset = 0
        for line_number, raw in enumerate(self.handle, start=1):
            start = 0
            if line_number == 1:
                start = self._check_start(raw)
            try:
                text = raw[start:].decode("utf-8")
            except UnicodeDecodeError as error:
                raise self._invalid_utf8(raw, start, error, offset, line_number) from None
            if "\x00" in text:
                raise PayrollEncodingError(
                    f"Payroll file {self.path} contains a NUL character on line {line_number}, which suggests a "
                    "UTF-16 file without a byte order mark. " + _CONVERT_HINT.format(path=self.path).replace(
                        "WINDOWS-1252", "UTF-16"
                    ),
                    byte_offset=offset + start + text.index("\x00"),
                    line_number=line_number,
                )
            offset += len(raw)
            yield text

    def _check_start(self, raw: bytes) -> int:
        for bom, name in _WIDE_BOMS:
            if raw.startswith(bom):
                raise PayrollEncodingError(
                    f"Payroll file {self.path} is {name} (it starts with a {name} byte order mark); only UTF-8 is "
                    f"accepted. " + _CONVERT_HINT.format(path=self.path).replace("WINDOWS-1252", name),
                    byte_offset=0,
                    line_number=1,
                )
        if raw.startswith(codecs.BOM_UTF8):
            self.bom_stripped = True
            log.warning("Payroll file %s starts with a UTF-8 byte order mark; it was ignored.", self.path)
            return len(codecs.BOM_UTF8)
        return 0

    def _invalid_utf8(
        self, raw: bytes, start: int, error: UnicodeDecodeError, offset: int, line_number: int
    ) -> PayrollEncodingError:
        position = start + error.start
        bad = raw[position : position + max(1, error.end - error.start)]
        before = raw[max(start, position - 30) : position].decode("utf-8", "replace")
        return PayrollEncodingError(
            f"Payroll file {self.path} is not valid UTF-8: byte 0x{bad.hex().upper()} at byte offset "
            f"{offset + position} (line {line_number}, after {before!r}) is not UTF-8. The file is probably "
            f"Latin-1 or Windows-1252; it was not read, so no text was altered. "
            + _CONVERT_HINT.format(path=self.path),
            byte_offset=offset + position,
            line_number=line_number,
        )


class PayrollCsvReader:
    """Streams the rows of a payroll CSV file, checking its encoding and header.

    Use it as a context manager; ``rows()`` yields one ``SourceRow`` per data row and keeps only that row
    in memory. Header problems and rows with the wrong number of fields go to ``problems``.

    :param path: the CSV file.
    :param mapping: the payroll mapping; its columns are looked up in the header.
    :param problems: where header and row-shape problems are recorded.
    """

    def __init__(self, path: str | os.PathLike[str], mapping: PayrollMapping, problems: ProblemCollector) -> None:
        self.path = str(path)
        self.mapping = mapping
        self.problems = problems
        self.blank_rows = 0
        self._handle: BinaryIO | None = None
        self._lines: _Utf8Lines | None = None

    def __enter__(self) -> PayrollCsvReader:
        try:
            self._handle = open(self.path, "rb")  # noqa: SIM115 - closed in __exit__
        except FileNotFoundError:
            raise PayrollError(
                f"Payroll file {self.path} not found. Check the path, or the sensor that waits for the file."
            ) from None
        self._lines = _Utf8Lines(self._handle, self.path)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._handle is not None:
            self._handle.close()

    @property
    def bom_stripped(self) -> bool:
        """Whether the file started with a UTF-8 byte order mark, which was ignored."""
        return bool(self._lines and self._lines.bom_stripped)

    def rows(self) -> Iterator[SourceRow]:
        """Yield the data rows. Nothing is yielded when the header lacks a column the mapping reads."""
        if self._lines is None:
            raise RuntimeError("PayrollCsvReader.rows() needs the reader to be opened with 'with'")
        # strict=True rejects text after a closing quote ('"a"b') instead of silently joining it to the field.
        reader = csv.reader(self._lines, delimiter=self.mapping.delimiter, strict=True)
        header: list[str] | None = None
        row_number = 0
        last_line = 0
        try:
            header = next(reader, None)
            if header is None:
                self.problems.add("the file is empty; expected a header row followed by data rows")
                return
            positions = check_header(header, self.mapping, self.problems, line_number=1, require_match_first=True)
            if positions is None:
                return
            last_line = reader.line_num
            for fields in reader:
                line_number = last_line + 1
                last_line = reader.line_num
                if not any(field.strip() for field in fields):
                    self.blank_rows += 1
                    continue
                row_number += 1
                if len(fields) != len(header):
                    self.problems.add(
                        f"the row has {len(fields)} fields but the header has {len(header)}; check for an "
                        "unquoted comma, an unclosed quote or a missing field",
                        row_number=row_number,
                        line_number=line_number,
                    )
                    continue
                values = {column: fields[index] for column, index in positions.items()}
                yield SourceRow(row_number, line_number, values)
        except csv.Error as error:
            # The csv module cannot resume after a quoting error, so reading stops at the row that has it.
            self.problems.add(
                f"the CSV is malformed: {error}; check the quotes in this row. Reading stopped here",
                row_number=None if header is None else row_number + 1,
                line_number=last_line + 1,
            )


def check_header(
    header: Sequence[str],
    mapping: PayrollMapping,
    problems: ProblemCollector,
    *,
    line_number: int | None,
    require_match_first: bool,
) -> dict[str, int] | None:
    """Find the mapping's columns in a header, compared case-insensitively.

    :param header: the column names found.
    :param mapping: the payroll mapping.
    :param problems: where missing, duplicate and misplaced columns are recorded.
    :param line_number: line of the header in the file, or ``None`` for rows given by a caller.
    :param require_match_first: whether the match column must be the first column.
    :return: mapped column name to its index in ``header``, or ``None`` when a problem was recorded.
    """
    positions_by_name: dict[str, int] = {}
    found = ", ".join(repr(name) for name in header)
    before = problems.total
    for index, name in enumerate(header):
        key = normalize_column(name)
        if key in positions_by_name and key in {normalize_column(c) for c in mapping.required_columns}:
            problems.add(
                f"the column appears twice in the header; keep one. Header found: {found}",
                line_number=line_number,
                column=name,
            )
        positions_by_name.setdefault(key, index)

    positions: dict[str, int] = {}
    for column in mapping.required_columns:
        index = positions_by_name.get(normalize_column(column))
        if index is None:
            problems.add(
                f"required column missing from the header. Header found: {found}. Rename the column in the "
                f"export or change the mapping file {mapping.source}",
                line_number=line_number,
                column=column,
            )
            continue
        positions[column] = index

    match_index = positions.get(mapping.match_column)
    if require_match_first and match_index not in (None, 0):
        problems.add(
            f"the match column must be the first column, because ChartHop matches people on the leftmost "
            f"column; it is column {match_index + 1}. Header found: {found}",
            line_number=line_number,
            column=mapping.match_column,
        )
    return positions if problems.total == before else None


def rows_from_records(
    records: Iterable[Mapping[str, Any]], mapping: PayrollMapping, problems: ProblemCollector
) -> Iterator[SourceRow]:
    """Yield ``SourceRow``s from dicts, such as rows of a warehouse table; the first record's keys are the header.

    The match column need not come first, because dict keys have no file order that ChartHop would read.
    Records missing a mapped key are recorded in ``problems`` and skipped.
    """
    positions: dict[str, str] | None = None
    for row_number, record in enumerate(records, start=1):
        if positions is None:
            keys = list(record)
            found = check_header(keys, mapping, problems, line_number=None, require_match_first=False)
            if found is None:
                return
            positions = {column: keys[index] for column, index in found.items()}
        missing = [column for column, key in positions.items() if key not in record]
        if missing:
            problems.add(
                f"the row has no key {missing[0]!r}, which the first row has; give every row the same keys",
                row_number=row_number,
                column=missing[0],
            )
            continue
        yield SourceRow(row_number, None, {column: record[key] for column, key in positions.items()})
