"""Reading payroll CSV files: encodings, byte order marks, quoting, line numbers and size."""

from __future__ import annotations

import logging
import time

import pytest

from charthop.exceptions import PayrollEncodingError, PayrollError, PayrollValidationError
from charthop.payroll import prepare_payroll_csv
from tests.charthop.payroll.conftest import DATA, HEADER, person, write_csv


class TestByteOrderMark:
    def test_stripped(self, mapping):
        prepared = prepare_payroll_csv(DATA / "payroll_bom.csv", mapping)
        assert prepared.rows[0]["contact.workEmail"] == "ada.lovelace@example.com"

    def test_reported(self, mapping):
        assert prepare_payroll_csv(DATA / "payroll_bom.csv", mapping).bom_stripped is True

    def test_logged_as_warning(self, mapping, caplog):
        with caplog.at_level(logging.WARNING, logger="charthop.payroll.source"):
            prepare_payroll_csv(DATA / "payroll_bom.csv", mapping)
        assert "byte order mark" in caplog.text

    def test_absent_not_reported(self, mapping, tmp_path):
        path = write_csv(tmp_path / "p.csv", [person(1)])
        assert prepare_payroll_csv(path, mapping).bom_stripped is False


class TestWindows1252:
    @pytest.fixture
    def error(self, mapping) -> PayrollEncodingError:
        with pytest.raises(PayrollEncodingError) as caught:
            prepare_payroll_csv(DATA / "payroll_cp1252.csv", mapping)
        return caught.value

    def test_names_file(self, error):
        assert "payroll_cp1252.csv" in str(error)

    def test_byte_offset(self, error):
        raw = (DATA / "payroll_cp1252.csv").read_bytes()
        assert error.byte_offset == raw.index(b"Jos\xe9") + 3

    def test_line_number(self, error):
        assert error.line_number == 3

    def test_message_has_offset_and_line(self, error):
        assert f"byte offset {error.byte_offset} (line 3" in str(error)

    def test_message_shows_byte(self, error):
        assert "0xE9" in str(error)

    def test_message_says_how_to_convert(self, error):
        assert "iconv -f WINDOWS-1252 -t UTF-8" in str(error)

    def test_invalid_byte_late_in_file(self, mapping, tmp_path):
        path = write_csv(tmp_path / "p.csv", [person(n) for n in range(1, 500)])
        with open(path, "ab") as handle:
            handle.write(b"late@example.com,000999,Ren\xe9e,,,,,,,,\r\n")
        with pytest.raises(PayrollEncodingError) as caught:
            prepare_payroll_csv(path, mapping)
        assert caught.value.line_number == 501


class TestWideEncodings:
    def test_utf16_rejected(self, mapping):
        with pytest.raises(PayrollEncodingError, match="is UTF-16"):
            prepare_payroll_csv(DATA / "payroll_utf16.csv", mapping)

    def test_utf16_without_bom_rejected(self, mapping, tmp_path):
        path = tmp_path / "p.csv"
        path.write_bytes(",".join(HEADER).encode("utf-16-le"))
        with pytest.raises(PayrollEncodingError, match="NUL character on line 1"):
            prepare_payroll_csv(path, mapping)


