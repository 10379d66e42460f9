"""Receiver of ChartHop webhooks, served by the Airflow API server at ``/charthop/webhook``.

ChartHop POSTs an event to the URL configured on the app. The receiver checks the shared secret,
responds at once and leaves the work to DAG runs:

- ``change.*`` events that name a job start ``charthop_live_update`` with conf ``job_id``,
  ``event_code`` and ``event_id``;
- ``process.create.<app name>`` (the app's "Sync Now" button) starts ``charthop_sync_now`` with conf
  ``process_id`` and ``event_id``;
- other events are logged and acknowledged.

The DAG run id is derived from the event id, so a redelivered event (even after an API server restart)
finds its run already in the metadata database and is ignored.

Settings, in the ``[charthop]`` section of the Airflow configuration (or ``AIRFLOW__CHARTHOP__<KEY>``):
``webhook_secret`` (required), ``app_name`` (default ``airflow``), ``webhook_max_body_bytes`` (default
1048576), ``webhook_signature_header`` (default ``X-Charthop-Signature``) and ``webhook_token_header``
(default ``X-Charthop-Token``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from typing import Any

from airflow.configuration import conf
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from charthop.operators.imports import IMPORT_SOURCE_MARKER

log = logging.getLogger(__name__)

LIVE_UPDATE_DAG_ID = "charthop_live_update"
SYNC_NOW_DAG_ID = "charthop_sync_now"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024

app = FastAPI(title="ChartHop webhook receiver", docs_url=None, redoc_url=None, openapi_url=None)


def _setting(key: str, default: str | None = None) -> str | None:
    return conf.get("charthop", key, fallback=default)


def signature_of(secret: str, body: bytes) -> str:
    """Return base64(HMAC-SHA256(secret, body)), the signature a sender puts in the signature header."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _authenticated(request: Request, body: bytes, secret: str) -> bool:
    token = request.headers.get(_setting("webhook_token_header", "X-Charthop-Token") or "X-Charthop-Token")
    if token:
        return hmac.compare_digest(token.encode(), secret.encode())
    signature = request.headers.get(
        _setting("webhook_signature_header", "X-Charthop-Signature") or "X-Charthop-Signature"
    )
    if not signature:
        return False
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    # Accept base64 (the form seen in ChartHop integrations) and hex, with or without a "sha256=" prefix.
    signature = signature.strip().removeprefix("sha256=")
    candidates = (base64.b64encode(digest).decode(), digest.hex())
    return any(hmac.compare_digest(signature.encode(), candidate.encode()) for candidate in candidates)


def normalise_event(event: dict[str, Any]) -> dict[str, Any]:
    """Return the event with lower-case keys (ChartHop sends camelCase or lower-case) and a lower-case
    ``code`` of two or three parts, built from ``entityType``, ``type`` and ``subtype`` when absent."""
    keys = {str(key).lower(): value for key, value in event.items()}
    code = str(keys.get("code") or "").strip().lower()
    if not code:
        parts = [keys.get("entitytype"), keys.get("type"), keys.get("subtype")]
        code = ".".join(str(part).lower() for part in parts if part)
    keys["code"] = code
    payload = keys.get("payload")
    keys["payload"] = {str(key).lower(): value for key, value in payload.items()} if isinstance(payload, dict) else {}
    return keys


def route(event: dict[str, Any], app_name: str) -> tuple[str, dict[str, Any]] | tuple[None, str]:
    """Return ``(dag_id, conf)`` for an event to act on, or ``(None, reason)`` for one to acknowledge only."""
    code = event["code"]
    import_source = str(event["payload"].get("importsource") or "")
    if IMPORT_SOURCE_MARKER in import_source:
        return None, "the change came from this package's own import"
    if code.startswith("change."):
        job_id = event.get("jobid") or event["payload"].get("jobid")
        if not job_id and str(event.get("entitytype", "")).lower() == "job":
            job_id = event.get("entityid")
        if not job_id:
            return None, f"event {code} names no job"
        return LIVE_UPDATE_DAG_ID, {"job_id": str(job_id), "event_code": code, "event_id": str(event["id"])}
    if code == f"process.create.{app_name.lower()}":
        process_id = event.get("entityid") or event.get("processid")
        if not process_id:
            return None, f"event {code} names no process"
        return SYNC_NOW_DAG_ID, {"process_id": str(process_id), "event_id": str(event["id"])}
    return None, f"event type {code or '(none)'} is not handled"


def run_id_for(event_id: str) -> str:
    """Return the DAG run id of an event: its id, limited to characters run ids allow."""
    return "charthop__" + re.sub(r"[^A-Za-z0-9_.-]+", "_", event_id)[:200]


def _trigger(dag_id: str, run_id: str, run_conf: dict[str, Any]) -> str:
    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.exceptions import DagRunAlreadyExists
    from airflow.utils.types import DagRunTriggeredByType

    # NOTE: trigger_dag is what Airflow's own CLI and TriggerDagRunOperator call; it is not a documented
    # public interface, so an Airflow upgrade may change it. The REST API would need a user token here.
    try:
        trigger_dag(dag_id, triggered_by=DagRunTriggeredByType.REST_API, run_id=run_id, conf=run_conf)
    except DagRunAlreadyExists:
        return "duplicate"
    return "accepted"


async def _read_body(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)


@app.post("/webhook")
async def receive(request: Request) -> JSONResponse:
    """Check, route and acknowledge one ChartHop event."""
    secret = _setting("webhook_secret")
    if not secret:
        log.error("ChartHop webhook rejected: [charthop] webhook_secret is not set")
        return JSONResponse({"detail": "webhook secret not configured: set [charthop] webhook_secret"}, 503)

    limit = int(_setting("webhook_max_body_bytes", str(DEFAULT_MAX_BODY_BYTES)) or DEFAULT_MAX_BODY_BYTES)
    body = await _read_body(request, limit)
    if body is None:
        log.warning("ChartHop webhook rejected: body larger than %d bytes", limit)
        return JSONResponse({"detail": f"body larger than {limit} bytes"}, 413)
    if not _authenticated(request, body, secret):
        log.warning("ChartHop webhook rejected: missing or wrong token or signature")
        return JSONResponse({"detail": "missing or invalid webhook token or signature"}, 401)

    try:
        raw = json.loads(body)
    except ValueError:
        return JSONResponse({"detail": "body is not JSON"}, 400)
    if not isinstance(raw, dict):
        return JSONResponse({"detail": "body is not a JSON object"}, 400)
    event = normalise_event(raw)
    if not event.get("id"):
        return JSONResponse({"detail": "event has no id"}, 400)

    dag_id, detail = route(event, _setting("app_name", "airflow") or "airflow")
    if dag_id is None:
        log.info("ChartHop event %s (%s) acknowledged without a run: %s", event["id"], event["code"], detail)
        return JSONResponse({"status": "ignored", "reason": detail}, 200)
    run_id = run_id_for(str(event["id"]))
    status = await run_in_threadpool(_trigger, dag_id, run_id, detail)
    log.info("ChartHop event %s (%s): %s run %s of %s", event["id"], event["code"], status, run_id, dag_id)
    return JSONResponse({"status": status, "dag_id": dag_id, "dag_run_id": run_id}, 202 if status == "accepted" else 200)
