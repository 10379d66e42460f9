"""Payroll preparation: turn a payroll system's export into the CSV that ChartHop's importer accepts.

The steps, in the order an operator calls them::

    mapping = load_mapping("include/payroll/mapping.yaml")
    prepared = prepare_payroll_csv("export.csv", mapping)   # or prepare_payroll_rows(dicts, mapping)
    diff = diff_against_roster(prepared.rows, read_current_roster(hook), mapping)
    check_change_share(diff.change_count, diff.roster_count)
    result = write_import_csv("import.csv", diff.rows_to_send(), mapping)
"""

from __future__ import annotations

from charthop.payroll.current_roster import read_current_roster
from charthop.payroll.diff import ChangedRow, RosterDiff, diff_against_roster
from charthop.payroll.guard import check_change_share
from charthop.payroll.mapping import PayMapping, PayrollMapping, load_mapping, mapping_from_dict
from charthop.payroll.transform import PreparedPayroll, prepare_payroll_csv, prepare_payroll_rows
from charthop.payroll.validation import PayrollProblem
from charthop.payroll.writer import ImportCsv, write_import_csv

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
