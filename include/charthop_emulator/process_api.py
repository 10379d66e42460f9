"""Handlers of the write-side ChartHop operations: importDataCsv and the process endpoints."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from charthop_emulator.errors import ApiError
from charthop_emulator.imports import ImportRequestError, parse_import_query, start_import
from charthop_emulator.multipart import MultipartError, parse_form
from charthop_emulator.processes import DONE_WITH_ERRORS, STATUSES, ProcessError, ProcessFilter, parse_timestamp
from charthop_emulator.query import Listing

if TYPE_CHECKING:
    from charthop_emulator.server import EmulatorState, Route

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RawResponse:
    """A 200 response whose body is not JSON, such as the newline-delimited JSON process log."""

    body: bytes
    content_type: str


def _single(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _optional_bool(query: dict[str, list[str]], name: str) -> bool | None:
    raw = _single(query, name)
    if raw is None or raw == "":
        return None
    if raw.lower() not in ("true", "false"):
        raise ApiError(400, f"invalid query parameter {name}: {raw!r}; expected true or false")
    return raw.lower() == "true"


def _process_or_404(state: EmulatorState, process_id: str | None) -> dict[str, Any]:
    process = state.processes.get(process_id or "")
    if process is None:
        raise ApiError(404, f"process not found: {process_id}")
    return process


def import_data_csv(state: EmulatorState, query: dict[str, list[str]], body: bytes, content_type: str,
                    record: dict[str, Any]) -> dict[str, Any]:
    """Accept a CSV upload and return its PENDING import process."""
    try:
        params = parse_import_query(query)
    except ImportRequestError as error:
        raise ApiError(400, str(error)) from None
    record["ignored_params"] = params.ignored
    if len(body) > MAX_UPLOAD_BYTES:
        # NOTE: ChartHop's upload size limit is undocumented; the emulator rejects bodies over 50 MiB.
        raise ApiError(413, f"upload too large: {len(body)} bytes; the emulator accepts up to {MAX_UPLOAD_BYTES}")
    try:
        parts = parse_form(content_type, body)
    except MultipartError as error:
        raise ApiError(400, f"invalid multipart body: {error}") from None
    file_part = parts.get("file")
    if file_part is None:
        raise ApiError(400, "missing multipart part \"file\" with the CSV data")
    query_copy = {name: list(values) for name, values in query.items()}
    process = start_import(state, params, file_part.data, file_part.filename, query_copy)
    record["process_id"] = process["id"]
    return process


def get_process(state: EmulatorState, route: Route, query: dict[str, list[str]]) -> dict[str, Any]:
    """Return a process; ``state`` only with showState=true."""
    process = _process_or_404(state, route.entity_id)
    # NOTE: the spec's showState flag suggests `state` is left out unless asked for; the emulator does that.
    if not _optional_bool(query, "showState"):
        process.pop("state", None)
    return process


def update_process(state: EmulatorState, route: Route, body: bytes) -> dict[str, Any]:
    """Merge an UpdateProcess body into a process and return it.

    NOTE: the spec declares no success response for updateProcess; the emulator returns 200 with the process.
    """
    try:
        patch = json.loads(body.decode("utf-8") or "null")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, f"invalid JSON body: {error}") from None
    try:
        process = state.processes.update(route.entity_id or "", patch, state.app_user().id)
    except ProcessError as error:
        raise ApiError(400, str(error)) from None
    if process is None:
        raise ApiError(404, f"process not found: {route.entity_id}")
    return process


def process_log(state: EmulatorState, route: Route) -> RawResponse:
    """Return the process's log entries as newline-delimited JSON."""
    process = _process_or_404(state, route.entity_id)
    lines = [json.dumps(entry, ensure_ascii=False) for entry in process.get("logDataList") or []]
    return RawResponse(body="".join(f"{line}\n" for line in lines).encode("utf-8"),
                       content_type="application/x-ndjson; charset=utf-8")


def _comma_list(query: dict[str, list[str]], name: str) -> list[str] | None:
    raw = _single(query, name)
    if raw is None or raw.strip() == "":
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]


def _timestamp(query: dict[str, list[str]], name: str) -> float | None:
    raw = _single(query, name)
    if raw is None or raw == "":
        return None
    try:
        return parse_timestamp(raw)
    except ValueError:
        raise ApiError(400, f"invalid query parameter {name}: {raw!r}; expected an ISO 8601 timestamp such as "
                            "2026-01-24T13:57:52Z") from None


def parse_process_filter(query: dict[str, list[str]]) -> ProcessFilter:
    """Read the findProcesses filters.

    :raises ApiError: 400 on an unknown status, an invalid timestamp or an invalid boolean.
    """
    statuses = _comma_list(query, "statuses")
    if statuses is not None:
        allowed = (*STATUSES, DONE_WITH_ERRORS)
        for status in statuses:
            if status.upper() not in allowed:
                raise ApiError(400, f"invalid query parameter statuses: {status!r}; expected {', '.join(allowed)}")
    type_value = (_single(query, "type") or "").strip().casefold() or None
    process_types = _comma_list(query, "processTypes")
    # NOTE: the spec lists 'auto' and 'manual' for `type` without defining them. The emulator counts Sync Now
    # processes as manual and every other process as auto, and compares any other value with Process.type.
    return ProcessFilter(
        statuses=None if statuses is None else frozenset(status.upper() for status in statuses),
        trigger=type_value if type_value in ("auto", "manual") else None,
        exact_type=type_value if type_value not in (None, "auto", "manual") else None,
        process_types=None if process_types is None else frozenset(item.casefold() for item in process_types),
        created_from=_timestamp(query, "createAtFrom"), created_until=_timestamp(query, "createAtUntil"),
        search=_single(query, "searchValue") or None, app_id=_single(query, "appId") or None,
        is_app_process=_optional_bool(query, "isAppProcess"),
        parent_process_id=_single(query, "parentProcessId") or None,
        is_parent_process=_optional_bool(query, "isParentProcess"), run_user_id=_single(query, "runUserId") or None,
    )


def find_processes(state: EmulatorState, query: dict[str, list[str]],
                   page: Callable[[Listing, Callable[[Any], dict[str, Any]]], dict[str, Any]]) -> dict[str, Any]:
    """Return one page of the processes that match the filters, in ascending id order."""
    processes = state.processes.find(parse_process_filter(query))
    for process in processes:
        process.pop("state", None)
    # NOTE: ChartHop's order of findProcesses results is undocumented; the emulator pages in ascending id
    # order (oldest first), like its other listings.
    listing = Listing(ids=[process["id"] for process in processes], items=processes)
    return page(listing, lambda process: process)
