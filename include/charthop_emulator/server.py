"""HTTP server of the emulator: routing, authentication, the ChartHop read endpoints and the admin API.

Implemented ChartHop operations: findJobs, countJobs, getJob, findPersons, countPersons, findUsers,
and (in ``process_api``) importDataCsv, getProcess, updateProcess, findProcesses, getProcessLogFile.
Admin endpoints live under ``/_emulator/`` and need no token. Responses carry a Content-Length, so
keep-alive connections (HTTP/1.1) work.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from charthop_emulator import process_api
from charthop_emulator.admin_api import answer_admin
from charthop_emulator.carrot import CarrotError
from charthop_emulator.errors import ApiError
from charthop_emulator.faults import RESPONSE_KINDS, Fault, FaultError, FaultSet, parse_faults
from charthop_emulator.fields import (
    DEFAULT_JOB_FIELDS, DEFAULT_PERSON_FIELDS, JOB_FIELDS, PERSON_FIELDS, JobView, PersonView,
    parse_field_list, render_row,
)
from charthop_emulator.imports import IMPORT_PARAMS, ImportSettings, UploadLog
from charthop_emulator.org import Org, User, generate_org
from charthop_emulator.processes import ProcessStore
from charthop_emulator.query import Listing, QueryEngine
from charthop_emulator.webhooks import WebhookDispatcher

logger = logging.getLogger("charthop_emulator")

DEFAULT_TOKEN = "emulator-token"
PERMISSIONS = ("job.read", "person.read", "user.read", "comp.read", "primary.editor")
PRIMARY_EDITOR = "primary.editor"
# NOTE: ChartHop documents no default or maximum page size; the emulator uses 100 and silently caps at 10000.
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
# NOTE: the spec lists json, json-extended and json-readable; how the last two differ from json is
# unknown, so the emulator renders them like json. `minimal` (flat dotted keys) is used by ChartHop's own sync tool.
FORMATS = ("json", "json-extended", "json-readable", "minimal")
REQUEST_LOG_MAX = 100_000
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# Query parameters that ChartHop's spec declares on the read operations but the emulator does not model.
# They are rejected so that a client never mistakes an ignored option for an applied one.
UNSUPPORTED_PARAMS = frozenset({
    "scenarioId", "compReviewId", "approvalChainId", "startDate", "endDate", "splitColumns",
    "useScenarioChanges", "returnAccess", "inviteStatus", "roleId",
})


@dataclass(frozen=True, slots=True)
class Operation:
    """A ChartHop operation: method, the permission it needs (None: any valid token) and its query parameters."""

    name: str
    permission: str | None
    params: frozenset[str]
    paged: bool = False
    method: str = "GET"
    unsupported: frozenset[str] = UNSUPPORTED_PARAMS


_LIST_PARAMS = frozenset({"date", "q", "ids", "from", "limit", "sort", "fields", "fieldsList", "format"})
OPERATIONS: dict[str, Operation] = {
    "findJobs": Operation("findJobs", "job.read", _LIST_PARAMS, paged=True),
    "countJobs": Operation("countJobs", "job.read", frozenset({"date", "q"})),
    "getJob": Operation("getJob", "job.read", frozenset({"date", "fields", "format"})),
    "findPersons": Operation("findPersons", "person.read", _LIST_PARAMS | {"includeAll"}, paged=True),
    "countPersons": Operation("countPersons", "person.read", frozenset({"date", "q", "includeAll"})),
    "findUsers": Operation("findUsers", "user.read", frozenset({"orgId", "q", "ids", "from", "limit"}), paged=True),
    "importDataCsv": Operation("importDataCsv", PRIMARY_EDITOR, IMPORT_PARAMS, method="POST",
                               unsupported=frozenset()),
    # NOTE: which permission reading processes needs is undocumented; the emulator accepts any valid token.
    "getProcess": Operation("getProcess", None, frozenset({"showState"}), unsupported=frozenset()),
    "updateProcess": Operation("updateProcess", PRIMARY_EDITOR, frozenset(), method="PATCH",
                               unsupported=frozenset()),
    "findProcesses": Operation(
        "findProcesses", None,
        frozenset({"isAppProcess", "appId", "parentProcessId", "type", "createAtFrom", "createAtUntil", "statuses",
                   "isParentProcess", "processTypes", "searchValue", "from", "limit", "runUserId"}),
        paged=True, unsupported=frozenset({"syncDirections", "syncCauses"}),
    ),
    "getProcessLogFile": Operation("getProcessLogFile", None, frozenset(), unsupported=frozenset()),
}
PRIMARY_EDITOR_DENIED = "permission denied: the app needs the Primary Editor permission"


@dataclass(slots=True)
class Route:
    """A request path matched to an operation."""

    operation: Operation
    org_ref: str | None = None
    entity_id: str | None = None


def _routes_for_path(raw_path: str) -> list[Route]:
    """Return the routes of every operation on this path, whatever their method.

    The path is split on "/" before each segment is percent-decoded, so an encoded slash stays
    inside its segment (``acme%2F..%2Fother`` is one org reference, not a path traversal).
    """
    parts = [unquote(part) for part in raw_path.split("/") if part]
    if parts == ["v1", "user"]:
        return [Route(OPERATIONS["findUsers"])]
    if len(parts) < 4 or parts[1] != "org":
        return []
    version, org_ref, resource, rest = parts[0], parts[2], parts[3], parts[4:]
    names: list[str] = []
    entity_id = None
    if version == "v2" and resource == "job":
        if not rest:
            names = ["findJobs"]
        elif rest == ["count"]:
            names = ["countJobs"]
        elif len(rest) == 1:
            names, entity_id = ["getJob"], rest[0]
    elif version == "v2" and resource == "person":
        if not rest:
            names = ["findPersons"]
        elif rest == ["count"]:
            names = ["countPersons"]
    elif version == "v1" and resource == "import" and rest == ["csv", "data"]:
        names = ["importDataCsv"]
    elif version == "v1" and resource == "process":
        if not rest:
            names = ["findProcesses"]
        elif len(rest) == 1:
            names, entity_id = ["getProcess", "updateProcess"], rest[0]
        elif len(rest) == 2 and rest[1] == "log":
            names, entity_id = ["getProcessLogFile"], rest[0]
    return [Route(OPERATIONS[name], org_ref, entity_id) for name in names]


def match_route(raw_path: str, method: str = "GET") -> Route | None:
    """Map a request path and method to an operation, or None when no operation has both."""
    return next((route for route in _routes_for_path(raw_path) if route.operation.method == method), None)


def allowed_methods(raw_path: str) -> list[str]:
    """Return the methods that some operation accepts on this path (empty for an unknown path)."""
    return sorted({route.operation.method for route in _routes_for_path(raw_path)})


@dataclass
class EmulatorState:
    """Everything the request handlers share: the org, tokens, faults, logs, processes, webhooks and caches.

    ``regenerate`` rebuilds the org as generated; reset() uses it when an import or edit changed the org.
    """

    org: Org
    token: str = DEFAULT_TOKEN
    faults: FaultSet = field(default_factory=FaultSet)
    extra_tokens: dict[str, frozenset[str]] = field(default_factory=dict)
    request_log: list[dict[str, Any]] = field(default_factory=list)
    last_pages: OrderedDict[Any, list[dict[str, Any]]] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    import_settings: ImportSettings = field(default_factory=ImportSettings)
    webhooks: WebhookDispatcher = field(default_factory=WebhookDispatcher)
    regenerate: Callable[[], Org] | None = None
    processes: ProcessStore = field(default_factory=ProcessStore)
    uploads: UploadLog = field(default_factory=UploadLog)
    org_lock: threading.RLock = field(default_factory=threading.RLock)
    org_changed: bool = False
    engine: QueryEngine = field(init=False)
    startup_import_settings: ImportSettings = field(init=False)

    def __post_init__(self) -> None:
        self.engine = QueryEngine(self.org)
        self.startup_import_settings = self.import_settings
        self.webhooks.app_id = self.app_user().app_id

    def app_user(self) -> User:
        """Return the APP user behind the API tokens; processes and imports run as this user."""
        return next(user for user in self.org.users if user.type == "APP")

    def owner_user(self) -> User:
        """Return the person who presses Sync Now and edits jobs in the UI: the OWNER user, else the app user."""
        return next((user for user in self.org.users if user.access == "OWNER"), self.app_user())

    def permissions_for(self, token: str) -> frozenset[str] | None:
        """Return the permissions of a token, or None for an unknown token."""
        if token == self.token:
            return frozenset(PERMISSIONS)
        with self.lock:
            return self.extra_tokens.get(token)

    def log_request(self, record: dict[str, Any]) -> None:
        with self.lock:
            self.request_log.append(record)
            if len(self.request_log) > REQUEST_LOG_MAX:
                del self.request_log[: len(self.request_log) - REQUEST_LOG_MAX]

    def remember_page(self, key: Any, rows: list[dict[str, Any]]) -> None:
        with self.lock:
            self.last_pages[key] = rows
            self.last_pages.move_to_end(key)
            while len(self.last_pages) > 64:
                self.last_pages.popitem(last=False)

    def previous_page(self, key: Any) -> list[dict[str, Any]] | None:
        with self.lock:
            return self.last_pages.get(key)

    def reset(self) -> None:
        """Clear faults, logs, extra tokens, processes and remembered pages; restore the startup settings.

        An org changed by an import or a job edit is regenerated as it was first generated.
        """
        self.faults.clear()
        with self.lock:
            self.request_log.clear()
            self.extra_tokens.clear()
            self.last_pages.clear()
        self.processes.clear()
        self.uploads.clear()
        self.webhooks.reset()
        self.import_settings = self.startup_import_settings
        with self.org_lock:
            if self.org_changed and self.regenerate is not None:
                started = time.monotonic()
                self.org = self.regenerate()
                self.engine = QueryEngine(self.org)
                self.org_changed = False
                logger.info("Org regenerated after changes in %.2f s", time.monotonic() - started)

    def health(self) -> dict[str, Any]:
        today = self.org.today
        return {"status": "ok", "org_id": self.org.id, "org_slug": self.org.slug,
                "today": self.org.today_date.isoformat(),
                "jobs_today": sum(1 for job in self.org.jobs if job.alive_on(today))}


def _single(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _parse_day(query: dict[str, list[str]], org: Org) -> int:
    raw = _single(query, "date")
    if raw is None or raw == "":
        return org.today
    try:
        if not _DATE_RE.match(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw).toordinal()
    except ValueError:
        raise ApiError(400, f"invalid query parameter date: {raw!r}; expected YYYY-MM-DD") from None


def _parse_limit(query: dict[str, list[str]]) -> int:
    raw = _single(query, "limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise ApiError(400, f"invalid query parameter limit: {raw!r}; expected a positive integer") from None
    if limit < 1:
        raise ApiError(400, f"invalid query parameter limit: {raw!r}; expected a positive integer")
    return min(limit, MAX_LIMIT)


def _parse_format(query: dict[str, list[str]]) -> bool:
    """Return True for format=minimal, False for the json formats."""
    raw = _single(query, "format")
    if raw is None or raw == "":
        return False
    if raw not in FORMATS:
        raise ApiError(400, f"invalid query parameter format: {raw!r}; expected one of {', '.join(FORMATS)}")
    return raw == "minimal"


def _parse_bool(query: dict[str, list[str]], name: str) -> bool:
    raw = _single(query, name)
    if raw is None or raw == "":
        return False
    if raw.lower() not in ("true", "false"):
        raise ApiError(400, f"invalid query parameter {name}: {raw!r}; expected true or false")
    return raw.lower() == "true"


def _parse_ids(query: dict[str, list[str]]) -> list[str] | None:
    raw = _single(query, "ids")
    if raw is None:
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]


def _check_sort(query: dict[str, list[str]], id_field: str) -> None:
    raw = _single(query, "sort")
    if raw is None or raw == "" or raw.lower() == id_field.lower():
        return
    # NOTE: ChartHop sorts by any field list; the emulator implements only its one order (ascending id).
    raise ApiError(400, f"unsupported sort: {raw!r}; the emulator only sorts by {id_field} (ascending)")


def _parse_fields(query: dict[str, list[str]], registry: dict[str, Any], defaults: tuple[str, ...]) -> list[str]:
    raw_values = list(query.get("fields", [])) + list(query.get("fieldsList", []))
    try:
        expressions = parse_field_list(raw_values, registry)
    except KeyError as error:
        # NOTE: ChartHop reportedly returns a misspelt field as empty without an error; the emulator
        # rejects it so that clients surface the mistake.
        raise ApiError(400, f"unknown field: {error.args[0]}") from None
    return expressions or list(defaults)


def render_user(user: User, org: Org) -> dict[str, Any]:
    """Render a User object as in the user API's schema."""
    access: dict[str, Any] = {"orgId": org.id, "access": user.access}
    if user.person_id:
        access["personId"] = user.person_id
    rendered: dict[str, Any] = {
        "id": user.id, "name": {"first": user.first, "last": user.last}, "email": user.email,
        "type": user.type, "status": "NORMAL", "orgs": [access],
    }
    if user.app_id:
        rendered["appId"] = user.app_id
    return rendered


