"""The CSV importer: decode and check a file, plan each row against the org, and apply the plan.

The accepted format follows ChartHop's import documentation: UTF-8, a header row, header names
matched case-insensitively with spaces ignored, and the leftmost column identifying the person
(work email or employee id). Planning never changes the org, so a dry run and the up-front check of
``skipErrors=false`` use the same code as the real import.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from charthop_emulator.edits import EditError, OrgEditor, depart_error, start_error
from charthop_emulator.org import DEPARTMENTS, Org, Person

# Header name (lower case, spaces removed) -> column key. Codes and labels of ChartHop's built-in fields.
COLUMN_NAMES: dict[str, str] = {
    "contact.workemail": "email", "workemail": "email", "email": "email",
    "contact.employee": "employee", "employeeid": "employee",
    "name.first": "first", "firstname": "first",
    "name.last": "last", "lastname": "last",
    "title": "title",
    "department": "department",
    "basecomp": "base", "base": "base",
    "currency": "currency",
    "startdate": "start",
    # NOTE: ChartHop does not document the column for departures; the emulator reads `endDate`/`End Date`.
    "enddate": "end",
    "date": "date",
}
IDENTIFIER_KEYS = ("email", "employee")
DEFAULT_TITLE = "Employee"

# Current ISO 4217 currency codes, written out by hand, so a rarely used code may be missing. Fund and
# precious-metal codes (XAU, XDR, ...) are left out.
ISO_4217 = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF
CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD
HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD
MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY
TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
""".split())

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_AMOUNT = re.compile(r"^[$€£¥₹]?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


class FileError(ValueError):
    """A problem with the whole file; the import is rejected and nothing is applied."""


@dataclass(slots=True)
class RowError:
    """One invalid cell (or row, when ``column`` is None); ``row`` counts data rows from 1."""

    row: int
    column: str | None
    message: str

    def text(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(slots=True)
class CsvFile:
    """A decoded file: the header as written and the data rows as lists of cells."""

    header: list[str]
    keys: list[str]
    rows: list[list[str]]


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """The importDataCsv flags that change what the importer does."""

    upsert: bool = False
    create_groups: bool = False
    skip_errors: bool = False
    dry_run: bool = False
    disable_sync_hire_date: bool = False
    default_day: int | None = None


@dataclass(slots=True)
class RowPlan:
    """What one valid row does: create a person and job, or change these fields of a matched one."""

    row: int
    identifier: str
    day: int
    person: Person | None
    values: dict[str, Any]
    changed: list[str] = field(default_factory=list)

    @property
    def action(self) -> str:
        if self.person is None:
            return "create"
        return "update" if self.changed else "unchanged"


@dataclass(slots=True)
class AppliedChange:
    """A job the import changed, for the change event: the subtype, the fields and the effective day."""

    subtype: str
    job_id: str
    person_id: str
    day: int
    fields: list[str]


@dataclass(slots=True)
class ImportOutcome:
    """Counts, row errors and applied changes of one run over the file."""

    row_count: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    applied: list[AppliedChange] = field(default_factory=list)

    @property
    def error_rows(self) -> int:
        return len({error.row for error in self.errors})

    def results(self) -> dict[str, int]:
        # NOTE: ChartHop does not document the keys of Process.results after an import; these are the emulator's.
        return {"rowCount": self.row_count, "createCount": self.created, "updateCount": self.updated,
                "unchangedCount": self.unchanged, "errorCount": self.error_rows, "skippedCount": self.skipped}


def read_csv(data: bytes) -> CsvFile:
    """Decode the upload and map its header to column keys.

    :raises FileError: when the bytes are not UTF-8, the file is empty, a column is unknown or
        repeated, or the leftmost column is not an identifier.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileError(f"the file is not valid UTF-8: byte 0x{data[error.start]:02X} at offset {error.start}; "
                        "save it as UTF-8 and upload it again") from None
    text = text.removeprefix("\ufeff")
    try:
        table = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise FileError(f"the file is not valid CSV: {error}") from None
    if not table or not any(cell.strip() for cell in table[0]):
        raise FileError("the file is empty: the first row must be a header")
    header = [cell.strip() for cell in table[0]]
    keys: list[str] = []
    for name in header:
        key = COLUMN_NAMES.get(name.replace(" ", "").lower())
        if key is None:
            # NOTE: what ChartHop does with a column it cannot match is unknown; the emulator rejects the file.
            raise FileError(f"unknown column {name!r}; accepted columns: Work Email or Employee ID first, then "
                            "First Name, Last Name, Title, Department, Base Comp, Currency, Start Date, "
                            "End Date, Date")
        if key in keys:
            raise FileError(f"column {name!r} appears more than once")
        keys.append(key)
    if keys[0] not in IDENTIFIER_KEYS:
        raise FileError(f"the leftmost column must identify the person (Work Email or Employee ID), "
                        f"not {header[0]!r}")
    return CsvFile(header=header, keys=keys, rows=table[1:])


def parse_day(text: str) -> int | None:
    """Parse YYYY-MM-DD or M/D/YYYY into a day ordinal; None when invalid."""
    value = text.strip()
    try:
        if _ISO_DATE.match(value):
            return date.fromisoformat(value).toordinal()
        match = _US_DATE.match(value)
        if match:
            month, day, year = (int(part) for part in match.groups())
            return date(year, month, day).toordinal()
    except ValueError:
        return None
    return None


def parse_amount(text: str) -> float | None:
    """Parse a plain or formatted amount such as ``100000`` or ``$100,000.50``; None when invalid."""
    match = _AMOUNT.match(text.strip())
    if match is None:
        return None
    return float(text.strip().lstrip("$€£¥₹").strip().replace(",", ""))


class _PersonIndex:
    """People who hold or held a job, by work email (case-insensitive) and by employee id."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.by_key: dict[tuple[str, str], list[Person]] = {}
        for person in org.persons:
            if person.occupancy is None:
                continue
            self.by_key.setdefault(("email", person.work_email.casefold()), []).append(person)
            self.by_key.setdefault(("employee", person.employee), []).append(person)

    def match(self, key: str, value: str, day: int) -> Person | None:
        """Return the person with this identifier whose job is active today or on ``day``."""
        lookup = value.casefold() if key == "email" else value
        for person in self.by_key.get((key, lookup), []):
            occupancy = person.occupancy
            if occupancy is not None and (occupancy.active_on(self.org.today) or occupancy.active_on(day)):
                return person
        return None


class Importer:
    """Runs one file against an org: ``check()`` plans every row, ``apply()`` plans and applies row by row."""

    def __init__(self, org: Org, csv_file: CsvFile, options: ImportOptions,
                 failing_row: int | None = None) -> None:
        self.org = org
        self.file = csv_file
        self.options = options
        self.failing_row = failing_row

    def check(self) -> ImportOutcome:
        """Plan every row without changing the org; count what would change."""
        outcome = ImportOutcome()
        planner = _Planner(self.org, self.file, self.options, lambda name: self._department_exists(name, None))
        for number, cells in enumerate(self.file.rows, start=1):
            self._count(outcome, planner.plan(number, cells, self.failing_row))
        return outcome

    def apply(self, editor: OrgEditor, skip_rows: set[int]) -> ImportOutcome:
        """Plan and apply each row in file order, skipping ``skip_rows`` (rows already known to be bad)."""
        outcome = ImportOutcome()
        # Each row is planned against the org as the earlier rows left it. The person index is built
        # once: a person created by this file cannot be matched again, because check() rejects repeats.
        planner = _Planner(self.org, self.file, self.options, lambda name: self._department_exists(name, editor))
        for number, cells in enumerate(self.file.rows, start=1):
            if number in skip_rows:
                outcome.row_count += 1
                continue
            result = planner.plan(number, cells, self.failing_row)
            if isinstance(result, RowPlan):
                try:
                    change = _apply_plan(editor, result, self.options)
                except EditError as error:
                    result = [RowError(number, None, str(error))]
                else:
                    if change is not None:
                        outcome.applied.append(change)
            self._count(outcome, result)
        return outcome

    def _department_exists(self, name: str, editor: OrgEditor | None) -> bool:
        if editor is not None:
            return editor.find_department(name) is not None
        wanted = name.strip().casefold()
        return any(group.name.casefold() == wanted for group in self.org.departments)

    @staticmethod
    def _count(outcome: ImportOutcome, result: RowPlan | list[RowError] | None) -> None:
        outcome.row_count += 1
        if result is None:
            outcome.skipped += 1
        elif isinstance(result, list):
            outcome.errors.extend(result)
        elif result.action == "create":
            outcome.created += 1
        elif result.action == "update":
            outcome.updated += 1
        else:
            outcome.unchanged += 1


class _Planner:
    """Turns one row into a RowPlan or a list of RowErrors; never changes the org."""

    def __init__(self, org: Org, csv_file: CsvFile, options: ImportOptions,
                 department_exists: Callable[[str], bool]) -> None:
        self.org = org
        self.file = csv_file
        self.options = options
        self.department_exists = department_exists
        self.index = _PersonIndex(org)
        self.new_identifiers: set[tuple[str, str]] = set()
        self.new_departments: set[str] = set()
        self.first_day = min(job.create for job in org.jobs if job.manager is None)

    def plan(self, number: int, cells: list[str], failing_row: int | None) -> RowPlan | list[RowError] | None:
        """Return the plan of data row ``number``, its errors, or None for a blank row."""
        if not any(cell.strip() for cell in cells):
            return None
        header = self.file.header
        if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header):]):
            return [RowError(number, None, f"the row has {len(cells)} cells but the header has {len(header)}")]
        if number == failing_row:
            return [RowError(number, None, "simulated row failure (emulator import mode bad_row)")]
        cells = [cell.strip() for cell in cells] + [""] * (len(header) - len(cells))
        raw = {key: cells[position] for position, key in enumerate(self.file.keys)}
        column = {key: header[position] for position, key in enumerate(self.file.keys)}
        errors: list[RowError] = []
        values: dict[str, Any] = {}

        def fail(key: str, message: str) -> None:
            errors.append(RowError(number, column[key], message))

        identifier_key = self.file.keys[0]
        identifier = raw[identifier_key]
        if not identifier:
            fail(identifier_key, "the identifier is empty")

        day = self.options.default_day if self.options.default_day is not None else self.org.today
        if raw.get("date"):
            parsed = parse_day(raw["date"])
            if parsed is None:
                fail("date", f"invalid date {raw['date']!r}; expected YYYY-MM-DD or M/D/YYYY")
            else:
                day = parsed
        for key in ("start", "end"):
            if raw.get(key):
                parsed = parse_day(raw[key])
                if parsed is None:
                    fail(key, f"invalid date {raw[key]!r}; expected YYYY-MM-DD or M/D/YYYY")
                else:
                    values[key] = parsed
        if raw.get("base"):
            amount = parse_amount(raw["base"])
            if amount is None:
                fail("base", f"invalid amount {raw['base']!r}; expected a number such as 100000 or $100,000")
            else:
                values["base"] = amount
        if raw.get("currency"):
            code = raw["currency"].upper()
            if code not in ISO_4217:
                fail("currency", f"unknown currency code {raw['currency']!r}; expected an ISO 4217 code such as USD")
            else:
                values["currency"] = code
        if raw.get("department"):
            name = raw["department"]
            known = self.department_exists(name) or name.casefold() in self.new_departments
            if not known and not self.options.create_groups:
                fail("department", f"unknown department {name!r}; create it first or import with createGroups=true")
            values["department"] = name
            if not known:
                self.new_departments.add(name.casefold())
        for key in ("first", "last", "title", "email", "employee"):
            if raw.get(key) and key != identifier_key:
                values[key] = raw[key]
        if errors:
            return errors

        person = self.index.match(identifier_key, identifier, day)
        if person is None:
            return self._plan_new(number, identifier_key, identifier, day, values, column)
        plan = RowPlan(row=number, identifier=identifier, day=day, person=person, values=values)
        problem = self._find_changes(plan)
        if problem is not None:
            return [RowError(number, column.get(problem[0]), problem[1])]
        return plan

    def _plan_new(self, number: int, identifier_key: str, identifier: str, day: int, values: dict[str, Any],
                  column: dict[str, str]) -> RowPlan | list[RowError]:
        if not self.options.upsert:
            return [RowError(number, column[identifier_key], f"no person matches {identifier}")]
        lookup = (identifier_key, identifier.casefold())
        if lookup in self.new_identifiers:
            # NOTE: the emulator creates each new person once per file; ChartHop may accept dated repeats.
            return [RowError(number, column[identifier_key], f"{identifier} is already created by an earlier row")]
        start = values.get("start", day)
        if start < self.first_day:
            return [RowError(number, column.get("start", column[identifier_key]),
                             f"start date {date.fromordinal(start).isoformat()} is before the org existed")]
        if "end" in values and values["end"] < start:
            return [RowError(number, column["end"], "the end date is before the start date")]
        self.new_identifiers.add(lookup)
        values = {**values, identifier_key: identifier, "start": start}
        return RowPlan(row=number, identifier=identifier, day=day, person=None, values=values,
                       changed=["hire"])

    def _find_changes(self, plan: RowPlan) -> tuple[str, str] | None:
        """Fill ``plan.changed`` with the fields that differ; return (column key, message) of a problem."""
        person, values, day = plan.person, plan.values, plan.day
        assert person is not None and person.occupancy is not None
        job = person.occupancy.job
        changed = plan.changed
        if values.get("first", person.first) != person.first:
            changed.append("name.first")
        if values.get("last", person.last) != person.last:
            changed.append("name.last")
        if values.get("email", person.work_email).casefold() != person.work_email.casefold():
            changed.append("contact.workEmail")
        if values.get("employee", person.employee) != person.employee:
            changed.append("contact.employee")
        if values.get("title", job.title_on(day)) != job.title_on(day):
            changed.append("title")
        if "department" in values and values["department"].casefold() != job.department_on(day).name.casefold():
            changed.append("department")
        pay, currency, interval = person.pay_on(day)
        if "base" in values and (values["base"] != pay or interval != "YEARLY"):
            changed.append("baseComp")
        if values.get("currency", currency) != currency:
            changed.append("currency")
        if "start" in values and values["start"] != person.occupancy.start and not self.options.disable_sync_hire_date:
            problem = start_error(person, values["start"])
            if problem is not None:
                return "start", problem
            changed.append("startDate")
        if "end" in values and values["end"] != person.occupancy.end:
            problem = depart_error(person, values["end"])
            if problem is not None:
                return "end", problem
            changed.append("endDate")
        return None


