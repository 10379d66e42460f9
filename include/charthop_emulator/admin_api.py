"""Admin endpoints for imports, processes, webhooks, Sync Now and job edits (under ``/_emulator/``)."""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING, Any

from charthop_emulator.csv_import import parse_amount
from charthop_emulator.edits import EditError, OrgEditor
from charthop_emulator.errors import ApiError
from charthop_emulator.fields import iso
from charthop_emulator.imports import parse_settings
from charthop_emulator.processes import ProcessError, ProcessFilter, new_id, validate_update
from charthop_emulator.webhooks import WebhookConfigError, make_event, parse_config

if TYPE_CHECKING:
    from charthop_emulator.server import EmulatorState

logger = logging.getLogger("charthop_emulator")

SYNC_PROCESS_TYPE = "SYNC"
SYNC_LABEL = "Sync Now"
_EDIT_KEYS = frozenset({"title", "department", "baseComp", "depart", "date"})
_CREATE_KEYS = frozenset({"label", "type", "status", "appId", "options", "message", "progress", "summary",
                          "parentProcessId", "state", "results", "trigger"})


def answer_admin(state: EmulatorState, method: str, path: str, body: Any) -> tuple[int, Any] | None:
    """Handle one of this module's admin calls; return None when the path is not one of them.

    ``body`` is a callable that returns the parsed JSON body (so that GET requests never parse one).
    """
    if path == "/_emulator/imports":
        if method == "GET":
            state.processes.advance_all()
            return 200, state.uploads.list()
        if method == "DELETE":
            state.uploads.clear()
            return 200, []
    if path == "/_emulator/imports/settings":
        if method == "GET":
            return 200, state.import_settings.describe()
        if method == "POST":
            try:
                state.import_settings = parse_settings(body(), state.import_settings)
            except ValueError as error:
                raise ApiError(400, str(error)) from None
            logger.info("Import settings: %.1f s, mode %s", state.import_settings.seconds, state.import_settings.mode)
            return 200, state.import_settings.describe()
    if path == "/_emulator/processes":
        if method == "POST":
            return 201, _create_process(state, body())
        if method == "GET":
            return 200, state.processes.find(ProcessFilter())
    if path.startswith("/_emulator/processes/") and path.endswith("/history") and method == "GET":
        process_id = path[len("/_emulator/processes/"):-len("/history")]
        history = state.processes.history(process_id)
        if history is None:
            raise ApiError(404, f"process not found: {process_id}")
        return 200, history
    if path == "/_emulator/webhooks":
        if method == "GET":
            return 200, state.webhooks.describe()
        if method == "POST":
            try:
                state.webhooks.configure(parse_config(body()))
            except WebhookConfigError as error:
                raise ApiError(400, str(error)) from None
            return 200, state.webhooks.describe()
        if method == "DELETE":
            state.webhooks.configure(None)
            return 200, state.webhooks.describe()
    if path == "/_emulator/webhooks/deliveries":
        if method == "GET":
            return 200, state.webhooks.deliveries()
        if method == "DELETE":
            state.webhooks.clear_deliveries()
            return 200, []
    if path == "/_emulator/sync-now" and method == "POST":
        return 201, _sync_now(state, body())
    if path.startswith("/_emulator/jobs/") and path.endswith("/edit") and method == "POST":
        return 200, _edit_job(state, path[len("/_emulator/jobs/"):-len("/edit")], body())
    return None


def _create_process(state: EmulatorState, payload: Any) -> dict[str, Any]:
    """Create a process for a test, e.g. a sync process in PENDING; it changes only through updateProcess."""
    if not isinstance(payload, dict) or set(payload) - _CREATE_KEYS:
        raise ApiError(400, f"invalid body: expected a JSON object with fields from {', '.join(sorted(_CREATE_KEYS))}")
    trigger = payload.get("trigger", "auto")
    if trigger not in ("auto", "manual"):
        raise ApiError(400, "invalid trigger: expected \"auto\" or \"manual\"")
    fields = {key: value for key, value in payload.items() if key not in ("label", "type", "trigger")}
    try:
        validated = validate_update(fields)
    except ProcessError as error:
        raise ApiError(400, str(error)) from None
    if "parentProcessId" in fields:
        if not isinstance(fields["parentProcessId"], str):
            raise ApiError(400, "invalid parentProcessId: expected a string")
        validated["parentProcessId"] = fields["parentProcessId"]
    label = payload.get("label", "Emulator process")
    process_type = payload.get("type", SYNC_PROCESS_TYPE)
    if not isinstance(label, str) or not isinstance(process_type, str):
        raise ApiError(400, "invalid label or type: expected strings")
    app = state.app_user()
    data = {"orgId": state.org.id, "label": label, "type": process_type, "runUserId": app.id, "createId": app.id,
            "appId": app.app_id, **validated}
    if data.get("status", "PENDING") != "PENDING":
        data.setdefault("startAt", data.get("createAt"))
    return state.processes.create(data, trigger=trigger)


