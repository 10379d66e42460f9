"""Fault injection: rules that make chosen API requests fail or page badly, with per-rule counters.

A fault object is JSON: ``{"kind": ..., "path": <fnmatch glob, default "*">, "after": <skip the first
N matching requests, default 0>, "times": <fire at most N times, default unlimited>, ...}``.
Admin paths under ``/_emulator/`` are never faulted.

Faults are considered at two points of a request:

* response faults (``status``, ``snapshot_building``, ``reset``) and ``delay``, before
  authentication, on every API request whose path matches;
* paging faults (``page_cap``, ``boundary_duplicate``, ``repeat_cursor``, ``repeat_page``) only when a
  list request (findJobs, findPersons, findUsers) is valid and its page is being built; ``repeat_cursor`` and
  ``repeat_page`` only on requests that carry ``from``, and ``repeat_page`` only once a previous
  page of the same listing exists.

A rule counts a request as matching only at the point where it applies. At most one rule per
category takes effect on a request (response, delay, page cap, cursor); a rule shadowed by an
earlier one of its category is not counted as fired.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field
from typing import Any

RESPONSE_KINDS = ("status", "snapshot_building", "reset")
PAGING_KINDS = ("page_cap", "boundary_duplicate", "repeat_cursor", "repeat_page")
ALL_KINDS = (*RESPONSE_KINDS, "delay", *PAGING_KINDS)

_CATEGORY = {
    "status": "response", "snapshot_building": "response", "reset": "response", "delay": "delay",
    "page_cap": "cap", "boundary_duplicate": "cursor", "repeat_cursor": "cursor", "repeat_page": "cursor",
}
_COMMON_KEYS = {"kind", "path", "after", "times"}
_KIND_KEYS = {
    "status": ({"status"}, {"retry_after", "message"}),
    "snapshot_building": (set(), set()),
    "reset": (set(), set()),
    "delay": ({"seconds"}, set()),
    "page_cap": ({"max_limit"}, set()),
    "boundary_duplicate": (set(), set()),
    "repeat_cursor": (set(), set()),
    "repeat_page": (set(), set()),
}


class FaultError(ValueError):
    """An invalid fault object; the message names the field."""


@dataclass(slots=True)
class Fault:
    """One fault rule and its counters."""

    kind: str
    path: str = "*"
    after: int = 0
    times: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    seen: int = 0
    fired: int = 0

    def describe(self) -> dict[str, Any]:
        """Return the rule as given, plus how many matching requests it saw and how often it fired."""
        return {"kind": self.kind, "path": self.path, "after": self.after, "times": self.times,
                **self.options, "seen": self.seen, "fired": self.fired}


def _non_negative_int(raw: dict[str, Any], key: str, default: int | None) -> int | None:
    value = raw.get(key, default)
    if value is None and default is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FaultError(f"invalid fault field {key!r}: expected a non-negative integer, got {value!r}")
    return value


def parse_fault(raw: Any) -> Fault:
    """Validate one fault object and build a Fault.

    :raises FaultError: on an unknown kind, a missing or unknown field, or a bad value.
    """
    if not isinstance(raw, dict):
        raise FaultError(f"invalid fault: expected a JSON object, got {raw!r}")
    kind = raw.get("kind")
    if kind not in _KIND_KEYS:
        raise FaultError(f"invalid fault kind {kind!r}: expected one of {', '.join(ALL_KINDS)}")
    required, optional = _KIND_KEYS[kind]
    missing = sorted(required - raw.keys())
    if missing:
        raise FaultError(f"fault kind {kind!r} is missing field {missing[0]!r}")
    unknown = sorted(raw.keys() - _COMMON_KEYS - required - optional)
    if unknown:
        raise FaultError(f"fault kind {kind!r} has unknown field {unknown[0]!r}")
    path = raw.get("path", "*")
    if not isinstance(path, str) or not path:
        raise FaultError(f"invalid fault field 'path': expected a glob string, got {path!r}")
    options = {key: raw[key] for key in required | optional if key in raw}
    _validate_options(kind, options)
    return Fault(kind=kind, path=path, after=_non_negative_int(raw, "after", 0) or 0,
                 times=_non_negative_int(raw, "times", None), options=options)


def _validate_options(kind: str, options: dict[str, Any]) -> None:
    if kind == "status":
        status = options["status"]
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise FaultError(f"invalid fault field 'status': expected an HTTP status code, got {status!r}")
        retry_after = options.get("retry_after")
        if retry_after is not None and (isinstance(retry_after, bool) or not isinstance(retry_after, (int, float))
                                        or retry_after < 0):
            raise FaultError(f"invalid fault field 'retry_after': expected seconds >= 0, got {retry_after!r}")
    elif kind == "delay":
        seconds = options["seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 600:
            raise FaultError(f"invalid fault field 'seconds': expected 0 to 600, got {seconds!r}")
    elif kind == "page_cap":
        max_limit = options["max_limit"]
        if isinstance(max_limit, bool) or not isinstance(max_limit, int) or max_limit < 1:
            raise FaultError(f"invalid fault field 'max_limit': expected a positive integer, got {max_limit!r}")


def parse_faults(raw: Any) -> list[Fault]:
    """Validate a JSON list of fault objects (a single object is accepted as a list of one)."""
    items = raw if isinstance(raw, list) else [raw]
    return [parse_fault(item) for item in items]


class FaultSet:
    """The current fault rules; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def replace(self, faults: list[Fault]) -> None:
        with self._lock:
            self._faults = list(faults)

    def extend(self, faults: list[Fault]) -> None:
        with self._lock:
            self._faults.extend(faults)

    def clear(self) -> None:
        with self._lock:
            self._faults = []

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.describe() for fault in self._faults]

    def select(self, path: str, kinds: tuple[str, ...]) -> list[Fault]:
        """Count this request against every matching rule of ``kinds`` and return those that fire."""
        fired: list[Fault] = []
        used_categories: set[str] = set()
        with self._lock:
            for fault in self._faults:
                if fault.kind not in kinds or not fnmatch.fnmatchcase(path, fault.path):
                    continue
                fault.seen += 1
                category = _CATEGORY[fault.kind]
                due = fault.seen > fault.after and (fault.times is None or fault.fired < fault.times)
                if due and category not in used_categories:
                    used_categories.add(category)
                    fault.fired += 1
                    fired.append(fault)
        return fired
