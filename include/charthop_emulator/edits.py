"""Changes to the emulated org after generation: hires, title and department changes, pay changes, departures.

Both the CSV importer and the admin job edit go through :class:`OrgEditor`. Readers never lock, so
the editor replaces the lists it extends (``org.jobs``, ``org.persons``, ``org.departments``) instead
of inserting into them, and a reader that is iterating the old list sees a consistent snapshot.
"""

from __future__ import annotations

import bisect
import random
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from charthop_emulator.org import Group, Job, JobChange, Occupancy, Org, PayChange, Person
from charthop_emulator.query import QueryEngine

_UNIX_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class EditError(ValueError):
    """A change that the org cannot take, such as a departure before the person's start date."""


def new_object_id(day: int, is_taken: Callable[[str], bool] | None = None) -> str:
    """Make an ObjectId-style 24-hex id whose timestamp falls on ``day`` and for which ``is_taken`` is false."""
    midnight = (day - _UNIX_EPOCH_ORDINAL) * 86_400
    while True:
        stamp = midnight + random.randrange(86_400)
        candidate = f"{stamp & 0xFFFFFFFF:08x}{random.getrandbits(64):016x}"
        if is_taken is None or not is_taken(candidate):
            return candidate


def start_error(person: Person, start: int) -> str | None:
    """Return why the person's current job cannot start on ``start``, or None when it can."""
    occupancy = person.occupancy
    if occupancy is None:
        return "the person has no job"
    job = occupancy.job
    previous_end = max((other.end for other in job.occupancies
                        if other is not occupancy and other.end is not None and other.end < occupancy.start),
                       default=None)
    text = date.fromordinal(start).isoformat()
    if start < job.create or (previous_end is not None and start <= previous_end):
        return f"start date {text} is before the job was free"
    if occupancy.end is not None and start > occupancy.end:
        return f"start date {text} is after the end date"
    return None


def depart_error(person: Person, last_day: int) -> str | None:
    """Return why the person cannot leave their current job after ``last_day``, or None when they can."""
    occupancy = person.occupancy
    if occupancy is None:
        return "the person has no job"
    text = date.fromordinal(last_day).isoformat()
    if last_day < occupancy.start:
        return f"end date {text} is before the start date {date.fromordinal(occupancy.start).isoformat()}"
    job = occupancy.job
    if job.delete is not None and last_day >= job.delete:
        return f"end date {text} is after the job was deleted"
    later = [other for other in job.occupancies if other is not occupancy and other.start > occupancy.start]
    if later and last_day >= later[0].start:
        return f"end date {text} overlaps the next occupant"
    return None


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in folded if ch.isalnum())


@dataclass(frozen=True, slots=True)
class NewHire:
    """The person and job a hire created."""

    job: Job
    person: Person


