"""Filtered, id-ordered listings of jobs and persons, cached per query so that paging is cheap.

A listing is the full sorted result of one (kind, date, q, ids, ...) query. Pages are slices of it
found by binary search on the ``from`` cursor, so a page of 1,000 rows out of 100,000 costs only
the rendering of those rows once the listing is cached.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from charthop_emulator import carrot
from charthop_emulator.fields import (
    CHANGE_WINDOW_DAYS, JOB_FIELD_CODES, JOB_KEYWORDS, PERSON_FIELD_CODES, PERSON_KEYWORDS, JobView, PersonView,
)
from charthop_emulator.org import Job, Org, Person

CACHE_SIZE = 32


@dataclass(slots=True)
class Listing:
    """The matching entities of one query, in ascending id order."""

    ids: list[str]
    items: list[Any]
    counts: dict[str, int] | None = field(default=None)

    def page(self, cursor: str | None, limit: int) -> tuple[int, list[Any], str | None]:
        """Return (start index, items, next cursor) for the page that starts at id ``cursor`` (inclusive)."""
        # NOTE: whether ChartHop's `from` is inclusive is unknown. Here it is, and `next` is the first id of
        # the following page, so pages do not overlap. A cursor id that no longer matches starts at the next larger id.
        start = 0 if cursor is None else bisect.bisect_left(self.ids, cursor)
        end = start + limit
        next_cursor = self.ids[end] if end < len(self.ids) else None
        return start, self.items[start:end], next_cursor

    def fresh_cursor(self, start: int) -> str | None:
        """Return a cursor that differs from every id yet still leads to position ``start``.

        It is the id just below ``ids[start]`` read as a 24-hex number, which still sorts after the
        previous row's id. When no such value exists, the plain id is returned.
        """
        if start >= len(self.ids):
            return None
        target = self.ids[start]
        previous = self.ids[start - 1] if start > 0 else ""
        try:
            candidate = f"{int(target, 16) - 1:0{len(target)}x}"
        except ValueError:
            return target
        return candidate if previous < candidate < target else target


class QueryEngine:
    """Builds and caches listings for one org; thread-safe."""

    def __init__(self, org: Org, cache_size: int = CACHE_SIZE) -> None:
        self.org = org
        self._cache: OrderedDict[Hashable, Listing] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._generation = 0

    def invalidate(self) -> None:
        """Drop every cached listing; call after the org changed."""
        with self._lock:
            self._generation += 1
            self._cache.clear()

    def _cached(self, key: Hashable, build: Callable[[], Listing]) -> Listing:
        with self._lock:
            # The generation in the key keeps a listing built before an invalidate() out of the cache.
            key = (self._generation, key)
            listing = self._cache.get(key)
            if listing is not None:
                self._cache.move_to_end(key)
                return listing
        # Built outside the lock: two threads may build the same listing once, which is harmless.
        listing = build()
        with self._lock:
            self._cache[key] = listing
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return listing

    def jobs(self, day: int, q: str | None, ids: Sequence[str] | None, comp_allowed: bool) -> Listing:
        """Return the jobs existing on ``day`` that match ``q`` and ``ids``.

        :raises carrot.CarrotError: when ``q`` is outside the supported Carrot subset.
        """
        node = carrot.parse(q, JOB_FIELD_CODES, JOB_KEYWORDS) if q else None
        key = ("job", day, q or None, tuple(ids) if ids is not None else None, comp_allowed)

        def build() -> Listing:
            requested_ids = set(ids) if ids is not None else None
            items: list[Job] = []
            for job in self.org.jobs:
                if not job.alive_on(day) or (requested_ids is not None and job.id not in requested_ids):
                    continue
                if node is None or node.evaluate(JobView(job, day, comp_allowed)):
                    items.append(job)
            return Listing(ids=[job.id for job in items], items=items)

        return self._cached(key, build)

    def persons(self, day: int, q: str | None, ids: Sequence[str] | None, include_all: bool) -> Listing:
        """Return the persons in a job on ``day`` (or everyone, with include_all) that match ``q`` and ``ids``.

        :raises carrot.CarrotError: when ``q`` is outside the supported Carrot subset.
        """
        node = carrot.parse(q, PERSON_FIELD_CODES, PERSON_KEYWORDS) if q else None
        key = ("person", day, q or None, tuple(ids) if ids is not None else None, include_all)

        def build() -> Listing:
            requested_ids = set(ids) if ids is not None else None
            items: list[Person] = []
            for person in self.org.persons:
                if requested_ids is not None and person.id not in requested_ids:
                    continue
                if not include_all and not (person.occupancy and person.occupancy.active_on(day)):
                    continue
                if node is None or node.evaluate(PersonView(person, day)):
                    items.append(person)
            return Listing(ids=[person.id for person in items], items=items)

        return self._cached(key, build)

    def job_counts(self, listing: Listing, day: int) -> dict[str, int]:
        """Return the OrgCount of a job listing (computed once per cached listing)."""
        if listing.counts is None:
            views = [JobView(job, day) for job in listing.items]
            listing.counts = {
                "jobCount": len(views),
                "personCount": sum(1 for view in views if not view.is_open),
                "startingCount": sum(1 for view in views if view.is_starting()),
                "departingCount": sum(1 for view in views if view.is_departing()),
            }
        return listing.counts

    def person_counts(self, listing: Listing, day: int) -> dict[str, int]:
        """Return the OrgCount of a person listing (computed once per cached listing)."""
        if listing.counts is None:
            views = [PersonView(person, day) for person in listing.items]
            listing.counts = {
                "jobCount": sum(1 for view in views if view.occupancy is not None),
                "personCount": len(views),
                "startingCount": sum(
                    1 for view in views
                    if view.person.occupancy and day < view.person.occupancy.start <= day + CHANGE_WINDOW_DAYS
                ),
                "departingCount": sum(1 for view in views if PERSON_KEYWORDS["departing"](view)),
            }
        return listing.counts
