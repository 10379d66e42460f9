"""Hook for ChartHop's REST API, built on the HTTP provider's ``HttpHook``."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests
import tenacity
from airflow.providers.http.hooks.http import HttpHook
from requests import Request, Response, Session
from requests.auth import AuthBase

from charthop.constants import DEFAULT_CHARTHOP_CONN_ID
from charthop.exceptions import (
    ChartHopApiError,
    ChartHopAuthenticationError,
    ChartHopBadRequestError,
    ChartHopConfigError,
    ChartHopNotFoundError,
    ChartHopPagingError,
    ChartHopPermissionError,
    ChartHopRetryExhaustedError,
)

#: Statuses worth asking again: 202 is ChartHop's "snapshot currently building", 429 is rate limiting,
#: and 5xx are server or gateway failures. 501 (not implemented) is left out because it never changes.
RETRYABLE_STATUSES = frozenset({202, 429, 500, 502, 503, 504})

#: Transport failures: refused or reset connections, timeouts, and bodies cut off before their end.
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)

MIN_REDACTED_LENGTH = 5

BAD_QUERY_HINT = (
    "Check the field codes in 'fields' (custom fields use their code name, such as perfRating) "
    "and the Carrot syntax of 'q'."
)


class _BearerAuth(AuthBase):
    """Adds ``Authorization: Bearer <token>`` to each request; its ``repr`` hides the token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "_BearerAuth(token=***)"


class _RetryableResponse(Exception):
    """A response whose status is in ``RETRYABLE_STATUSES``, raised inside the retry loop."""

    def __init__(self, status_code: int, detail: str, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status_code} ({detail})")
        self.status_code = status_code
        self.retry_after = retry_after


@dataclass(frozen=True)
class JobPage:
    """One page of findJobs rows.

    :param number: 1-based page number.
    :param rows: the rows of this page whose job id was not already on an earlier page.
    :param duplicates_dropped: rows of this page dropped because an earlier page had their job id.
    :param next_cursor: the ``next`` cursor ChartHop sent, or ``None`` on the last page.
    """

    number: int
    rows: list[dict[str, Any]] = field(repr=False)
    duplicates_dropped: int
    next_cursor: str | None


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Parse a ``Retry-After`` header (delay seconds or an HTTP date) into seconds, or ``None``."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    return max((when - now).total_seconds(), 0.0)


