"""ChartHop process statuses and the rules that decide when a process is finished and whether it succeeded.

The sensor, its trigger and the import operator's own wait all use these functions, so poke,
reschedule and deferrable waits reach the same verdict on the same process.
"""

from __future__ import annotations

import logging
from enum import Enum
from typing import Any

from charthop.exceptions import (
    ChartHopApiError,
    ChartHopProcessFailedError,
    ChartHopProcessRowErrorsError,
    ChartHopProcessTimeoutError,
)

ROW_ERROR_POLICIES = ("fail", "warn")
MAX_ROWS_IN_MESSAGE = 20
LOG_TAIL_LINES = 5


class ChartHopProcessStatus(str, Enum):
    """Status of a ChartHop process, as getProcess returns it."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    DONE = "DONE"
    ERROR = "ERROR"
    # Not in the Process schema's enum, but findProcesses accepts it as a filter value.
    DONE_WITH_ERRORS = "DONE_WITH_ERRORS"

    @classmethod
    def in_progress_states(cls) -> frozenset[ChartHopProcessStatus]:
        return frozenset({cls.PENDING, cls.RUNNING})

    @classmethod
    def success_states(cls) -> frozenset[ChartHopProcessStatus]:
        return frozenset({cls.DONE, cls.DONE_WITH_ERRORS})

    @classmethod
    def terminal_states(cls) -> frozenset[ChartHopProcessStatus]:
        return frozenset({cls.DONE, cls.DONE_WITH_ERRORS, cls.ERROR})


def process_status(process: dict[str, Any]) -> ChartHopProcessStatus | None:
    """Return the process's status, or ``None`` when it is missing or not one ChartHop documents."""
    try:
        return ChartHopProcessStatus(str(process.get("status", "")).upper())
    except ValueError:
        return None


def is_finished(process: dict[str, Any]) -> bool:
    """Return whether waiting should stop: the status is terminal, or unknown (which then fails closed)."""
    return process_status(process) not in ChartHopProcessStatus.in_progress_states()


def progress_percent(process: dict[str, Any]) -> float | None:
    """Return progress in percent. ChartHop's spec calls it a percent and its guide a 0–1 fraction, so a
    value of at most 1 is read as a fraction."""
    value = process.get("progress")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    return float(value) * 100 if value <= 1 else float(value)


def describe(process: dict[str, Any]) -> str:
    """Return ``status, progress %, message`` for log lines."""
    percent = progress_percent(process)
    progress = "unknown progress" if percent is None else f"{percent:.0f} %"
    return f"{process.get('status')}, {progress}, message: {process.get('message') or '-'}"


def row_errors(process: dict[str, Any]) -> list[str]:
    """Return one line per row error in the process log (``logDataList`` entries of level ERROR)."""
    lines = []
    for entry in process.get("logDataList") or []:
        if str(entry.get("level", "")).upper() != "ERROR":
            continue
        data = entry.get("data") or {}
        where = ", ".join(f"{key} {data[key]}" for key in ("row", "column") if key in data)
        lines.append(f"{where}: {entry.get('message') or data}" if where else str(entry.get("message") or data))
    return lines


def error_count(process: dict[str, Any]) -> int:
    """Return the number of rejected rows: ``results.errorCount`` when present, else the logged row errors."""
    results = process.get("results") or {}
    count = results.get("errorCount")
    if isinstance(count, int) and not isinstance(count, bool):
        return count
    return len(row_errors(process))


def check_finished(process: dict[str, Any], *, row_error_policy: str, log: logging.Logger) -> None:
    """Raise unless a finished process succeeded; apply ``row_error_policy`` to a success with row errors.

    :param process: the Process as getProcess returned it.
    :param row_error_policy: ``fail`` raises when rows were rejected; ``warn`` logs them and succeeds.
    :param log: logger for the row-error warning.
    :raises ChartHopProcessFailedError: for ERROR and for any status this package does not know.
    :raises ChartHopProcessRowErrorsError: for rejected rows under the ``fail`` policy.
    """
    status = process_status(process)
    process_id = process.get("id")
    if status is None:
        # Fail closed: an unknown status may be a failure that a newer ChartHop reports differently.
        raise ChartHopProcessFailedError(
            f"ChartHop process {process_id} has status {process.get('status')!r}, which this package does not "
            "know, so the task fails rather than assume success. Check the process in ChartHop."
        )
    if status == ChartHopProcessStatus.ERROR:
        tail = [str(entry.get("message")) for entry in (process.get("logDataList") or [])][-LOG_TAIL_LINES:]
        raise ChartHopProcessFailedError(
            f"ChartHop process {process_id} ended in ERROR: {process.get('message') or 'no message'}. "
            f"Last log lines: {' | '.join(tail) or 'none'}. Fix the input and run the task in a new DAG run."
        )
    if status in ChartHopProcessStatus.in_progress_states():
        raise ChartHopProcessFailedError(f"ChartHop process {process_id} is still {status.value}.")
    errors = error_count(process)
    if not errors and status != ChartHopProcessStatus.DONE_WITH_ERRORS:
        return
    lines = row_errors(process)
    summary = f"ChartHop process {process_id} finished but rejected {errors} rows"
    listed = "; ".join(lines[:MAX_ROWS_IN_MESSAGE]) or "no row details in the process log"
    if row_error_policy == "fail":
        raise ChartHopProcessRowErrorsError(
            f"{summary}: {listed}. Fix those rows in the source, or set row_error_policy='warn' to accept "
            "partial imports."
        )
    log.warning("%s: %s", summary, listed)


def check_trigger_event(
    event: dict[str, Any], *, row_error_policy: str, timeout: float, log: logging.Logger
) -> dict[str, Any]:
    """Turn a ``ChartHopProcessTrigger`` event into the finished process, or raise what went wrong.

    :param event: the event payload.
    :param row_error_policy: passed to ``check_finished``.
    :param timeout: the wait's length in seconds, for the timeout message.
    :param log: logger for the row-error warning.
    """
    process_id = event.get("process_id")
    if event.get("status") == "timeout":
        last = event.get("process")
        seen = describe(last) if last else "no answer from getProcess"
        raise ChartHopProcessTimeoutError(
            f"ChartHop process {process_id} did not finish within {timeout:.0f} s; last seen: {seen}. "
            "A retry of this task resumes waiting on the same process; raise the timeout for large imports."
        )
    if event.get("status") == "error":
        raise ChartHopApiError(str(event.get("message")))
    if event.get("status") != "finished" or not isinstance(event.get("process"), dict):
        raise ChartHopProcessFailedError(f"Unexpected event from the ChartHop process trigger: {event!r}")
    check_finished(event["process"], row_error_policy=row_error_policy, log=log)
    return event["process"]