def _apply_plan(editor: OrgEditor, plan: RowPlan, options: ImportOptions) -> AppliedChange | None:
    """Apply one planned row; return the change for the event, or None when nothing changed."""
    values, day = plan.values, plan.day
    department = None
    if "department" in values:
        department = editor.find_department(values["department"]) or editor.create_department(values["department"])

    if plan.person is None:
        root = editor.root_job()
        department = department or root.department
        hire = editor.hire(
            start=values["start"], first=values.get("first", ""), last=values.get("last", ""),
            email=values.get("email", ""), employee=values.get("employee", ""),
            title=values.get("title") or dict(DEPARTMENTS).get(department.name, DEFAULT_TITLE),
            department=department, pay=values.get("base", 0.0),
            currency=values.get("currency") or root.location.currency or "USD",
        )
        if "end" in values:
            editor.depart(hire.person, values["end"])
        return AppliedChange("hire", hire.job.id, hire.person.id, values["start"], ["hire"])

    if not plan.changed:
        return None
    person = plan.person
    assert person.occupancy is not None
    job = person.occupancy.job
    editor.set_person(person, first=values.get("first"), last=values.get("last"), email=values.get("email"),
                      employee=values.get("employee"))
    if "title" in values:
        editor.set_title(job, values["title"], day)
    if department is not None:
        editor.set_department(job, department, day)
    if "base" in values or "currency" in values:
        editor.set_pay(person, day, values.get("base"), values.get("currency"))
    if "start" in values and not options.disable_sync_hire_date:
        editor.set_start(person, values["start"])
    if "end" in values:
        editor.depart(person, values["end"])
    if "endDate" in plan.changed:
        subtype, event_day = "depart", values["end"]
    elif "department" in plan.changed:
        subtype, event_day = "move", day
    else:
        subtype, event_day = "update", day
    return AppliedChange(subtype, job.id, person.id, event_day, list(plan.changed))