def format_date(value: str | dt.date | None, *, name: str = "date") -> str | None:
    """Return ``value`` as ``YYYY-MM-DD``; raise ``ChartHopConfigError`` naming ``name`` when invalid."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise ChartHopConfigError(
            f"Invalid {name} {value!r}: ChartHop expects a calendar date written as YYYY-MM-DD."
        ) from None


def normalise_fields(fields: str | Sequence[str] | None, *, id_field: str = "jobId") -> list[str]:
    """Split a comma list of field codes, drop blanks and repeats, and put ``id_field`` first."""
    if fields is None:
        return [id_field]
    items = fields.split(",") if isinstance(fields, str) else list(fields)
    result: list[str] = [id_field]
    seen = {id_field.lower()}
    for item in items:
        code = str(item).strip()
        if code and code.lower() not in seen:
            seen.add(code.lower())
            result.append(code)
    return result


class ChartHopHook(HttpHook):
    """Call ChartHop's REST API with a bearer token, retries and cursor paging.

    The connection stores the API token in its password and the org (id or slug) in the extra field
    ``org_id``. Its host defaults to ``api.charthop.com`` over https. A host written as a URL
    (``http://127.0.0.1:8377``) or a schema and port on the connection point the hook elsewhere.
    Connection extras are never sent as request headers, except those in an explicit ``headers`` map.

    The request settings below can also be set per connection, as extra fields of the same names; an
    argument given here wins over the extra field, which wins over the default.

    :param charthop_conn_id: id of the Airflow connection of type ``charthop``.
    :param timeout: seconds to wait for each response (connect and read), 60 by default.
    :param max_attempts: tries per request, first one included, 6 by default.
    :param max_retry_wait: longest wait between two tries in seconds, also the cap on ``Retry-After``;
        60 by default.
    :param retry_deadline: seconds after the first try after which no retry starts, 900 by default.
    :param backoff_initial: first backoff wait in seconds, doubled on each retry with up to this much
        random jitter added; 1 by default.
    """

    #: Defaults of the request settings that a connection extra or a constructor argument may override.
    REQUEST_SETTINGS: dict[str, float] = {
        "timeout": 60.0,
        "max_attempts": 6,
        "max_retry_wait": 60.0,
        "retry_deadline": 900.0,
        "backoff_initial": 1.0,
    }

    conn_name_attr = "charthop_conn_id"
    default_conn_name = DEFAULT_CHARTHOP_CONN_ID
    conn_type = "charthop"
    hook_name = "ChartHop"
    default_host = "api.charthop.com"

    def __init__(
        self,
        charthop_conn_id: str = default_conn_name,
        *,
        timeout: float | None = None,
        max_attempts: int | None = None,
        max_retry_wait: float | None = None,
        retry_deadline: float | None = None,
        backoff_initial: float | None = None,
    ) -> None:
        super().__init__(method="GET", http_conn_id=charthop_conn_id)
        self.charthop_conn_id = charthop_conn_id
        self._setting_arguments = {
            "timeout": timeout,
            "max_attempts": max_attempts,
            "max_retry_wait": max_retry_wait,
            "retry_deadline": retry_deadline,
            "backoff_initial": backoff_initial,
        }
        self.timeout = float(timeout or self.REQUEST_SETTINGS["timeout"])
        self.max_attempts = int(max_attempts or self.REQUEST_SETTINGS["max_attempts"])
        self.max_retry_wait = float(max_retry_wait or self.REQUEST_SETTINGS["max_retry_wait"])
        self.retry_deadline = float(retry_deadline or self.REQUEST_SETTINGS["retry_deadline"])
        self.backoff_initial = float(backoff_initial or self.REQUEST_SETTINGS["backoff_initial"])
        self._session: Session | None = None
        self._org_id: str | None = None
        self._token: str | None = None

    # Connection and session set-up.

    def _set_base_url(self, connection: Any) -> None:
        self.base_url = base_url_of(connection)
        self._base_url_initialized = True

    def _configure_session_from_auth(self, session: Session, connection: Any) -> Session:
        token = (connection.password or "").strip()
        if not token:
            raise ChartHopConfigError(
                f"Connection '{self.charthop_conn_id}' has no API token. Put the ChartHop app's API token "
                "in the connection's password field (labelled 'API token' in the UI)."
            )
        self._token = token
        session.auth = _BearerAuth(token)
        return session

    def _configure_session_from_extra(
        self, session: Session, connection: Any, extra_options: dict[str, Any]
    ) -> Session:
        session = super()._configure_session_from_extra(session, connection, extra_options)
        extra = connection.extra_dejson
        # HttpHook turns every extra it does not know into a header; org_id and the like are not headers.
        for key in extra:
            session.headers.pop(key, None)
        explicit_headers = extra.get("headers") or {}
        if not isinstance(explicit_headers, Mapping):
            raise ChartHopConfigError(
                f"Connection '{self.charthop_conn_id}' has an extra 'headers' that is not a JSON object."
            )
        for name, value in explicit_headers.items():
            if str(name).lower() != "authorization":
                session.headers[str(name)] = str(value)
        return session

    def get_conn(
        self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None
    ) -> Session:
        """Return the hook's ``requests`` session, creating it on first use.

        :param headers: headers added to the session when it is created.
        :param extra_options: HttpHook extra options used when the session is created.
        """
        if self._session is None:
            connection = self.get_connection(self.charthop_conn_id)
            org_id = str(connection.extra_dejson.get("org_id") or "").strip()
            if not org_id:
                raise ChartHopConfigError(
                    f"Connection '{self.charthop_conn_id}' has no org. Set the extra field 'org_id' to the "
                    "ChartHop org id or to its slug, the path segment in app.charthop.com/<slug>/."
                )
            self._apply_request_settings(connection.extra_dejson)
            self._session = super().get_conn(headers=headers, extra_options=extra_options)
            self._org_id = org_id
        return self._session

    def _apply_request_settings(self, extra: Mapping[str, Any]) -> None:
        for name, default in self.REQUEST_SETTINGS.items():
            value = self._setting_arguments[name]
            if value is None:
                value = extra.get(name, default)
            try:
                number = int(value) if name == "max_attempts" else float(value)
            except (TypeError, ValueError):
                number = None
            if number is None or number <= 0:
                raise ChartHopConfigError(
                    f"Invalid {name} {value!r} for connection '{self.charthop_conn_id}': use a positive number."
                )
            setattr(self, name, number)

    @property
    def org_id(self) -> str:
        """The org id or slug from the connection's extra field ``org_id``."""
        self.get_conn()
        return self._org_id  # type: ignore[return-value]

    def org_path(self, version: str = "v2") -> str:
        """Return ``/<version>/org/<org>`` with the org encoded as one path segment."""
        return f"/{version}/org/{quote(self.org_id, safe='')}"

    # Requests, retries and errors.

    def _redact(self, text: str) -> str:
        # A token this short would match ordinary words; Airflow's own secret masker skips such values too.
        if self._token and len(self._token) >= MIN_REDACTED_LENGTH:
            text = text.replace(self._token, "***")
        return text

    def _wait_seconds(self, retry_state: tenacity.RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, _RetryableResponse) and error.retry_after is not None:
            return min(error.retry_after, self.max_retry_wait)
        backoff = tenacity.wait_exponential_jitter(
            multiplier=self.backoff_initial, max=self.max_retry_wait, jitter=self.backoff_initial
        )
        return backoff(retry_state)

    def _log_retry(self, operation: str, retry_state: tenacity.RetryCallState) -> None:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
        self.log.warning(
            "ChartHop %s failed on try %d of %d: %s. Retrying in %.2f s.",
            operation,
            retry_state.attempt_number,
            self.max_attempts,
            self._redact(f"{type(error).__name__}: {error}"),
            wait,
        )

    def _error_detail(self, response: Response) -> str:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, Mapping) and body.get("message"):
            detail = str(body["message"])
        else:
            detail = (response.text or response.reason or "no message").strip()
        return self._redact(detail[:500])

    def _api_error(self, response: Response, operation: str, hint: str | None) -> ChartHopApiError:
        status = response.status_code
        prefix = (
            f"ChartHop {operation} for org '{self._org_id}' failed with HTTP {status} "
            f"({self._error_detail(response)})."
        )
        if status == 400:
            return ChartHopBadRequestError(f"{prefix} {hint or BAD_QUERY_HINT}", status_code=status)
        if status == 401:
            return ChartHopAuthenticationError(
                f"{prefix} ChartHop rejected the API token of connection '{self.charthop_conn_id}'. "
                "Check that its password holds the current token of an app installed in this org.",
                status_code=status,
            )
        if status == 403:
            return ChartHopPermissionError(
                f"{prefix} The app behind connection '{self.charthop_conn_id}' lacks a permission this call "
                f"needs. {hint + ' ' if hint else ''}Grant it to the app in ChartHop (Settings > Apps & "
                "Integrations) or use a token that has it.",
                status_code=status,
            )
        if status == 404:
            return ChartHopNotFoundError(
                f"{prefix} {hint or ''} Check the org id or slug '{self._org_id}' in the extra field "
                f"'org_id' of connection '{self.charthop_conn_id}'.".replace("  ", " "),
                status_code=status,
            )
        return ChartHopApiError(f"{prefix} {hint or ''}".strip(), status_code=status)

    def request_json(
        self,
        method: str,
        endpoint: str,
        *,
        operation: str,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        files: Mapping[str, Any] | None = None,
        hint: str | None = None,
        retry: bool = True,
    ) -> Any:
        """Send one request with retries and return the decoded JSON body (``None`` for an empty body).

        Retries a status in ``RETRYABLE_STATUSES`` and transport errors with exponential backoff and
        jitter, honouring ``Retry-After`` up to ``max_retry_wait``. Never retries 400, 401, 403 or 404.

        :param method: HTTP method.
        :param endpoint: path below the base URL, starting with ``/``.
        :param operation: ChartHop's operation id (``findJobs``), used in logs and errors.
        :param params: query parameters; booleans are sent as lowercase ``true``/``false``.
        :param json_body: body sent as JSON.
        :param files: multipart parts, as ``requests`` takes them (``{"file": (name, bytes, type)}``).
        :param hint: what to check, appended to the message of a 400 or 404 error.
        :param retry: ``False`` sends the request once, for calls that are not safe to repeat.
        """
        session = self.get_conn()
        url = self.url_from_endpoint(endpoint)
        query = {key: _query_value(value) for key, value in (params or {}).items() if value is not None}

        def attempt() -> Any:
            prepared = session.prepare_request(Request(method, url, params=query, json=json_body, files=files))
            self.log.debug("ChartHop %s: %s %s", operation, method, prepared.url)
            response = self.run_and_check(
                session, prepared, {"timeout": self.timeout, "check_response": False}
            )
            if response.status_code in RETRYABLE_STATUSES:
                raise _RetryableResponse(
                    response.status_code,
                    self._error_detail(response) if response.content else "empty body",
                    parse_retry_after(response.headers.get("Retry-After")),
                )
            if response.status_code >= 400:
                raise self._api_error(response, operation, hint)
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError as error:
                # A cut-off or garbled body is a transport failure: the next try may get it whole.
                raise requests.exceptions.ContentDecodingError(
                    f"ChartHop {operation} sent a body that is not valid JSON: {error}"
                ) from error

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type((_RetryableResponse, *TRANSPORT_ERRORS)),
            wait=self._wait_seconds,
            stop=tenacity.stop_after_attempt(self.max_attempts if retry else 1)
            | tenacity.stop_before_delay(self.retry_deadline),
            before_sleep=lambda state: self._log_retry(operation, state),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except (_RetryableResponse, *TRANSPORT_ERRORS) as error:
            status = error.status_code if isinstance(error, _RetryableResponse) else None
            raise ChartHopRetryExhaustedError(
                f"ChartHop {operation} for org '{self._org_id}' at {self.base_url} still failed after "
                f"retrying for up to {self.max_attempts} tries or {self.retry_deadline:.0f} s; the last "
                f"error was {self._redact(f'{type(error).__name__}: {error}')}. ChartHop may be busy, "
                "rate limiting or building a snapshot: run the task again later.",
                status_code=status,
            ) from None

    # ChartHop operations.

    def find_jobs(
        self,
        *,
        fields: str | Sequence[str] | None = None,
        q: str | None = None,
        date: str | dt.date | None = None,
        ids: str | Sequence[str] | None = None,
        page_size: int = 1000,
        response_format: str = "minimal",
        extra_params: Mapping[str, Any] | None = None,
    ) -> Iterator[JobPage]:
        """Yield the pages of findJobs (``GET /v2/org/{org}/job``), following ``next`` cursors.

        Every page request carries the same filters plus ``from=<previous next>``. Rows whose job id
        was on an earlier page are dropped (whether ``from`` is inclusive is not documented).

        :param fields: field codes, as a comma list or a sequence; ``jobId`` is always requested first.
        :param q: Carrot filter, such as ``open:filled``; ``None`` for every job.
        :param date: as-of date (``YYYY-MM-DD`` or a date); ``None`` for ChartHop's current date.
        :param ids: job ids to fetch, as a comma list or a sequence.
        :param page_size: rows asked for per page (``limit``), 1000 by default.
        :param response_format: ``minimal`` (flat dotted keys, the default) or ``json`` (nested objects).
        :param extra_params: further findJobs query parameters, sent unchanged on every page.
        :raises ChartHopPagingError: when ChartHop repeats a cursor or a page, so paging cannot finish.
        """
        params: dict[str, Any] = dict(extra_params or {})
        params.update(
            fields=",".join(normalise_fields(fields)),
            q=q or None,
            date=format_date(date),
            ids=ids if ids is None or isinstance(ids, str) else ",".join(ids),
            limit=page_size,
            format=response_format,
        )
        endpoint = f"{self.org_path()}/job"
        seen_ids: set[str] = set()
        seen_cursors: set[str] = set()
        seen_pages: set[int] = set()
        cursor: str | None = None
        number = 0
        while True:
            number += 1
            page_params = {**params, "from": cursor}
            body = self.request_json("GET", endpoint, operation="findJobs", params=page_params)
            rows = body.get("data") if isinstance(body, Mapping) else None
            if not isinstance(rows, list):
                raise ChartHopApiError(
                    f"ChartHop findJobs page {number} has no 'data' list (got {type(body).__name__}). "
                    f"Check that the connection's host ({self.base_url}) is ChartHop's API."
                )
            page_ids = [_row_id(row, number) for row in rows]
            page_key = hash(tuple(page_ids))
            if page_ids and page_key in seen_pages:
                raise ChartHopPagingError(
                    f"ChartHop findJobs page {number} (from={cursor}) contains exactly the rows of an earlier "
                    f"page, so paging is not advancing. Nothing was committed; run the task again, and lower "
                    f"page_size (now {page_size}) if it keeps happening."
                )
            seen_pages.add(page_key)
            new_rows: list[dict[str, Any]] = []
            for job_id, row in zip(page_ids, rows):
                if job_id not in seen_ids:
                    seen_ids.add(job_id)
                    new_rows.append(row)
            next_cursor = str(body["next"]) if body.get("next") else None
            dropped = len(rows) - len(new_rows)
            if dropped:
                self.log.debug("findJobs page %d: dropped %d rows already seen", number, dropped)
            yield JobPage(number=number, rows=new_rows, duplicates_dropped=dropped, next_cursor=next_cursor)
            if next_cursor is None:
                return
            if next_cursor == cursor or next_cursor in seen_cursors:
                raise ChartHopPagingError(
                    f"ChartHop findJobs page {number} sent the cursor next={next_cursor}, which it had already "
                    "sent, so paging would loop forever. Nothing was committed; run the task again later."
                )
            seen_cursors.add(next_cursor)
            cursor = next_cursor

    def count_jobs(self, *, q: str | None = None, date: str | dt.date | None = None) -> int:
        """Return ``jobCount`` from countJobs (``GET /v2/org/{org}/job/count``) for a filter and date.

        :param q: Carrot filter; ``None`` counts every job.
        :param date: as-of date; ``None`` for ChartHop's current date.
        """
        body = self.request_json(
            "GET",
            f"{self.org_path()}/job/count",
            operation="countJobs",
            params={"q": q or None, "date": format_date(date)},
        )
        try:
            return int(body["jobCount"])
        except (TypeError, KeyError, ValueError):
            raise ChartHopApiError(
                f"ChartHop countJobs returned no numeric 'jobCount': {str(body)[:200]}"
            ) from None

    def get_job(
        self,
        job_id: str,
        *,
        fields: str | Sequence[str] | None = None,
        date: str | dt.date | None = None,
        response_format: str = "minimal",
    ) -> dict[str, Any]:
        """Return one job's row from getJob (``GET /v2/org/{org}/job/{jobId}``).

        :param job_id: the job id.
        :param fields: field codes, as a comma list or a sequence; ``jobId`` is always requested.
        :param date: as-of date; ``None`` for ChartHop's current date.
        :param response_format: ``minimal`` (flat dotted keys, the default) or ``json``.
        """
        return self.request_json(
            "GET",
            f"{self.org_path()}/job/{quote(str(job_id), safe='')}",
            operation="getJob",
            params={"fields": ",".join(normalise_fields(fields)), "date": format_date(date), "format": response_format},
            hint=f"Job {job_id!r} may not exist on that date.",
        )

    def import_csv(
        self,
        content: bytes,
        *,
        file_name: str = "charthop-import.csv",
        upsert: bool = False,
        create_groups: bool = False,
        skip_errors: bool = False,
        import_dry_run: bool = False,
        disable_sync_hire_date: bool = False,
        disable_overwrite_person: bool = False,
        default_change_date: str | dt.date | None = None,
        notify_user_ids: Sequence[str] | None = None,
        notify_app_name: str | None = None,
        import_source: str | None = None,
    ) -> dict[str, Any]:
        """Upload a CSV to importDataCsv (``POST /v1/org/{org}/import/csv/data``) and return its Process.

        The six booleans that ChartHop's spec marks as required are always sent. The upload is sent once,
        never retried: ChartHop offers no idempotency key, so a repeated POST could import twice.

        :param content: the CSV file's bytes (UTF-8, header of field codes, identifier column first).
        :param file_name: file name given to the multipart part ``file``.
        :param upsert: create persons and jobs that match nothing.
        :param create_groups: create departments, locations and other groups that match nothing.
        :param skip_errors: import the valid rows and skip invalid ones; otherwise one invalid row rejects
            the whole file.
        :param import_dry_run: validate only; ChartHop changes nothing.
        :param disable_sync_hire_date: keep hire dates when start dates differ.
        :param disable_overwrite_person: only write person fields that are empty in ChartHop.
        :param default_change_date: effective date of rows without a ``Date`` column; ``None`` for today.
        :param notify_user_ids: ChartHop user ids e-mailed when the import completes.
        :param notify_app_name: app name shown in that e-mail.
        :param import_source: a label of the caller, stored with the process.
        """
        params = {
            "upsert": upsert,
            "createGroups": create_groups,
            "skipErrors": skip_errors,
            "importDryRun": import_dry_run,
            "disableSyncHireDate": disable_sync_hire_date,
            "disableOverwritePerson": disable_overwrite_person,
            "defaultChangeDate": format_date(default_change_date, name="default_change_date"),
            "notifyUserIds": ",".join(notify_user_ids) if notify_user_ids else None,
            "notifyAppName": notify_app_name,
            "importSource": import_source,
        }
        return self.request_json(
            "POST",
            f"{self.org_path('v1')}/import/csv/data",
            operation="importDataCsv",
            params=params,
            files={"file": (file_name, content, "text/csv")},
            hint="Writing into ChartHop needs the app's Primary Editor permission.",
            retry=False,
        )

    def get_process(self, process_id: str) -> dict[str, Any]:
        """Return a Process from getProcess (``GET /v1/org/{org}/process/{processId}``).

        :param process_id: the process id.
        """
        return self.request_json(
            "GET",
            f"{self.org_path('v1')}/process/{quote(str(process_id), safe='')}",
            operation="getProcess",
            hint=f"Process {process_id!r} may not exist in this org.",
        )

    def update_process(
        self,
        process_id: str,
        *,
        status: str | None = None,
        progress: float | None = None,
        message: str | None = None,
        results: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Change a process's status, progress (a 0 to 1 fraction) or message with updateProcess (PATCH).

        :param process_id: the process id.
        :param status: ``PENDING``, ``RUNNING``, ``DONE`` or ``ERROR``; ``None`` leaves it.
        :param progress: share of the work done, from 0 to 1; ``None`` leaves it.
        :param message: status or error message shown in ChartHop; ``None`` leaves it.
        :param results: results summary to store; ``None`` leaves it.
        """
        if progress is not None and not 0 <= progress <= 1:
            raise ChartHopConfigError(f"Invalid progress {progress!r}: use a fraction from 0 to 1.")
        body = {
            key: value
            for key, value in {"status": status, "progress": progress, "message": message, "results": results}.items()
            if value is not None
        }
        return self.request_json(
            "PATCH",
            f"{self.org_path('v1')}/process/{quote(str(process_id), safe='')}",
            operation="updateProcess",
            json_body=body,
            hint="Updating a ChartHop process needs the app's Primary Editor permission.",
        )

    def find_processes(self, *, limit: int = 100, **filters: Any) -> list[dict[str, Any]]:
        """Return the processes that findProcesses (``GET /v1/org/{org}/process``) lists for ``filters``.

        :param limit: processes per page, 100 by default; every page is read.
        :param filters: findProcesses query parameters, such as ``searchValue`` or ``createAtFrom``.
        """
        processes: list[dict[str, Any]] = []
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            body = self.request_json(
                "GET",
                f"{self.org_path('v1')}/process",
                operation="findProcesses",
                params={**filters, "limit": limit, "from": cursor},
            )
            processes.extend(body.get("data") or [])
            cursor = body.get("next") or None
            if cursor is None or cursor in seen:
                return processes
            seen.add(cursor)

    def find_users(self, *, q: str | None = None, ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Return the org's users from findUsers (``GET /v1/user?orgId=...``).

        :param q: substring of a user's names or e-mail.
        :param ids: user ids to look up.
        """
        users: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            body = self.request_json(
                "GET",
                "/v1/user",
                operation="findUsers",
                params={"orgId": self.org_id, "q": q, "ids": ",".join(ids) if ids else None, "from": cursor},
            )
            users.extend(body.get("data") or [])
            cursor = body.get("next") or None
            if cursor is None:
                return users

    def resolve_user_ids(self, users: Sequence[str]) -> list[str]:
        """Turn user ids or e-mail addresses into ChartHop user ids, looking e-mails up with findUsers.

        :param users: user ids, e-mail addresses, or both.
        :raises ChartHopConfigError: when an e-mail matches no user of the org.
        """
        resolved: list[str] = []
        for user in users:
            user = user.strip()
            if "@" not in user:
                resolved.append(user)
                continue
            matches = [found for found in self.find_users(q=user) if str(found.get("email", "")).lower() == user.lower()]
            if not matches:
                raise ChartHopConfigError(
                    f"No ChartHop user of org '{self.org_id}' has the e-mail {user!r}. Check notify_user_ids: "
                    "give user ids, or e-mails of users who joined the org."
                )
            resolved.append(str(matches[0]["id"]))
        return resolved

    def org_url(self) -> str:
        """Return the org's page in ChartHop's web app: ``app.`` in place of ``api.`` in the host, then the org."""
        self.get_conn()
        return f"{self.base_url.replace('://api.', '://app.', 1)}/{quote(self.org_id, safe='')}"

    def process_url(self, process_id: str) -> str:
        """Return a link to a process in ChartHop's web app."""
        # NOTE: the web app's path for one process is not documented; this link is a best guess.
        return f"{self.org_url()}/process/{quote(str(process_id), safe='')}"

    def test_connection(self) -> tuple[bool, str]:
        """Check the token, the org and read access by counting the org's jobs; used by the UI's Test button.

        Makes at most 2 tries within 20 s, whatever the connection's retry settings, so the button responds fast.
        """
        try:
            self.get_conn()
        except ChartHopConfigError as error:
            return False, self._redact(str(error))
        attempts, deadline = self.max_attempts, self.retry_deadline
        self.max_attempts, self.retry_deadline = 2, 20.0
        try:
            count = self.count_jobs()
        except (ChartHopApiError, ChartHopConfigError) as error:
            return False, self._redact(str(error))
        except Exception as error:
            return False, self._redact(f"Could not reach ChartHop at {self.base_url or self.default_host}: {error}")
        finally:
            self.max_attempts, self.retry_deadline = attempts, deadline
        return True, f"Connected to ChartHop org '{self._org_id}' at {self.base_url}: {count} jobs today."


def base_url_of(connection: Any) -> str:
    """Return the API base URL of a ``charthop`` connection: its host (a bare host name or a URL), schema
    (https by default) and port, or ``https://api.charthop.com`` when the host is empty."""
    host = (connection.host or ChartHopHook.default_host).strip().rstrip("/")
    base_url = host if "://" in host else f"{connection.schema or 'https'}://{host}"
    if connection.port:
        base_url = f"{base_url}:{connection.port}"
    return base_url


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _row_id(row: Any, page_number: int) -> str:
    job_id = row.get("jobId") if isinstance(row, Mapping) else None
    if job_id in (None, ""):
        raise ChartHopApiError(
            f"A row on ChartHop findJobs page {page_number} has no jobId: {json.dumps(row)[:200]}"
        )
    return str(job_id)
