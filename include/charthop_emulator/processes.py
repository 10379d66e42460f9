"""ChartHop processes: the store behind getProcess, updateProcess, findProcesses and the process log.

A process is kept as its JSON object (the spec's ``Process``) plus a history of every status,
progress and message change. Processes that run on their own (CSV imports) have a *driver* that
moves them through PENDING, RUNNING and DONE or ERROR according to wall-clock time. The store
calls the drivers lazily, before each read, so no background thread is needed.
"""

from __future__ import annotations

import copy
import itertools
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

STATUSES = ("PENDING", "RUNNING", "DONE", "ERROR")
TERMINAL_STATUSES = frozenset({"DONE", "ERROR"})
# findProcesses also accepts this filter value; the emulator gives it to DONE processes with row errors.
DONE_WITH_ERRORS = "DONE_WITH_ERRORS"
LOG_LEVELS = ("INFO", "WARN", "ERROR")
# The fields of the spec's UpdateProcess object.
UPDATE_FIELDS = ("status", "filePath", "message", "progress", "internalError", "options", "results",
                 "logDataList", "state", "summary", "appId")
_OBJECT_FIELDS = ("options", "results", "state")
_STRING_FIELDS = ("filePath", "message", "internalError", "summary", "appId")

_id_counter = itertools.count(random.getrandbits(40))
_id_lock = threading.Lock()


def new_id() -> str:
    """Make a 24-hex ObjectId-style id: 8 hex of the current Unix time, then a counter, so ids sort by creation."""
    with _id_lock:
        return f"{int(time.time()) & 0xFFFFFFFF:08x}{next(_id_counter) & (2**64 - 1):016x}"


