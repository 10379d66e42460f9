"""Writing the import CSV for ChartHop."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from decimal import Decimal

import pytest

from charthop.payroll import prepare_payroll_csv, write_import_csv
from charthop.payroll.writer import format_value
from tests.charthop.payroll.conftest import CLEAN_FILE


def row(**values: object) -> dict[str, object]:
    base: dict[str, object] = {"contact.workEmail": "ada@example.com", "baseComp": Decimal("1.00"), "currency": "USD"}
    base.update(values)
    return base


def read_back(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


class TestFormatValue:
    @pytest.mark.parametrize(
        ("value", "text"),
        [
            pytest.param(Decimal("1E+9"), "1000000000", id="large-exponent"),
            pytest.param(Decimal("123456789012.34"), "123456789012.34", id="large-amount"),
            pytest.param(Decimal("1E-7"), "0.0000001", id="small-exponent"),
            pytest.param(Decimal("0.01"), "0.01", id="one-cent"),
            pytest.param(Decimal("0.00"), "0.00", id="zero"),
            pytest.param(Decimal("1234567.89"), "1234567.89", id="no-grouping"),
            pytest.param(dt.date(2024, 1, 5), "2024-01-05", id="iso-date"),
            pytest.param(None, "", id="none"),
            pytest.param(4711, "4711", id="int"),
            pytest.param("O'Brien", "O'Brien", id="text"),
        ],
    )
    def test_text(self, value, text):
        assert format_value(value) == text

    @pytest.mark.parametrize(
        "value",
        [
            pytest.param(85000.5, id="float"),
            pytest.param(True, id="bool"),
            pytest.param(dt.datetime(2024, 1, 5, 9), id="datetime"),
        ],
    )
    def test_rejected_types(self, value):
        with pytest.raises(TypeError):
            format_value(value)


class TestQuoting:
    @pytest.mark.parametrize(
        "title",
        [
            pytest.param("VP, Engineering", id="comma"),
            pytest.param('The "Fixer"', id="quotes"),
            pytest.param("Engineer\nPlatform", id="newline"),
            pytest.param("Engineer\r\nPlatform", id="crlf"),
            pytest.param("数据分析师", id="cjk"),
            pytest.param("מהנדסת תוכנה", id="hebrew"),
            pytest.param("مهندس برمجيات", id="arabic"),
            pytest.param("Zoë Dubois-Lefèvre", id="accents"),
            pytest.param(" leading space", id="leading-space"),
        ],
    )
    def test_round_trip(self, mapping, tmp_path, title):
        write_import_csv(tmp_path / "import.csv", [row(title=title)], mapping)
        assert read_back(tmp_path / "import.csv")[0]["title"] == title

    def test_comma_quoted(self, mapping, tmp_path):
        write_import_csv(tmp_path / "import.csv", [row(title="VP, Engineering")], mapping)
        assert b',"VP, Engineering",' in (tmp_path / "import.csv").read_bytes()

    def test_quote_doubled(self, mapping, tmp_path):
        write_import_csv(tmp_path / "import.csv", [row(title='The "Fixer"')], mapping)
        assert b',"The ""Fixer""",' in (tmp_path / "import.csv").read_bytes()

    def test_newline_quoted(self, mapping, tmp_path):
        write_import_csv(tmp_path / "import.csv", [row(title="a\nb")], mapping)
        assert b',"a\nb",' in (tmp_path / "import.csv").read_bytes()

    def test_plain_text_unquoted(self, mapping, tmp_path):
        write_import_csv(tmp_path / "import.csv", [row(title="数据分析师")], mapping)
        assert ",数据分析师,".encode() in (tmp_path / "import.csv").read_bytes()


class TestFile:
    def test_header_is_field_codes(self, mapping, tmp_path):
        write_import_csv(tmp_path / "import.csv", [row()], mapping)
        first_line = (tmp_path / "import.csv").read_bytes().split(b"\r\n")[0]
        assert first_line == b"contact.workEmail,contact.employee,name.first,name.last,title,department,startDate,endDate,currency,baseComp"

    def test_no_bom(self, mapping, tmp_path):
        write_import_csv(tmp_path / "import.csv", [row()], mapping)
        assert (tmp_path / "import.csv").read_bytes().startswith(b"contact.workEmail")

    def test_crlf_line_ends(self, mapping, tmp_path):
        write_import_csv(tmp_path / "import.csv", [row()], mapping)
        assert (tmp_path / "import.csv").read_bytes().endswith(b",USD,1.00\r\n")

    def test_row_count(self, mapping, tmp_path):
        result = write_import_csv(tmp_path / "import.csv", [row(), row(), row()], mapping)
        assert result.row_count == 3

    def test_sha256_of_bytes(self, mapping, tmp_path):
        result = write_import_csv(tmp_path / "import.csv", [row(title="数据")], mapping)
        assert result.sha256 == hashlib.sha256((tmp_path / "import.csv").read_bytes()).hexdigest()

    def test_no_scientific_notation(self, mapping, tmp_path):
        write_import_csv(tmp_path / "import.csv", [row(baseComp=Decimal("1E+8"))], mapping)
        assert read_back(tmp_path / "import.csv")[0]["baseComp"] == "100000000"

    def test_missing_match_key(self, mapping, tmp_path):
        with pytest.raises(ValueError, match="has no contact.workEmail"):
            write_import_csv(tmp_path / "import.csv", [row(**{"contact.workEmail": None})], mapping)

    def test_failure_leaves_no_file(self, mapping, tmp_path):
        with pytest.raises(TypeError):
            write_import_csv(tmp_path / "import.csv", [row(), row(baseComp=1.5)], mapping)
        assert list(tmp_path.iterdir()) == []

    def test_empty_change_set(self, mapping, tmp_path):
        result = write_import_csv(tmp_path / "import.csv", [], mapping)
        assert result.row_count == 0

    def test_clean_file_end_to_end(self, mapping, tmp_path):
        prepared = prepare_payroll_csv(CLEAN_FILE, mapping)
        write_import_csv(tmp_path / "import.csv", prepared.rows, mapping)
        written = {line["contact.workEmail"]: line for line in read_back(tmp_path / "import.csv")}
        assert (written["conor.obrien@example.com"]["baseComp"], written["conor.obrien@example.com"]["name.last"]) == ("90000.04", "O'Brien")
