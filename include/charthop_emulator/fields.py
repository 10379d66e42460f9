"""Field codes: how each ChartHop field expression turns into a row value for a job or person on a date.

A row view (JobView, PersonView) is the state of one entity on one as-of day. Each field has a
getter that returns its ``json`` value, and optionally a ``minimal`` getter for fields whose
``format=minimal`` value is a plain string (``name`` is "First Last", ``department`` its name).
The Carrot filter reads the minimal form. Field codes are case-insensitive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from charthop_emulator.org import Job, Occupancy, Person

# NOTE: how ChartHop counts OrgCount.startingCount and departingCount is undocumented. The emulator
# counts hires and departures within this many days after the as-of date, as do is:starting and is:departing.
CHANGE_WINDOW_DAYS = 30


def iso(day: int | None) -> str | None:
    """Format a day ordinal as YYYY-MM-DD."""
    return None if day is None else date.fromordinal(day).isoformat()


def money(amount: float, currency: str) -> dict[str, Any]:
    """Build a ChartHop Money object; ``places`` is 0 for whole amounts and 2 otherwise."""
    if float(amount).is_integer():
        return {"amount": int(amount), "currency": currency, "places": 0}
    return {"amount": round(amount, 2), "currency": currency, "places": 2}


def annualized_pay(person: Person, day: int | None = None) -> dict[str, Any]:
    """Return the yearly equivalent of a person's base pay on ``day`` (40 hours a week, 52 weeks a year).

    Without ``day`` it is the generated pay, before any pay change.
    """
    pay, currency, interval = (person.pay, person.currency, person.interval) if day is None else person.pay_on(day)
    factor = {"YEARLY": 1, "MONTHLY": 12, "HOURLY": 2080}[interval]
    return money(round(pay * factor, 2), currency)


def whole_months(start: int, day: int) -> int:
    """Return the number of whole months from ``start`` to ``day`` (0 when day is before start)."""
    first, last = date.fromordinal(start), date.fromordinal(day)
    months = (last.year - first.year) * 12 + (last.month - first.month) - (1 if last.day < first.day else 0)
    return max(0, months)


class JobView:
    """State of one job on one day, with the occupant (if any) looked up once."""

    __slots__ = ("job", "day", "occupancy", "person", "comp_allowed", "_cache")

    def __init__(self, job: Job, day: int, comp_allowed: bool = True) -> None:
        self.job = job
        self.day = day
        self.occupancy: Occupancy | None = job.occupancy_on(day)
        self.person: Person | None = self.occupancy.person if self.occupancy else None
        self.comp_allowed = comp_allowed
        self._cache: dict[str, Any] = {}

    @property
    def is_open(self) -> bool:
        return self.occupancy is None

    def value(self, code: str) -> Any:
        """Return the minimal-form value of a field code (lower-case), as the Carrot filter reads it."""
        if code not in self._cache:
            self._cache[code] = JOB_FIELDS[code].read(self, minimal=True)
        return self._cache[code]

    def keyword(self, name: str) -> bool:
        return JOB_KEYWORDS[name](self)

    def is_manager(self) -> bool:
        return any(child.alive_on(self.day) for child in self.job.children)

    def is_departing(self) -> bool:
        end = self.occupancy.end if self.occupancy else None
        return end is not None and self.day <= end < self.day + CHANGE_WINDOW_DAYS

    def is_starting(self) -> bool:
        if self.occupancy is not None:
            return False
        upcoming = self.job.next_occupancy_after(self.day)
        return upcoming is not None and upcoming.start <= self.day + CHANGE_WINDOW_DAYS

    def start_date(self) -> str | None:
        if self.occupancy is not None:
            return iso(self.occupancy.start)
        upcoming = self.job.next_occupancy_after(self.day)
        if upcoming is not None:
            return iso(upcoming.start)
        return iso(self.job.planned_start) if self.job.planned_start and self.job.planned_start > self.day else None


class PersonView:
    """State of one person on one day, with their job on that day (if any)."""

    __slots__ = ("person", "day", "occupancy", "_cache")

    def __init__(self, person: Person, day: int) -> None:
        self.person = person
        self.day = day
        occupancy = person.occupancy
        self.occupancy: Occupancy | None = occupancy if occupancy and occupancy.active_on(day) else None
        self._cache: dict[str, Any] = {}

    def value(self, code: str) -> Any:
        if code not in self._cache:
            self._cache[code] = PERSON_FIELDS[code].read(self, minimal=True)
        return self._cache[code]

    def keyword(self, name: str) -> bool:
        return PERSON_KEYWORDS[name](self)


@dataclass(frozen=True, slots=True)
class Field:
    """A field code with its json getter and, where it differs, its minimal getter."""

    code: str
    getter: Callable[[Any], Any]
    minimal_getter: Callable[[Any], Any] | None = None
    comp: bool = False  # a compensation field, null for tokens without comp.read

    def read(self, view: Any, minimal: bool) -> Any:
        if self.comp and not getattr(view, "comp_allowed", True):
            # NOTE: inferred behaviour: a token without comp.read gets compensation fields as null, not a 403.
            return None
        if minimal and self.minimal_getter is not None:
            return self.minimal_getter(view)
        return self.getter(view)


def _person_attr(getter: Callable[[Person], Any]) -> Callable[[Any], Any]:
    """Wrap a Person getter so that it returns None when the view has no person."""
    def read(view: Any) -> Any:
        person = view.person
        return None if person is None else getter(person)
    return read


def _name_object(person: Person) -> dict[str, str]:
    name = {"first": person.first, "last": person.last}
    if person.pref:
        name["pref"] = person.pref
    return name


def _full_name(person: Person) -> str:
    return f"{person.pref or person.first} {person.last}"


def _job_pay(view: JobView) -> dict[str, Any] | None:
    person = view.person
    if person is None:
        return None
    pay, currency, _ = person.pay_on(view.day)
    return money(pay, currency)


def _job_base_comp(view: JobView) -> dict[str, Any] | None:
    person = view.person
    if person is None:
        return None
    pay, currency, interval = person.pay_on(view.day)
    return {"interval": interval, "pay": money(pay, currency)}


def _job_department(view: JobView) -> dict[str, str]:
    department = view.job.department_on(view.day)
    return {"id": department.id, "name": department.name}


def _location_object(view: JobView) -> dict[str, Any]:
    location = view.job.location
    return {"id": location.id, "name": location.name,
            "address": {"city": location.city, "country": location.country}}


def _tenure(view: JobView) -> int | None:
    return None if view.occupancy is None else whole_months(view.occupancy.start, view.day)


def _days_open(view: JobView) -> int | None:
    return view.day - view.job.vacancy_start(view.day) if view.is_open else None


def _end_date(view: JobView) -> str | None:
    return None if view.occupancy is None else iso(view.occupancy.end)


_job_field_list = [
    Field("jobId", lambda view: view.job.id),
    Field("title", lambda view: view.job.title_on(view.day)),
    Field("open", lambda view: "open" if view.is_open else "filled"),
    Field("personId", _person_attr(lambda person: person.id)),
    Field("name", _person_attr(_name_object), _person_attr(_full_name)),
    Field("name.first", _person_attr(lambda person: person.first)),
    Field("name.last", _person_attr(lambda person: person.last)),
    Field("name.pref", _person_attr(lambda person: person.pref)),
    Field("contact.workEmail", _person_attr(lambda person: person.work_email)),
    Field("contact.employee", _person_attr(lambda person: person.employee)),
    Field("contact.workPhone", _person_attr(lambda person: person.work_phone)),
    Field("department", _job_department, lambda view: view.job.department_on(view.day).name),
    Field("department.name", lambda view: view.job.department_on(view.day).name),
    Field("location", _location_object, lambda view: view.job.location.name),
    Field("location.name", lambda view: view.job.location.name),
    Field("location.address.country", lambda view: view.job.location.country),
    Field("location.address.city", lambda view: view.job.location.city),
    Field("workAddress", lambda view: {"city": view.job.location.city, "country": view.job.location.country},
          lambda view: f"{view.job.location.city}, {view.job.location.country}"),
    Field("workAddress.country", lambda view: view.job.location.country),
    Field("workAddress.city", lambda view: view.job.location.city),
    # NOTE: ChartHop's own sync tool joins `manager` on job ids in format=minimal; the emulator returns
    # the manager's jobId in every format, which is unconfirmed for json.
    Field("manager", lambda view: view.job.manager.id if view.job.manager else None),
    Field("managerIds", lambda view: list(view.job.manager_ids)),
    Field("employment", lambda view: view.job.employment),
    Field("startDate", lambda view: view.start_date()),
    Field("startDateOrg", lambda view: None if view.occupancy is None else iso(view.occupancy.start)),
    Field("endDateOrg", _end_date),
    Field("tenure", _tenure),
    Field("baseComp", _job_base_comp, comp=True),
    Field("baseComp.annualized", lambda view: None if view.person is None else annualized_pay(view.person, view.day),
          comp=True),
    Field("baseComp.interval", lambda view: None if view.person is None else view.person.pay_on(view.day)[2],
          comp=True),
    Field("baseComp.pay", _job_pay, comp=True),
    Field("currency", lambda view: None if view.person is None else view.person.pay_on(view.day)[1], comp=True),
    Field("costCenter", lambda view: view.job.cost_center),
    Field("perfRating", _person_attr(lambda person: person.perf_rating)),
    Field("esquemaDeContratacin", _person_attr(lambda person: list(person.contract_scheme))),
    Field("daysOpen", _days_open),
]

JOB_FIELDS: dict[str, Field] = {field.code.lower(): field for field in _job_field_list}
JOB_FIELD_CODES: dict[str, str] = {code: field.code for code, field in JOB_FIELDS.items()}

JOB_KEYWORDS: dict[str, Callable[[JobView], bool]] = {
    "open": lambda view: view.is_open,
    "person": lambda view: not view.is_open,
    "manager": lambda view: view.is_manager(),
    "ic": lambda view: not view.is_manager(),
    "starting": lambda view: view.is_starting(),
    "departing": lambda view: view.is_departing(),
}

# NOTE: which fields ChartHop returns when `fields` is omitted is unknown; the emulator picks these.
DEFAULT_JOB_FIELDS = ("jobId", "title", "open", "personId")


def _person_job(view: PersonView) -> Job | None:
    return view.occupancy.job if view.occupancy else None


def _person_department(view: PersonView) -> dict[str, str] | None:
    if view.occupancy is None:
        return None
    department = view.occupancy.job.department_on(view.day)
    return {"id": department.id, "name": department.name}


_person_field_list = [
    Field("id", lambda view: view.person.id),
    Field("jobId", lambda view: view.occupancy.job.id if view.occupancy else None),
    Field("name", lambda view: _name_object(view.person), lambda view: _full_name(view.person)),
    Field("name.first", lambda view: view.person.first),
    Field("name.last", lambda view: view.person.last),
    Field("name.pref", lambda view: view.person.pref),
    Field("contact.workEmail", lambda view: view.person.work_email),
    Field("contact.employee", lambda view: view.person.employee),
    Field("contact.workPhone", lambda view: view.person.work_phone),
    Field("startDateOrg", lambda view: iso(view.person.occupancy.start) if view.person.occupancy else None),
    Field("endDateOrg", lambda view: iso(view.person.occupancy.end) if view.person.occupancy else None),
    Field("title", lambda view: view.occupancy.job.title_on(view.day) if view.occupancy else None),
    Field("department", _person_department,
          lambda view: view.occupancy.job.department_on(view.day).name if view.occupancy else None),
    Field("department.name", lambda view: view.occupancy.job.department_on(view.day).name if view.occupancy else None),
    Field("location.name", lambda view: view.occupancy.job.location.name if view.occupancy else None),
]

PERSON_FIELDS: dict[str, Field] = {field.code.lower(): field for field in _person_field_list}
PERSON_FIELD_CODES: dict[str, str] = {code: field.code for code, field in PERSON_FIELDS.items()}

PERSON_KEYWORDS: dict[str, Callable[[PersonView], bool]] = {
    "person": lambda view: view.occupancy is not None,
    "open": lambda view: False,
    "departing": lambda view: (
        view.occupancy is not None and view.occupancy.end is not None
        and view.day <= view.occupancy.end < view.day + CHANGE_WINDOW_DAYS
    ),
}

# NOTE: the default person fields are unknown as for jobs; the emulator picks these.
DEFAULT_PERSON_FIELDS = ("id", "jobId", "name")


def parse_field_list(raw_values: list[str], registry: dict[str, Field]) -> list[str]:
    """Split comma lists of field expressions, drop blanks and duplicates, keeping the caller's spelling.

    :raises KeyError: with the first unknown field code as its argument.
    """
    requested: list[str] = []
    seen: set[str] = set()
    for raw in raw_values:
        for part in raw.split(","):
            expression = part.strip()
            if not expression or expression.lower() in seen:
                continue
            if expression.lower() not in registry:
                raise KeyError(expression)
            seen.add(expression.lower())
            requested.append(expression)
    return requested


def render_row(view: Any, expressions: list[str], registry: dict[str, Field], minimal: bool) -> dict[str, Any]:
    """Render one row: flat keys equal to the requested expressions (minimal) or nested objects (json)."""
    row: dict[str, Any] = {}
    for expression in expressions:
        value = registry[expression.lower()].read(view, minimal)
        if minimal:
            row[expression] = value
        else:
            _set_nested(row, expression.split("."), value)
    return row


def _set_nested(row: dict[str, Any], path: list[str], value: Any) -> None:
    """Store ``value`` under a dotted path, merging with objects that other expressions already built."""
    target = row
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    leaf = path[-1]
    existing = target.get(leaf)
    if isinstance(existing, dict):
        if isinstance(value, dict):
            existing.update({key: item for key, item in value.items() if key not in existing})
        return
    target[leaf] = value

