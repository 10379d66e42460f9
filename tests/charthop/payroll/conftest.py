"""Shared payroll test data: the shipped mapping, a valid row and a writer for one-off CSV files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from charthop.payroll import PayrollMapping, load_mapping
from tests.conftest import REPO_ROOT

DATA = Path(__file__).parent / "data"
MAPPING_FILE = REPO_ROOT / "include" / "payroll" / "mapping.yaml"
CLEAN_FILE = REPO_ROOT / "include" / "payroll" / "payroll_clean.csv"

HEADER = (
    "Work Email", "Employee Number", "Legal First Name", "Legal Last Name", "Job Title", "Department",
    "Hire Date", "Termination Date", "Pay Rate", "Pay Frequency", "Currency",
)  # fmt: skip

VALID_ROW = {
    "Work Email": "ada.lovelace@example.com",
    "Employee Number": "000101",
    "Legal First Name": "Ada",
    "Legal Last Name": "Lovelace",
    "Job Title": "Engineer",
    "Department": "Engineering",
    "Hire Date": "01/15/2019",
    "Termination Date": "",
    "Pay Rate": "185,000.00",
    "Pay Frequency": "Annual",
    "Currency": "USD",
}


@pytest.fixture(scope="session")
def mapping() -> PayrollMapping:
    return load_mapping(MAPPING_FILE)


def write_csv(path: Path, rows: list[dict[str, str]], header: tuple[str, ...] = HEADER) -> Path:
    """Write rows (dicts keyed by header column) as a UTF-8 CSV with CRLF line ends; returns ``path``."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(column, "") for column in header])
    return path


def person(number: int, **changes: str) -> dict[str, str]:
    """Return ``VALID_ROW`` for a distinct person ``number``, with some columns replaced."""
    row = dict(VALID_ROW, **{"Work Email": f"person{number}@example.com", "Employee Number": f"{number:06d}"})
    row.update(changes)
    return row