def _sync_now(state: EmulatorState, payload: Any) -> dict[str, Any]:
    """Do what the Sync Now button does: create a PENDING sync process and send process.create.<app name>."""
    if payload is not None and not isinstance(payload, dict):
        raise ApiError(400, "invalid body: expected a JSON object or no body")
    app = state.app_user()
    owner = state.owner_user()
    app_name = state.webhooks.app_name
    # NOTE: ChartHop documents neither the type nor the label of a Sync Now process; the emulator uses SYNC and "Sync Now".
    process = state.processes.create(
        {"orgId": state.org.id, "label": SYNC_LABEL, "type": SYNC_PROCESS_TYPE, "runUserId": app.id,
         "createId": owner.id, "appId": app.app_id, "options": {"appName": app_name}},
        trigger="manual",
    )
    event = make_event(
        org_id=state.org.id, user_id=owner.id, event_type="CREATE", entity_type="PROCESS", entity_id=process["id"],
        subtype=app_name, processId=process["id"],
        payload={"processId": process["id"], "label": SYNC_LABEL, "appId": app.app_id},
    )
    state.webhooks.emit(event)
    logger.info("Sync Now: process %s created, event %s sent", process["id"], event["code"])
    return process


def _edit_job(state: EmulatorState, job_id: str, payload: Any) -> dict[str, Any]:
    """Change a job as a person would in ChartHop's UI, then send the change event."""
    if not isinstance(payload, dict) or set(payload) - _EDIT_KEYS:
        raise ApiError(400, f"invalid body: expected a JSON object with fields from {', '.join(sorted(_EDIT_KEYS))}")
    org = state.org
    day = org.today
    if payload.get("date") is not None:
        try:
            day = date.fromisoformat(str(payload["date"])).toordinal()
        except ValueError:
            raise ApiError(400, f"invalid date {payload['date']!r}: expected YYYY-MM-DD") from None
    job = org.jobs_by_id.get(job_id)
    if job is None or not job.alive_on(day):
        raise ApiError(404, f"job not found: {job_id} on {iso(day)}")
    occupancy = job.occupancy_on(day)
    title, department_name, base, depart = (payload.get("title"), payload.get("department"),
                                            payload.get("baseComp"), payload.get("depart", False))
    if title is not None and (not isinstance(title, str) or not title.strip()):
        raise ApiError(400, "invalid title: expected a non-empty string")
    if not isinstance(depart, bool):
        raise ApiError(400, "invalid depart: expected true or false")
    amount = None
    if base is not None:
        amount = float(base) if isinstance(base, (int, float)) and not isinstance(base, bool) else (
            parse_amount(base) if isinstance(base, str) else None)
        if amount is None:
            raise ApiError(400, f"invalid baseComp {base!r}: expected a number such as 100000")
    if (amount is not None or depart) and occupancy is None:
        raise ApiError(400, f"job {job_id} is open on {iso(day)}: baseComp and depart need an occupant")

    fields: list[str] = []
    with state.org_lock, OrgEditor(org, state.engine, state.org_lock) as editor:
        department = None
        if department_name is not None:
            department = editor.find_department(str(department_name))
            if department is None:
                raise ApiError(400, f"unknown department {department_name!r}")
        try:
            if title is not None and editor.set_title(job, title.strip(), day):
                fields.append("title")
            if department is not None and editor.set_department(job, department, day):
                fields.append("department")
            if amount is not None and occupancy is not None and editor.set_pay(occupancy.person, day, amount, None):
                fields.append("baseComp")
            if depart and occupancy is not None and editor.depart(occupancy.person, day):
                fields.append("endDate")
        except EditError as error:
            raise ApiError(400, str(error)) from None
    if editor.changed:
        state.org_changed = True
    event = None
    if fields:
        event = make_event(
            org_id=org.id, user_id=state.owner_user().id, event_type="CREATE", entity_type="CHANGE",
            entity_id=new_id(), subtype="depart" if "endDate" in fields else "update", jobId=job.id,
            personId=occupancy.person.id if occupancy else None, date=iso(day), fields=fields,
            payload={"date": iso(day), "fields": fields},
        )
        state.webhooks.emit(event)
    return {"jobId": job.id, "date": iso(day), "fields": fields, "event": event}
