"""importDataCsv: query parameters, the upload log, and the import process's lifecycle.

An upload becomes a PENDING process at once. Its driver (``ImportRun``) moves it to RUNNING after a
fifth of the configured duration, raises ``progress`` towards 1, and at the end checks the file,
applies the rows to the org and ends DONE or ERROR. Applied rows send change events to the webhook.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from charthop_emulator.csv_import import FileError, ImportOptions, ImportOutcome, Importer, read_csv
from charthop_emulator.edits import OrgEditor
from charthop_emulator.fields import iso
from charthop_emulator.processes import ProcessStore, iso_timestamp, new_id
from charthop_emulator.webhooks import make_event

if TYPE_CHECKING:
    from charthop_emulator.server import EmulatorState

logger = logging.getLogger("charthop_emulator")

PROCESS_TYPE = "CSV Data Org Engine Import"
IMPORT_MODES = ("normal", "reject_file", "bad_row", "never_finish")
DEFAULT_IMPORT_SECONDS = 2.0
MAX_IMPORT_SECONDS = 3600.0
# Share of the duration spent in PENDING before the process turns RUNNING.
PENDING_SHARE = 0.2
# NOTE: the spec calls `progress` a percent, but ChartHop's Sync Now guide tells apps to send 0 to 1;
# the emulator reports a 0..1 fraction. While RUNNING it stays below 1, and `never_finish` stops it at 0.5.
MAX_RUNNING_PROGRESS = 0.95
NEVER_FINISH_PROGRESS = 0.5
BAD_ROW_NUMBER = 2
UPLOAD_LOG_MAX = 1_000

# The spec marks these six booleans required. A missing one counts as false, because ChartHop's
# import guide calls them optional and suggests sending only some of them.
REQUIRED_BOOLEANS = ("skipErrors", "upsert", "createGroups", "disableSyncHireDate", "disableOverwritePerson",
                     "importDryRun")
OPTIONAL_BOOLEANS = ("useTitleManagerMatcher", "importAfterDryRun", "ignoreResumeParentProcess", "adjustCreateDate",
                     "createJobsWithMissingManager", "reassignDirectReportsOnMove", "adjustDeleteOnDepartDate")
STRING_PARAMS = ("scenarioId", "updateTypes", "notifyUserIds", "notifyAppName", "defaultChangeDate",
                 "parentProcessId", "importSource", "overwriteGroupTypes", "postProcessor")
IMPORT_PARAMS = frozenset((*REQUIRED_BOOLEANS, *OPTIONAL_BOOLEANS, *STRING_PARAMS))


class ImportRequestError(ValueError):
    """An invalid importDataCsv query parameter; the message names it."""


@dataclass(frozen=True, slots=True)
class ImportSettings:
    """Per-test knobs: how long an import takes (seconds) and how it fails."""

    seconds: float = DEFAULT_IMPORT_SECONDS
    mode: str = "normal"

    def describe(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "mode": self.mode}


def parse_settings(payload: Any, current: ImportSettings) -> ImportSettings:
    """Apply a JSON body ``{"seconds"?, "mode"?}`` to the current settings.

    :raises ValueError: naming the invalid field.
    """
    if not isinstance(payload, dict) or set(payload) - {"seconds", "mode"}:
        raise ValueError("invalid body: expected {\"seconds\": <0 to 3600>, \"mode\": <import mode>}")
    seconds = payload.get("seconds", current.seconds)
    mode = payload.get("mode", current.mode)
    return make_settings(seconds, mode)


def make_settings(seconds: Any, mode: Any) -> ImportSettings:
    """Validate the knobs; raise ValueError naming the invalid one."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= MAX_IMPORT_SECONDS:
        raise ValueError(f"invalid seconds {seconds!r}: expected a number from 0 to {MAX_IMPORT_SECONDS:g}")
    if mode not in IMPORT_MODES:
        raise ValueError(f"invalid mode {mode!r}: expected one of {', '.join(IMPORT_MODES)}")
    return ImportSettings(seconds=float(seconds), mode=mode)


@dataclass(frozen=True, slots=True)
class ImportParams:
    """The query of one importDataCsv call: recognised options, the resolved flags and ignored names."""

    options: dict[str, Any]
    flags: dict[str, bool]
    ignored: list[str]
    default_day: int | None