class EmulatorServer(ThreadingHTTPServer):
    """Threaded HTTP server carrying the shared EmulatorState."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: EmulatorState) -> None:
        self.state = state
        super().__init__(address, EmulatorHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log an error that escaped a handler (usually a client that hung up) instead of printing it."""
        error = sys.exc_info()[1]
        if isinstance(error, (BrokenPipeError, ConnectionResetError)):
            logger.info("Client %s disconnected before the response was sent: %s", client_address, error)
        else:
            logger.exception("Unhandled error while serving %s", client_address)


class EmulatorHandler(BaseHTTPRequestHandler):
    """Request handler: admin endpoints, then faults, authentication, and the ChartHop operations."""

    protocol_version = "HTTP/1.1"
    server: EmulatorServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK add about 40 ms to every keep-alive response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # noqa: N802 - method names are fixed by BaseHTTPRequestHandler
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch()

    def do_PATCH(self) -> None:  # noqa: N802
        self._dispatch()

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature fixed by the base class
        logger.debug("%s - %s", self.address_string(), format % args)

    @property
    def state(self) -> EmulatorState:
        return self.server.state

    # --- plumbing -------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None,
              truncate: bool = False) -> None:
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        if payload is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not truncate:
            self.wfile.write(body)
            return
        # The `reset` fault: promise the whole body, send half of it, then drop the connection.
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError as error:
            logger.warning("Closing the connection for a reset fault failed: %s", error)

    def _send_raw(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None,
                  truncate: bool = False) -> None:
        """Send a non-JSON body; ``truncate`` sends half of it and drops the connection, as ``_send`` does."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if truncate else body)
        if truncate:
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError as error:
                logger.warning("Closing the connection for a reset fault failed: %s", error)

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = parse_qs(url.query, keep_blank_values=True)
        self._body = self._read_body()
        # Import processes move on with the clock; they catch up before every request is answered.
        self.state.processes.advance_all()
        if path == "/_emulator" or path.startswith("/_emulator/"):
            self._admin(path, self._body)
            return
        self._api(url.path, query)

    # --- ChartHop API ---------------------------------------------------------------------------

    def _api(self, raw_path: str, query: dict[str, list[str]]) -> None:
        path = unquote(raw_path)
        authorization = self.headers.get("Authorization") or ""
        record: dict[str, Any] = {
            "method": self.command, "path": path, "raw_path": raw_path, "query": query,
            "headers": list(self.headers.keys()),
            "bearer": authorization[:7].lower() == "bearer " and bool(authorization[7:].strip()),
            "status": None, "fault": None, "faults": [],
        }
        self.state.log_request(record)
        fired = self.state.faults.select(path, (*RESPONSE_KINDS, "delay"))
        self._note_faults(record, fired)
        response_fault = next((fault for fault in fired if fault.kind in RESPONSE_KINDS), None)
        for fault in fired:
            if fault.kind == "delay":
                time.sleep(float(fault.options["seconds"]))

        if response_fault is not None and response_fault.kind == "status":
            status = int(response_fault.options["status"])
            headers = {}
            if "retry_after" in response_fault.options:
                headers["Retry-After"] = str(response_fault.options["retry_after"])
            message = response_fault.options.get("message") or _status_message(status)
            record["status"] = status
            self._send(status, {"code": status, "message": message}, headers)
            return
        if response_fault is not None and response_fault.kind == "snapshot_building":
            record["status"] = 202
            self._send(202, None)
            return

        headers: dict[str, str] = {}
        try:
            status, payload = self._api_answer(raw_path, query, authorization, record)
            if isinstance(payload, process_api.RawResponse):
                record["status"] = status
                self._send_raw(status, payload.body, payload.content_type, truncate=response_fault is not None)
                return
        except ApiError as error:
            status, payload, headers = error.status, {"code": error.status, "message": error.message}, error.headers
        except CarrotError as error:
            status, payload = 400, {"code": 400, "message": f"invalid query parameter q: {error}"}
        except Exception as error:  # noqa: BLE001 - any bug must still produce a JSON 500
            logger.exception("Request %s %s failed", self.command, path)
            status, payload = 500, {"code": 500, "message": f"internal error: {type(error).__name__}"}
        record["status"] = status
        self._send(status, payload, headers, truncate=response_fault is not None)

    def _note_faults(self, record: dict[str, Any], fired: list[Fault]) -> None:
        for fault in fired:
            logger.debug("Fault %s fired on %s", fault.kind, record["path"])
            record["faults"].append(fault.kind)
            if record["fault"] is None:
                record["fault"] = fault.kind

    def _api_answer(self, raw_path: str, query: dict[str, list[str]], authorization: str,
                    record: dict[str, Any]) -> tuple[int, Any]:
        path = record["path"]
        route = match_route(raw_path, self.command)
        token = authorization[7:].strip() if authorization[:7].lower() == "bearer " else ""
        permissions = self.state.permissions_for(token) if token else None
        if permissions is None:
            raise ApiError(401, "not authorized")
        if route is None:
            methods = allowed_methods(raw_path)
            if not methods:
                raise ApiError(404, f"not found: {path}")
            raise ApiError(405, f"method not allowed: {self.command} {path}", {"Allow": ", ".join(methods)})
        operation = route.operation
        if operation.permission is not None and operation.permission not in permissions:
            if operation.permission == PRIMARY_EDITOR:
                raise ApiError(403, PRIMARY_EDITOR_DENIED)
            raise ApiError(403, f"permission denied: {operation.permission}")

        org = self.state.org
        org_ref = route.org_ref if route.org_ref is not None else _single(query, "orgId")
        if not org_ref:
            # NOTE: ChartHop lets cross-org admins omit orgId; the emulator has one org and requires it.
            raise ApiError(400, "missing query parameter orgId")
        if org_ref not in (org.id, org.slug):
            raise ApiError(404, f"org not found: {org_ref}")
        for name in query:
            if name in operation.unsupported:
                raise ApiError(400, f"query parameter {name} is not supported by the emulator")
        # NOTE: other unknown query parameters are ignored, as ChartHop reportedly ignores misspelt ones.

        handler: Callable[..., Any] = getattr(self, f"_op_{operation.name}")
        return 200, handler(route, query, permissions, record)

    def _op_importDataCsv(self, route: Route, query: dict[str, list[str]],  # noqa: N802
                          permissions: frozenset[str], record: dict[str, Any]) -> dict[str, Any]:
        content_type = self.headers.get("Content-Type") or ""
        return process_api.import_data_csv(self.state, query, self._body, content_type, record)

    def _op_getProcess(self, route: Route, query: dict[str, list[str]],  # noqa: N802
                       permissions: frozenset[str], record: dict[str, Any]) -> dict[str, Any]:
        return process_api.get_process(self.state, route, query)

    def _op_updateProcess(self, route: Route, query: dict[str, list[str]],  # noqa: N802
                          permissions: frozenset[str], record: dict[str, Any]) -> dict[str, Any]:
        return process_api.update_process(self.state, route, self._body)

    def _op_findProcesses(self, route: Route, query: dict[str, list[str]],  # noqa: N802
                          permissions: frozenset[str], record: dict[str, Any]) -> dict[str, Any]:
        return process_api.find_processes(
            self.state, query, lambda listing, render: self._page(listing, query, record, render),
        )

    def _op_getProcessLogFile(self, route: Route, query: dict[str, list[str]],  # noqa: N802
                              permissions: frozenset[str], record: dict[str, Any]) -> process_api.RawResponse:
        return process_api.process_log(self.state, route)

    def _page(self, listing: Listing, query: dict[str, list[str]], record: dict[str, Any],
              render: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        """Build one page of a listing, applying the paging faults that fire."""
        limit = _parse_limit(query)
        cursor = _single(query, "from") or None
        listing_key = (record["path"], tuple(sorted((name, tuple(values)) for name, values in query.items()
                                                    if name not in ("from", "limit"))))
        previous_rows = self.state.previous_page(listing_key)
        kinds: tuple[str, ...] = ("page_cap", "boundary_duplicate")
        if cursor is not None:
            kinds += ("repeat_cursor",) + (("repeat_page",) if previous_rows is not None else ())
        fired = {fault.kind: fault for fault in self.state.faults.select(record["path"], kinds)}
        self._note_faults(record, list(fired.values()))

        if "page_cap" in fired:
            limit = min(limit, int(fired["page_cap"].options["max_limit"]))
        start, items, next_cursor = listing.page(cursor, limit)
        if "repeat_page" in fired and previous_rows is not None:
            payload: dict[str, Any] = {"data": previous_rows}
            fresh = listing.fresh_cursor(start)
            if fresh is not None:
                payload["next"] = fresh
            return payload

        rows = [render(item) for item in items]
        if "boundary_duplicate" in fired and next_cursor is not None and items:
            next_cursor = listing.ids[start + len(items) - 1]
        if "repeat_cursor" in fired:
            next_cursor = cursor
        self.state.remember_page(listing_key, rows)
        payload = {"data": rows}
        if next_cursor is not None:
            payload["next"] = next_cursor
        return payload

    def _op_findJobs(self, route: Route, query: dict[str, list[str]], permissions: frozenset[str],  # noqa: N802
                     record: dict[str, Any]) -> dict[str, Any]:
        day = _parse_day(query, self.state.org)
        minimal = _parse_format(query)
        expressions = _parse_fields(query, JOB_FIELDS, DEFAULT_JOB_FIELDS)
        _check_sort(query, "jobId")
        comp_allowed = "comp.read" in permissions
        listing = self.state.engine.jobs(day, _single(query, "q") or None, _parse_ids(query), comp_allowed)
        return self._page(
            listing, query, record,
            lambda job: render_row(JobView(job, day, comp_allowed), expressions, JOB_FIELDS, minimal),
        )

    def _op_countJobs(self, route: Route, query: dict[str, list[str]], permissions: frozenset[str],  # noqa: N802
                      record: dict[str, Any]) -> dict[str, Any]:
        day = _parse_day(query, self.state.org)
        listing = self.state.engine.jobs(day, _single(query, "q") or None, None, "comp.read" in permissions)
        return dict(self.state.engine.job_counts(listing, day))

    def _op_getJob(self, route: Route, query: dict[str, list[str]], permissions: frozenset[str],  # noqa: N802
                   record: dict[str, Any]) -> dict[str, Any]:
        day = _parse_day(query, self.state.org)
        minimal = _parse_format(query)
        expressions = _parse_fields(query, JOB_FIELDS, DEFAULT_JOB_FIELDS)
        job = self.state.org.jobs_by_id.get(route.entity_id or "")
        if job is None or not job.alive_on(day):
            raise ApiError(404, f"job not found: {route.entity_id} on {date.fromordinal(day).isoformat()}")
        return render_row(JobView(job, day, "comp.read" in permissions), expressions, JOB_FIELDS, minimal)

    def _op_findPersons(self, route: Route, query: dict[str, list[str]],  # noqa: N802
                        permissions: frozenset[str], record: dict[str, Any]) -> dict[str, Any]:
        day = _parse_day(query, self.state.org)
        minimal = _parse_format(query)
        expressions = _parse_fields(query, PERSON_FIELDS, DEFAULT_PERSON_FIELDS)
        _check_sort(query, "id")
        include_all = _parse_bool(query, "includeAll")
        listing = self.state.engine.persons(day, _single(query, "q") or None, _parse_ids(query), include_all)
        return self._page(
            listing, query, record,
            lambda person: render_row(PersonView(person, day), expressions, PERSON_FIELDS, minimal),
        )

    def _op_countPersons(self, route: Route, query: dict[str, list[str]],  # noqa: N802
                         permissions: frozenset[str], record: dict[str, Any]) -> dict[str, Any]:
        day = _parse_day(query, self.state.org)
        include_all = _parse_bool(query, "includeAll")
        listing = self.state.engine.persons(day, _single(query, "q") or None, None, include_all)
        return dict(self.state.engine.person_counts(listing, day))

    def _op_findUsers(self, route: Route, query: dict[str, list[str]], permissions: frozenset[str],  # noqa: N802
                      record: dict[str, Any]) -> dict[str, Any]:
        org = self.state.org
        needle = (_single(query, "q") or "").casefold()
        requested_ids = _parse_ids(query)
        users = [
            user for user in org.users
            if (requested_ids is None or user.id in requested_ids)
            and (not needle or any(needle in text.casefold() for text in (user.first, user.last, user.email)))
        ]
        listing = Listing(ids=[user.id for user in users], items=users)
        return self._page(listing, query, record, lambda user: render_user(user, org))

    # --- admin API ------------------------------------------------------------------------------

    def _admin(self, path: str, body: bytes) -> None:
        try:
            status, payload = self._admin_answer(path, body)
        except ApiError as error:
            status, payload = error.status, {"code": error.status, "message": error.message}
        except Exception as error:  # noqa: BLE001 - any bug must still produce a JSON 500
            logger.exception("Admin request %s %s failed", self.command, path)
            status, payload = 500, {"code": 500, "message": f"internal error: {type(error).__name__}"}
        self._send(status, payload)

    def _admin_answer(self, path: str, body: bytes) -> tuple[int, Any]:
        state = self.state
        method = self.command
        if path == "/_emulator/health" and method == "GET":
            return 200, state.health()
        if path == "/_emulator/faults":
            if method == "GET":
                return 200, state.faults.describe()
            if method == "POST":
                try:
                    faults = parse_faults(_json_body(body))
                except FaultError as error:
                    raise ApiError(400, str(error)) from None
                state.faults.replace(faults)
                logger.info("Fault rules replaced: %s", ", ".join(fault.kind for fault in faults) or "none")
                return 200, state.faults.describe()
            if method == "DELETE":
                state.faults.clear()
                return 200, []
        if path == "/_emulator/tokens" and method == "POST":
            return 201, self._add_token(_json_body(body))
        if path.startswith("/_emulator/tokens/") and method == "DELETE":
            token = path[len("/_emulator/tokens/"):]
            with state.lock:
                removed = state.extra_tokens.pop(token, None)
            if removed is None:
                raise ApiError(404, "token not found (only tokens added through this endpoint can be deleted)")
            return 200, {"deleted": True}
        if path == "/_emulator/requests":
            if method == "GET":
                with state.lock:
                    return 200, list(state.request_log)
            if method == "DELETE":
                with state.lock:
                    state.request_log.clear()
                return 200, []
        if path == "/_emulator/reset" and method == "POST":
            state.reset()
            return 200, {"status": "reset"}
        answer = answer_admin(state, method, path, lambda: _json_body(body))
        if answer is not None:
            return answer
        raise ApiError(404, f"no admin endpoint {method} {path}")

    def _add_token(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise ApiError(400, "invalid body: expected {\"token\": ..., \"permissions\": [...]}")
        token = payload.get("token")
        permissions = payload.get("permissions", [])
        if not isinstance(token, str) or not token.strip() or token == self.state.token:
            raise ApiError(400, "invalid token: expected a non-empty string other than the main token")
        if not isinstance(permissions, list) or any(item not in PERMISSIONS for item in permissions):
            raise ApiError(400, f"invalid permissions: expected a list drawn from {', '.join(PERMISSIONS)}")
        with self.state.lock:
            self.state.extra_tokens[token] = frozenset(permissions)
        logger.info("Token added with permissions %s", ", ".join(sorted(permissions)) or "none")
        return {"permissions": sorted(permissions)}


def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8") or "null")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, f"invalid JSON body: {error}") from None


def _status_message(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return f"error {status}"


def create_server(state: EmulatorState, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
    """Bind a server for ``state`` on host:port (port 0 picks a free port)."""
    return EmulatorServer((host, port), state)


@dataclass
class EmulatorHandle:
    """A running in-process emulator."""

    server: EmulatorServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def state(self) -> EmulatorState:
        return self.server.state

    def stop(self) -> None:
        """Stop serving, close the socket and wait for the serving thread."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
        logger.info("Emulator at %s stopped", self.url)


def start_in_thread(
    org_size: int = 2000,
    seed: int = 1,
    port: int = 0,
    host: str = "127.0.0.1",
    today: date | None = None,
    token: str = DEFAULT_TOKEN,
    org_id: str | None = None,
    org_slug: str = "acme",
    faults: list[dict[str, Any]] | None = None,
) -> EmulatorHandle:
    """Generate an org and serve it from a daemon thread of this process (for benchmarks and tests)."""
    org = generate_org(org_size, seed, today, org_id, org_slug)
    state = EmulatorState(org=org, token=token,
                          regenerate=lambda: generate_org(org_size, seed, org.today_date, org.id, org_slug))
    if faults:
        state.faults.replace(parse_faults(faults))
    server = create_server(state, host, port)
    thread = threading.Thread(target=server.serve_forever, name="charthop-emulator", daemon=True)
    thread.start()
    logger.info("Emulator serving org %s at %s", org.slug, server.url)
    return EmulatorHandle(server=server, thread=thread)