class TestFileShape:
    def test_missing_file(self, mapping, tmp_path):
        with pytest.raises(PayrollError, match="not found"):
            prepare_payroll_csv(tmp_path / "absent.csv", mapping)

    def test_empty_file(self, mapping, tmp_path):
        path = tmp_path / "p.csv"
        path.write_bytes(b"")
        with pytest.raises(PayrollValidationError, match="the file is empty"):
            prepare_payroll_csv(path, mapping)

    def test_header_only(self, mapping, tmp_path):
        assert prepare_payroll_csv(write_csv(tmp_path / "p.csv", []), mapping).rows == []

    def test_blank_lines_skipped(self, mapping, tmp_path):
        path = write_csv(tmp_path / "p.csv", [person(1), {}, person(2)])
        with open(path, "ab") as handle:
            handle.write(b"\r\n\r\n")
        prepared = prepare_payroll_csv(path, mapping)
        assert [row["contact.employee"] for row in prepared.rows] == ["000001", "000002"]

    def test_blank_rows_counted(self, mapping, tmp_path):
        path = write_csv(tmp_path / "p.csv", [person(1), {}, person(2)])
        assert prepare_payroll_csv(path, mapping).blank_rows == 1

    def test_header_case_and_spaces(self, mapping, tmp_path):
        header = tuple(f"  {column.upper()} " for column in HEADER)
        row = {f"  {column.upper()} ": value for column, value in person(1).items()}
        path = write_csv(tmp_path / "p.csv", [row], header=header)
        assert len(prepare_payroll_csv(path, mapping).rows) == 1

    def test_extra_columns_ignored(self, mapping, tmp_path):
        header = HEADER + ("Social Security Number",)
        path = write_csv(tmp_path / "p.csv", [person(1, **{"Social Security Number": "123-45-6789"})], header)
        assert "Social Security Number" not in prepare_payroll_csv(path, mapping).rows[0]

    def test_semicolon_file(self):
        from charthop.payroll import load_mapping

        prepared = prepare_payroll_csv(DATA / "payroll_de.csv", load_mapping(DATA / "mapping_de.yaml"))
        assert [row["contact.employee"] for row in prepared.rows] == ["4711", "4712", "0815"]


class TestLineNumbers:
    def test_multiline_field_shifts_lines(self, mapping):
        with pytest.raises(PayrollValidationError) as caught:
            prepare_payroll_csv(DATA / "payroll_multiline.csv", mapping)
        assert "row 2 (line 4), column 'Hire Date', value '13/01/2021'" in str(caught.value)

    def test_multiline_value_kept(self, mapping, tmp_path):
        path = write_csv(tmp_path / "p.csv", [person(1, **{"Job Title": "Engineer\nPlatform"})])
        assert prepare_payroll_csv(path, mapping).rows[0]["title"] == "Engineer\nPlatform"

    def test_unclosed_quote(self, mapping, tmp_path):
        path = write_csv(tmp_path / "p.csv", [person(1)])
        with open(path, "ab") as handle:
            handle.write(b'"person2@example.com,000002,Ada\r\nmore,text\r\n')
        with pytest.raises(PayrollValidationError, match=r"row 2 \(line 3\): the CSV is malformed"):
            prepare_payroll_csv(path, mapping)

    def test_text_after_closing_quote(self, mapping, tmp_path):
        path = write_csv(tmp_path / "p.csv", [])
        with open(path, "ab") as handle:
            handle.write(b'"ada@example.com"x,000001,Ada,Lovelace,,,,,,,\r\n')
        with pytest.raises(PayrollValidationError, match=r"row 1 \(line 2\): the CSV is malformed"):
            prepare_payroll_csv(path, mapping)

    def test_wrong_field_count(self, mapping, tmp_path):
        path = write_csv(tmp_path / "p.csv", [])
        with open(path, "ab") as handle:
            handle.write(b"ada@example.com,000001,Ada,Lovelace,VP, Engineering,Eng,01/15/2019,,100,Annual,USD\r\n")
        with pytest.raises(PayrollValidationError, match="the row has 12 fields but the header has 11"):
            prepare_payroll_csv(path, mapping)


class TestLargeFile:
    ROWS = 100_000

    def test_hundred_thousand_rows(self, mapping, tmp_path):
        path = tmp_path / "large.csv"
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(",".join(HEADER) + "\r\n")
            for number in range(self.ROWS):
                handle.write(
                    f"person{number}@example.com,{number:06d},Zoë,O'Brien,Engineer,Engineering,01/15/2019,,"
                    f"\"{number % 900 + 100},250.50\",Monthly,EUR\r\n"
                )
        started = time.perf_counter()
        prepared = prepare_payroll_csv(path, mapping)
        elapsed = time.perf_counter() - started
        assert len(prepared.rows) == self.ROWS
        # A generous bound: the point is that the file streams, not a benchmark.
        assert elapsed < 20