def parse_import_query(query: dict[str, list[str]]) -> ImportParams:
    """Read the importDataCsv query parameters by their exact names.

    Names of other case or spelling (``creategroups``, ``dryRun``, ``date``) are ignored, as the real
    service appears to ignore them, and returned in ``ignored``.

    :raises ImportRequestError: on a boolean other than true/false or an invalid defaultChangeDate.
    """
    options: dict[str, Any] = {}
    ignored = sorted(name for name in query if name not in IMPORT_PARAMS)
    for name in (*REQUIRED_BOOLEANS, *OPTIONAL_BOOLEANS):
        if name in query:
            raw = query[name][-1]
            # NOTE: how ChartHop reads a boolean other than true/false is unknown, and a Java service may
            # read it as false. The emulator rejects it so that a client bug shows.
            if raw.lower() not in ("true", "false"):
                raise ImportRequestError(f"invalid query parameter {name}: {raw!r}; expected true or false")
            options[name] = raw.lower() == "true"
    for name in STRING_PARAMS:
        if name in query:
            options[name] = query[name][-1]
    default_day = None
    if "defaultChangeDate" in options:
        try:
            default_day = date.fromisoformat(options["defaultChangeDate"]).toordinal()
        except ValueError:
            raise ImportRequestError(f"invalid query parameter defaultChangeDate: {options['defaultChangeDate']!r}; "
                                     "expected YYYY-MM-DD") from None
    flags = {name: bool(options.get(name, False)) for name in (*REQUIRED_BOOLEANS, *OPTIONAL_BOOLEANS)}
    return ImportParams(options=options, flags=flags, ignored=ignored, default_day=default_day)