class OrgEditor:
    """Applies changes to one org under a lock, then publishes new lists and clears the query cache.

    Use it as a context manager: changes are made inside the ``with`` block and published on exit.
    """

    def __init__(self, org: Org, engine: QueryEngine, lock: threading.RLock) -> None:
        self.org = org
        self.engine = engine
        self.lock = lock
        self._new_jobs: list[Job] = []
        self._new_persons: list[Person] = []
        self._new_departments: list[Group] = []
        self.changed = False

    def __enter__(self) -> OrgEditor:
        self.lock.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._publish()
        finally:
            self.lock.release()

    # --- lookups --------------------------------------------------------------------------------

    def root_job(self) -> Job:
        """Return the job at the top of the management tree."""
        return next(job for job in self.org.jobs if job.manager is None)

    def find_department(self, name: str) -> Group | None:
        """Return the department with this name (case-insensitive), including ones created in this edit."""
        wanted = name.strip().casefold()
        for group in [*self.org.departments, *self._new_departments]:
            if group.name.casefold() == wanted:
                return group
        return None

    # --- changes --------------------------------------------------------------------------------

    def create_department(self, name: str) -> Group:
        group = Group(id=new_object_id(self.org.today), name=name.strip())
        self._new_departments.append(group)
        self.changed = True
        return group

    def set_person(self, person: Person, *, first: str | None = None, last: str | None = None,
                   email: str | None = None, employee: str | None = None) -> bool:
        """Overwrite the given person fields; these are not dated in the emulator, so they change for every day."""
        changed = False
        for attribute, value in (("first", first), ("last", last), ("work_email", email), ("employee", employee)):
            if value is not None and getattr(person, attribute) != value:
                setattr(person, attribute, value)
                changed = True
        self.changed = self.changed or changed
        return changed

    def set_title(self, job: Job, title: str, day: int) -> bool:
        """Give ``job`` a new title from ``day`` on; return False when it already has that title."""
        if job.title_on(day) == title:
            return False
        self._add_job_change(job, JobChange(day=day, title=title))
        return True

    def set_department(self, job: Job, department: Group, day: int) -> bool:
        """Move ``job`` to ``department`` from ``day`` on; return False when it is already there."""
        if job.department_on(day).id == department.id:
            return False
        self._add_job_change(job, JobChange(day=day, department=department))
        return True

    def set_pay(self, person: Person, day: int, amount: float | None, currency: str | None) -> bool:
        """Change the base pay from ``day`` on; an amount sets a yearly pay, a currency alone keeps the amount."""
        pay, old_currency, interval = person.pay_on(day)
        new_pay = pay if amount is None else float(amount)
        new_interval = interval if amount is None else "YEARLY"
        new_currency = currency or old_currency
        if (new_pay, new_currency, new_interval) == (pay, old_currency, interval):
            return False
        changes = [change for change in person.pay_changes if change.day != day]
        bisect.insort(changes, PayChange(day, new_pay, new_currency, new_interval), key=lambda change: change.day)
        person.pay_changes = tuple(changes)
        self.changed = True
        return True

    def set_start(self, person: Person, start: int) -> bool:
        """Move the start of the person's current job to ``start``.

        :raises EditError: when ``start`` falls outside the job's life, after the end of the occupancy
            or on a day when the previous occupant was still in the job.
        """
        occupancy = person.occupancy
        if occupancy is not None and occupancy.start == start:
            return False
        problem = start_error(person, start)
        if problem is not None or occupancy is None:
            raise EditError(problem or "the person has no job")
        occupancy.start = start
        self.changed = True
        return True

    def depart(self, person: Person, last_day: int) -> bool:
        """End the person's current job on ``last_day`` (inclusive); the job is open from the next day.

        :raises EditError: when ``last_day`` is before the start date or the job no longer exists then.
        """
        occupancy = person.occupancy
        if occupancy is not None and occupancy.end == last_day:
            return False
        problem = depart_error(person, last_day)
        if problem is not None or occupancy is None:
            raise EditError(problem or "the person has no job")
        occupancy.end = last_day
        self.changed = True
        return True

    def hire(self, *, start: int, first: str, last: str, email: str, employee: str, title: str,
             department: Group, pay: float, currency: str) -> NewHire:
        """Create a person in a new filled job under the root job, starting on ``start``."""
        root = self.root_job()
        taken_ids = {job.id for job in self._new_jobs} | {person.id for person in self._new_persons}

        def is_taken(candidate: str) -> bool:
            return (candidate in taken_ids or candidate in self.org.jobs_by_id
                    or candidate in self.org.persons_by_id)

        job = Job(
            id=new_object_id(start, is_taken), title=title, create=start,
            delete=None, manager=root, depth=root.depth + 1, department=department, location=root.location,
            employment="FULL", cost_center=root.cost_center, manager_ids=[root.id, *root.manager_ids],
        )
        person = Person(
            id=new_object_id(start, is_taken), first=first, last=last, pref=None,
            seq=len(self.org.persons) + len(self._new_persons), employee=employee or self._next_employee_id(),
            pay=float(pay), currency=currency, interval="YEARLY",
        )
        person.work_email = email or self._make_email(first, last)
        occupancy = Occupancy(job=job, person=person, start=start, end=None)
        job.occupancies.append(occupancy)
        person.occupancy = occupancy
        self._new_jobs.append(job)
        self._new_persons.append(person)
        self.changed = True
        return NewHire(job=job, person=person)

    # --- helpers --------------------------------------------------------------------------------

    def _add_job_change(self, job: Job, change: JobChange) -> None:
        changes = list(job.changes)
        bisect.insort(changes, change, key=lambda item: item.day)
        job.changes = tuple(changes)
        self.changed = True

    def _next_employee_id(self) -> str:
        numbers = [int(person.employee) for person in [*self.org.persons, *self._new_persons]
                   if person.employee.isdigit()]
        return f"{max(numbers, default=0) + 1:06d}"

    def _make_email(self, first: str, last: str) -> str:
        local = ".".join(part for part in (_ascii_slug(first), _ascii_slug(last)) if part) or "new.hire"
        used = {person.work_email.casefold() for person in [*self.org.persons, *self._new_persons]}
        domain = f"{self.org.slug}.example.com"
        candidate, number = f"{local}@{domain}", 1
        while candidate in used:
            number += 1
            candidate = f"{local}{number}@{domain}"
        return candidate

    def _publish(self) -> None:
        org = self.org
        if self._new_jobs:
            root = self.root_job()
            root.children = [*root.children, *self._new_jobs]
            org.jobs = sorted([*org.jobs, *self._new_jobs], key=lambda job: job.id)
            org.jobs_by_id = {**org.jobs_by_id, **{job.id: job for job in self._new_jobs}}
        if self._new_persons:
            org.persons = sorted([*org.persons, *self._new_persons], key=lambda person: person.id)
            org.persons_by_id = {**org.persons_by_id, **{person.id: person for person in self._new_persons}}
        if self._new_departments:
            org.departments = [*org.departments, *self._new_departments]
        self._new_jobs, self._new_persons, self._new_departments = [], [], []
        if self.changed:
            self.engine.invalidate()