def iso_timestamp(moment: float | None = None) -> str:
    """Format a Unix time (default: now) as ISO 8601 UTC with milliseconds, e.g. 2026-12-04T13:57:52.123Z."""
    stamp = datetime.fromtimestamp(time.time() if moment is None else moment, tz=timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> float:
    """Parse an ISO 8601 timestamp (``Z`` or an offset; a date alone means midnight UTC) into Unix time.

    :raises ValueError: when the text is not such a timestamp.
    """
    value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


class ProcessError(ValueError):
    """An invalid process update or filter; the message names the field."""


class Driver(Protocol):
    """Moves a process along its lifecycle; called with the store's lock held."""

    def advance(self, store: ProcessStore, process_id: str, now: float) -> None: ...


@dataclass(slots=True)
class ProcessRecord:
    """A stored process: its JSON object, creation time (Unix), history, optional driver and trigger.

    ``trigger`` is "manual" for a process a person started (Sync Now) and "auto" otherwise.
    """

    data: dict[str, Any]
    created: float
    history: list[dict[str, Any]] = field(default_factory=list)
    driver: Driver | None = None
    trigger: str = "auto"


class ProcessStore:
    """All processes of the emulated org; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._records: dict[str, ProcessRecord] = {}

    def create(self, data: dict[str, Any], driver: Driver | None = None, source: str = "create",
               trigger: str = "auto") -> dict[str, Any]:
        """Store a new process built from ``data`` (id, createAt and defaults are filled in); return a copy."""
        now = time.time()
        process = {"id": new_id(), "createAt": iso_timestamp(now), "status": "PENDING", "progress": 0.0,
                   "options": {}, "logDataList": [], "uuid": str(uuid.uuid4()), **data}
        process.setdefault("updateAt", process["createAt"])
        record = ProcessRecord(data=process, created=now, driver=driver, trigger=trigger)
        with self.lock:
            self._records[process["id"]] = record
            self._note(record, source, now)
            return copy.deepcopy(process)

    def advance_all(self) -> None:
        """Let every driven process that has not finished catch up with the clock."""
        now = time.monotonic()
        with self.lock:
            for process_id, record in list(self._records.items()):
                if record.driver is not None and record.data["status"] not in TERMINAL_STATUSES:
                    record.driver.advance(self, process_id, now)

    def get(self, process_id: str) -> dict[str, Any] | None:
        """Return a copy of the process after its driver caught up, or None when unknown."""
        self.advance_all()
        with self.lock:
            record = self._records.get(process_id)
            return None if record is None else copy.deepcopy(record.data)

    def peek(self, process_id: str) -> dict[str, Any]:
        """Return a copy of the process as stored, without letting its driver advance."""
        with self.lock:
            return copy.deepcopy(self._records[process_id].data)

    def get_status(self, process_id: str) -> str:
        """Return the status without advancing the process (for drivers)."""
        return self.get_field(process_id, "status")

    def get_field(self, process_id: str, name: str) -> Any:
        """Return a copy of one field without advancing the process (for drivers)."""
        with self.lock:
            return copy.deepcopy(self._records[process_id].data.get(name))

    def set_fields(self, process_id: str, changes: dict[str, Any], source: str) -> None:
        """Set fields of a process and record the change in its history (used by drivers)."""
        with self.lock:
            record = self._records[process_id]
            now = time.time()
            record.data.update(changes)
            record.data["updateAt"] = iso_timestamp(now)
            self._note(record, source, now)

    def append_log(self, process_id: str, level: str, message: str, data: dict[str, Any] | None = None) -> None:
        with self.lock:
            entry = {"level": level, "at": iso_timestamp(), "message": message, "data": data or {}}
            self._records[process_id].data.setdefault("logDataList", []).append(entry)

    def update(self, process_id: str, patch: Any, user_id: str) -> dict[str, Any] | None:
        """Merge an UpdateProcess body into a process; return the updated copy, or None when unknown.

        Scalars replace the stored value, the object fields (options, results, state) are merged key
        by key, ``logDataList`` entries are appended, and null values are ignored. Setting ``status``
        takes the process away from its driver, so a client can finish an import process itself.

        :raises ProcessError: when the body or one of its fields is invalid.
        """
        changes = validate_update(patch)
        self.advance_all()
        with self.lock:
            record = self._records.get(process_id)
            if record is None:
                return None
            now = time.time()
            data = record.data
            for name, value in changes.items():
                if name in _OBJECT_FIELDS:
                    data[name] = {**(data.get(name) or {}), **value}
                elif name == "logDataList":
                    data.setdefault("logDataList", []).extend(value)
                else:
                    data[name] = value
            if "status" in changes:
                record.driver = None
                if changes["status"] != "PENDING":
                    data.setdefault("startAt", iso_timestamp(now))
                if changes["status"] in TERMINAL_STATUSES:
                    data["endAt"] = iso_timestamp(now)
            data["updateId"] = user_id
            data["updateAt"] = iso_timestamp(now)
            self._note(record, "updateProcess", now)
            return copy.deepcopy(data)

    def history(self, process_id: str) -> list[dict[str, Any]] | None:
        self.advance_all()
        with self.lock:
            record = self._records.get(process_id)
            return None if record is None else copy.deepcopy(record.history)

    def find(self, filters: ProcessFilter) -> list[dict[str, Any]]:
        """Return copies of the processes that pass ``filters``, in ascending id order."""
        self.advance_all()
        with self.lock:
            parents = {record.data.get("parentProcessId") for record in self._records.values()}
            found = [copy.deepcopy(record.data) for record in self._records.values()
                     if filters.matches(record, record.data["id"] in parents)]
        return sorted(found, key=lambda process: process["id"])

    def clear(self) -> None:
        with self.lock:
            self._records.clear()

    @staticmethod
    def _note(record: ProcessRecord, source: str, now: float) -> None:
        """Append a history entry when status, progress or message differ from the last one."""
        data = record.data
        entry = {"status": data.get("status"), "progress": data.get("progress"), "message": data.get("message")}
        last = record.history[-1] if record.history else None
        if last is not None and all(last[key] == value for key, value in entry.items()):
            return
        record.history.append({"at": iso_timestamp(now), "source": source, **entry})


def validate_update(patch: Any) -> dict[str, Any]:
    """Check an UpdateProcess body and return its non-null known fields.

    :raises ProcessError: naming the first invalid field.
    """
    if not isinstance(patch, dict):
        raise ProcessError("invalid body: expected a JSON object with UpdateProcess fields")
    # NOTE: whether ChartHop rejects unknown fields in an UpdateProcess body is unknown; the emulator ignores them.
    changes = {name: patch[name] for name in UPDATE_FIELDS if patch.get(name) is not None}
    if "status" in changes and changes["status"] not in STATUSES:
        raise ProcessError(f"invalid status {changes['status']!r}; expected one of {', '.join(STATUSES)}")
    if "progress" in changes and (isinstance(changes["progress"], bool)
                                  or not isinstance(changes["progress"], (int, float))):
        raise ProcessError(f"invalid progress {changes['progress']!r}; expected a number from 0 to 1")
    for name in _STRING_FIELDS:
        if name in changes and not isinstance(changes[name], str):
            raise ProcessError(f"invalid {name}: expected a string")
    for name in _OBJECT_FIELDS:
        if name in changes and not isinstance(changes[name], dict):
            raise ProcessError(f"invalid {name}: expected a JSON object")
    if "logDataList" in changes:
        entries = changes["logDataList"]
        if not isinstance(entries, list) or not all(_valid_log_entry(entry) for entry in entries):
            raise ProcessError("invalid logDataList: expected a list of {level: INFO|WARN|ERROR, at, message?, data}")
    return changes


def _valid_log_entry(entry: Any) -> bool:
    return (isinstance(entry, dict) and entry.get("level") in LOG_LEVELS and isinstance(entry.get("at"), str)
            and isinstance(entry.get("data", {}), dict) and isinstance(entry.get("message", ""), str))


@dataclass(slots=True)
class ProcessFilter:
    """The findProcesses filters; None means "no filter"."""

    statuses: frozenset[str] | None = None
    trigger: str | None = None
    exact_type: str | None = None
    process_types: frozenset[str] | None = None
    created_from: float | None = None
    created_until: float | None = None
    search: str | None = None
    app_id: str | None = None
    is_app_process: bool | None = None
    parent_process_id: str | None = None
    is_parent_process: bool | None = None
    run_user_id: str | None = None

    def matches(self, record: ProcessRecord, is_parent: bool) -> bool:
        data = record.data
        if self.statuses is not None and not self._status_matches(data):
            return False
        if self.trigger is not None and record.trigger != self.trigger:
            return False
        if self.exact_type is not None and str(data.get("type", "")).casefold() != self.exact_type:
            return False
        if self.process_types is not None and str(data.get("type", "")).casefold() not in self.process_types:
            return False
        if self.created_from is not None and record.created < self.created_from:
            return False
        if self.created_until is not None and record.created >= self.created_until:
            return False
        if self.search is not None and not self._search_matches(data):
            return False
        if self.app_id is not None and data.get("appId") != self.app_id:
            return False
        if self.is_app_process is not None and bool(data.get("appId")) != self.is_app_process:
            return False
        if self.parent_process_id is not None and data.get("parentProcessId") != self.parent_process_id:
            return False
        if self.is_parent_process is not None and is_parent != self.is_parent_process:
            return False
        return self.run_user_id is None or data.get("runUserId") == self.run_user_id

    def _status_matches(self, data: dict[str, Any]) -> bool:
        assert self.statuses is not None
        if data.get("status") in self.statuses:
            return True
        errors = (data.get("results") or {}).get("errorCount")
        return DONE_WITH_ERRORS in self.statuses and data.get("status") == "DONE" and bool(errors)

    def _search_matches(self, data: dict[str, Any]) -> bool:
        assert self.search is not None
        needle = self.search.casefold()
        texts = (data.get("label"), data.get("summary"), (data.get("options") or {}).get("importSource"))
        return any(isinstance(text, str) and needle in text.casefold() for text in texts)
