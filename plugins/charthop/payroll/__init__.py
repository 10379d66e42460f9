"""Payroll preparation: turn a payroll system's export into the CSV that ChartHop's importer accepts.

The steps, in the order an operator calls them::

    mapping = load_mapping("include/payroll/mapping.yaml")
    prepared = prepare_payroll_csv("export.csv", mapping)   # or prepare_payroll_rows(dicts, mapping)
    diff = diff_against_roster(prepared.rows, read_current_roster(hook), mapping)
    check_change_share(diff.change_count, diff.roster_count)
    result = write_import_csv("import.csv", diff.rows_to_send(), mapping)
"""

from __future__ import annotations

from typing import Any

# The names below are imported on first use, so that DAG files importing charthop.payroll.tasks at
# parse time do not load the whole library (PyYAML, common-sql and the CSV machinery).
_SOURCES = {
    "ChangedRow": "charthop.payroll.diff",
    "ImportCsv": "charthop.payroll.writer",
    "PayMapping": "charthop.payroll.mapping",
    "PayrollMapping": "charthop.payroll.mapping",
    "PayrollProblem": "charthop.payroll.validation",
    "PreparedPayroll": "charthop.payroll.transform",
    "RosterDiff": "charthop.payroll.diff",
    "check_change_share": "charthop.payroll.guard",
    "diff_against_roster": "charthop.payroll.diff",
    "load_mapping": "charthop.payroll.mapping",
    "mapping_from_dict": "charthop.payroll.mapping",
    "prepare_payroll_csv": "charthop.payroll.transform",
    "prepare_payroll_rows": "charthop.payroll.transform",
    "read_current_roster": "charthop.payroll.current_roster",
    "write_import_csv": "charthop.payroll.writer",
}

__all__ = [
    "ChangedRow",
    "ImportCsv",
    "PayMapping",
    "PayrollMapping",
    "PayrollProblem",
    "PreparedPayroll",
    "RosterDiff",
    "check_change_share",
    "diff_against_roster",
    "load_mapping",
    "mapping_from_dict",
    "prepare_payroll_csv",
    "prepare_payroll_rows",
    "read_current_roster",
    "write_import_csv",
]


def __getattr__(name: str) -> Any:
    if name in _SOURCES:
        import importlib

        return getattr(importlib.import_module(_SOURCES[name]), name)
    raise AttributeError(f"module 'charthop.payroll' has no attribute {name!r}")