class UploadLog:
    """Every importDataCsv call, for tests that count uploads or inspect what was sent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []

    def add(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._records.append(record)
            del self._records[:-UPLOAD_LOG_MAX]

    def set_outcome(self, process_id: str, outcome: dict[str, Any]) -> None:
        with self._lock:
            for record in self._records:
                if record["process_id"] == process_id:
                    record["outcome"] = outcome

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()


def describe_file(data: bytes) -> dict[str, Any]:
    """Describe the uploaded bytes: text (or base64 when not UTF-8), SHA-256, header and data row count."""
    described: dict[str, Any] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    try:
        described["text"] = data.decode("utf-8")
        described["base64"] = None
    except UnicodeDecodeError:
        described["text"] = None
        described["base64"] = base64.b64encode(data).decode("ascii")
    try:
        csv_file = read_csv(data)
    except FileError:
        described["header"] = None
        described["row_count"] = None
    else:
        described["header"] = csv_file.header
        described["row_count"] = len(csv_file.rows)
    return described


def start_import(state: EmulatorState, params: ImportParams, data: bytes, filename: str | None,
                 query: dict[str, list[str]]) -> dict[str, Any]:
    """Create the PENDING import process, record the upload and return the process."""
    settings = state.import_settings
    app = state.app_user()
    run = ImportRun(state, params, data, settings)
    label = f"CSV import {filename}" if filename else "CSV import"
    process_data: dict[str, Any] = {
        "orgId": state.org.id, "label": label, "type": PROCESS_TYPE, "runUserId": app.id, "createId": app.id,
        "options": dict(params.options), "appId": app.app_id,
    }
    if "parentProcessId" in params.options:
        process_data["parentProcessId"] = params.options["parentProcessId"]
    process = state.processes.create(process_data, driver=run)
    run.process_id = process["id"]
    state.processes.append_log(process["id"], "INFO", "upload received",
                               {"filename": filename, "size": len(data), "ignoredParameters": params.ignored})
    state.uploads.add({
        "process_id": process["id"], "at": process["createAt"], "query": copy.deepcopy(query),
        "options": dict(params.options), "flags": dict(params.flags), "ignored_params": list(params.ignored),
        "filename": filename, **describe_file(data), "settings": settings.describe(),
        "outcome": {"status": "PENDING", "message": None, "results": None},
    })
    logger.info("Import %s received: %d bytes, mode %s, %.1f s", process["id"], len(data), settings.mode,
                settings.seconds)
    # The response shows the process as created (PENDING); it advances only on later requests.
    return state.processes.peek(process["id"])


class ImportRun:
    """The lifecycle driver of one import process."""

    def __init__(self, state: EmulatorState, params: ImportParams, data: bytes, settings: ImportSettings) -> None:
        self.state = state
        self.params = params
        self.data = data
        self.settings = settings
        self.started = time.monotonic()
        self.process_id = ""

    def advance(self, store: ProcessStore, process_id: str, now: float) -> None:
        """Move the process along: PENDING, then RUNNING with rising progress, then the import itself."""
        seconds = self.settings.seconds
        elapsed = now - self.started
        status = store.get_status(process_id)
        if status == "PENDING" and elapsed >= PENDING_SHARE * seconds:
            store.set_fields(process_id, {"status": "RUNNING", "startAt": iso_timestamp(), "progress": 0.0,
                                          "message": "importing"}, "lifecycle")
            self._note_outcome(store, process_id)
        if self.settings.mode == "never_finish":
            share = min(1.0, elapsed / seconds) if seconds > 0 else 1.0
            store.set_fields(process_id, {"progress": round(NEVER_FINISH_PROGRESS * share, 3)}, "lifecycle")
            return
        if elapsed < seconds:
            running_share = (elapsed - PENDING_SHARE * seconds) / ((1 - PENDING_SHARE) * seconds)
            if running_share > 0:
                store.set_fields(process_id, {"progress": round(MAX_RUNNING_PROGRESS * running_share, 3)},
                                 "lifecycle")
            return
        try:
            self._finish(store, process_id)
        except Exception as error:  # noqa: BLE001 - a bug must end the process, not break every read
            logger.exception("Import %s failed inside the emulator", process_id)
            self._end(store, process_id, "ERROR", f"internal error in the emulator: {type(error).__name__}", None)

    def _finish(self, store: ProcessStore, process_id: str) -> None:
        state, flags = self.state, self.params.flags
        if self.settings.mode == "reject_file":
            store.append_log(process_id, "ERROR", "file rejected", {"reason": "emulator import mode reject_file"})
            self._end(store, process_id, "ERROR", "invalid file: rejected (emulator import mode reject_file)", None)
            return
        try:
            csv_file = read_csv(self.data)
        except FileError as error:
            store.append_log(process_id, "ERROR", f"invalid file: {error}", {})
            self._end(store, process_id, "ERROR", f"invalid file: {error}", None)
            return

        options = ImportOptions(
            upsert=flags["upsert"], create_groups=flags["createGroups"], skip_errors=flags["skipErrors"],
            dry_run=flags["importDryRun"], disable_sync_hire_date=flags["disableSyncHireDate"],
            default_day=self.params.default_day,
        )
        failing_row = BAD_ROW_NUMBER if self.settings.mode == "bad_row" else None
        with state.org_lock:
            importer = Importer(state.org, csv_file, options, failing_row)
            checked = importer.check()
            for error in checked.errors:
                store.append_log(process_id, "ERROR", error.text(), {"row": error.row, "column": error.column})
            if checked.errors and not options.skip_errors:
                first = checked.errors[0]
                message = (f"import rejected, nothing applied: {first.text()} "
                           f"({checked.error_rows} rows with errors; import with skipErrors=true to skip them)")
                self._end(store, process_id, "ERROR", message, checked)
                return
            dry_run_only = options.dry_run and not (flags["importAfterDryRun"] and not checked.errors)
            if dry_run_only:
                self._end(store, process_id, "DONE", f"dry run, nothing applied: {_summary(checked)}", checked)
                return
            bad_rows = {error.row for error in checked.errors}
            with OrgEditor(state.org, state.engine, state.org_lock) as editor:
                applied = importer.apply(editor, bad_rows)
            if editor.changed:
                state.org_changed = True
        applied.errors = checked.errors + applied.errors
        self._end(store, process_id, "DONE", f"imported: {_summary(applied)}", applied)
        self._send_events(process_id, applied)

    def _end(self, store: ProcessStore, process_id: str, status: str, message: str,
             outcome: ImportOutcome | None) -> None:
        changes: dict[str, Any] = {"status": status, "message": message, "endAt": iso_timestamp()}
        if status == "DONE":
            changes["progress"] = 1.0
        if outcome is not None:
            changes["results"] = outcome.results()
            changes["summary"] = _summary(outcome)
        if not store.get_field(process_id, "startAt"):
            changes["startAt"] = changes["endAt"]
        store.append_log(process_id, "ERROR" if status == "ERROR" else "INFO", message,
                         outcome.results() if outcome is not None else {})
        store.set_fields(process_id, changes, "lifecycle")
        self._note_outcome(store, process_id)
        logger.info("Import %s ended %s: %s", process_id, status, message)

    def _note_outcome(self, store: ProcessStore, process_id: str) -> None:
        self.state.uploads.set_outcome(process_id, {
            "status": store.get_status(process_id), "message": store.get_field(process_id, "message"),
            "results": store.get_field(process_id, "results"),
        })

    def _send_events(self, process_id: str, outcome: ImportOutcome) -> None:
        state = self.state
        user_id = state.app_user().id
        source = self.params.options.get("importSource")
        for change in outcome.applied:
            event = make_event(
                org_id=state.org.id, user_id=user_id, event_type="CREATE", entity_type="CHANGE", entity_id=new_id(),
                subtype=change.subtype, jobId=change.job_id, personId=change.person_id, processId=process_id,
                date=iso(change.day), fields=change.fields,
                payload={"importSource": source, "processId": process_id, "date": iso(change.day),
                         "fields": change.fields},
            )
            state.webhooks.emit(event)


def _summary(outcome: ImportOutcome) -> str:
    return (f"{outcome.row_count} rows, {outcome.created} created, {outcome.updated} updated, "
            f"{outcome.unchanged} unchanged, {outcome.error_rows} with errors, {outcome.skipped} skipped")
