"""Webhook notifications: ChartHop events POSTed to the installed app's URL from a background thread.

ChartHop sends events "within a few seconds" of the change to the URL configured for the app. The
emulator builds the REST ``Event`` shape (camelCase) or, when asked, the lower-case envelope of the
third-party AsyncAPI description, posts it once plus any configured redeliveries, and records every
delivery attempt.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from charthop_emulator.processes import iso_timestamp, new_id

logger = logging.getLogger("charthop_emulator")

DEFAULT_SIGNATURE_HEADER = "X-Charthop-Signature"
DEFAULT_APP_NAME = "airflow"
DELIVERY_TIMEOUT_SECONDS = 3.0
MAX_REDELIVERIES = 10
DELIVERY_LOG_MAX = 10_000
# Deliveries go straight to the configured URL, never through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_CONFIG_KEYS = frozenset({"url", "secret", "signature_header", "lowercase_keys", "redeliveries", "app_name"})


class WebhookConfigError(ValueError):
    """An invalid webhook configuration; the message names the field."""


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """Delivery settings: URL, signature, key casing, redeliveries and app name.

    ``secret`` is never logged or returned by the admin API.
    """

    url: str
    secret: str | None = None
    signature_header: str = DEFAULT_SIGNATURE_HEADER
    lowercase_keys: bool = False
    redeliveries: int = 0
    app_name: str = DEFAULT_APP_NAME

    def describe(self) -> dict[str, Any]:
        return {"url": self.url, "secret_set": self.secret is not None, "signature_header": self.signature_header,
                "lowercase_keys": self.lowercase_keys, "redeliveries": self.redeliveries, "app_name": self.app_name}


def parse_config(payload: Any) -> WebhookConfig:
    """Build a WebhookConfig from the admin API's JSON body.

    :raises WebhookConfigError: naming the first invalid or unknown field.
    """
    if not isinstance(payload, dict):
        raise WebhookConfigError("invalid body: expected a JSON object with at least \"url\"")
    unknown = sorted(set(payload) - _CONFIG_KEYS)
    if unknown:
        raise WebhookConfigError(f"unknown field {unknown[0]!r}; expected {', '.join(sorted(_CONFIG_KEYS))}")
    url = payload.get("url")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise WebhookConfigError("invalid url: expected an http:// or https:// URL")
    secret = payload.get("secret")
    if secret is not None and (not isinstance(secret, str) or not secret):
        raise WebhookConfigError("invalid secret: expected a non-empty string or null")
    header = payload.get("signature_header", DEFAULT_SIGNATURE_HEADER)
    if not isinstance(header, str) or not header.strip() or any(ch in header for ch in ":\r\n "):
        raise WebhookConfigError("invalid signature_header: expected an HTTP header name")
    lowercase = payload.get("lowercase_keys", False)
    if not isinstance(lowercase, bool):
        raise WebhookConfigError("invalid lowercase_keys: expected true or false")
    redeliveries = payload.get("redeliveries", 0)
    if isinstance(redeliveries, bool) or not isinstance(redeliveries, int) or not 0 <= redeliveries <= MAX_REDELIVERIES:
        raise WebhookConfigError(f"invalid redeliveries: expected an integer from 0 to {MAX_REDELIVERIES}")
    app_name = payload.get("app_name", DEFAULT_APP_NAME)
    if not isinstance(app_name, str) or not app_name.strip():
        raise WebhookConfigError("invalid app_name: expected a non-empty string")
    return WebhookConfig(url=url, secret=secret, signature_header=header.strip(), lowercase_keys=lowercase,
                         redeliveries=redeliveries, app_name=app_name.strip())


def make_event(*, org_id: str, user_id: str, event_type: str, entity_type: str, entity_id: str, subtype: str,
               payload: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Build an event in the REST ``Event`` shape; ``code`` is entity.type.subtype in lower case."""
    event = {"id": new_id(), "orgId": org_id, "userId": user_id, "type": event_type, "subtype": subtype,
             "entityType": entity_type, "entityId": entity_id,
             "code": f"{entity_type.lower()}.{event_type.lower()}.{subtype}", "at": iso_timestamp(),
             "payload": payload}
    event.update({key: value for key, value in extra.items() if value is not None})
    return event


def sign(secret: str, body: bytes) -> str:
    """Return base64(HMAC-SHA256(secret, body))."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def _envelope(event: dict[str, Any], config: WebhookConfig, app_id: str | None) -> dict[str, Any]:
    """Shape the event for delivery: camelCase, or lower-case keys plus appid and appname."""
    if not config.lowercase_keys:
        return event
    envelope = {key.lower(): value for key, value in event.items()}
    envelope["appid"] = app_id
    envelope["appname"] = config.app_name
    return envelope


def _safe_url(url: str) -> str:
    """Drop the query and any user info, which may hold credentials, before a URL is logged."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"


class WebhookDispatcher:
    """Holds the webhook configuration, queues events and delivers them from one daemon thread."""

    def __init__(self, startup_config: WebhookConfig | None = None, app_name: str = DEFAULT_APP_NAME,
                 app_id: str | None = None) -> None:
        self.startup_config = startup_config
        self.startup_app_name = app_name
        self.app_id = app_id
        self.config = startup_config
        self._lock = threading.Lock()
        self._deliveries: list[dict[str, Any]] = []
        self._events: list[dict[str, Any]] = []
        self._queue: queue.Queue[tuple[int, dict[str, Any], WebhookConfig]] = queue.Queue()
        self._generation = 0
        self._worker: threading.Thread | None = None
        self._failures = 0

    @property
    def app_name(self) -> str:
        """The app name of process.create.<app name>: the configured one, else the startup one."""
        config = self.config
        return config.app_name if config is not None else self.startup_app_name

    def configure(self, config: WebhookConfig | None) -> None:
        with self._lock:
            self.config = config
        if config is None:
            logger.info("Webhooks turned off")
        else:
            logger.info("Webhooks go to %s (signed: %s, lower-case keys: %s, redeliveries: %d)",
                        _safe_url(config.url), config.secret is not None, config.lowercase_keys,
                        config.redeliveries)

    def emit(self, event: dict[str, Any]) -> None:
        """Record the event and queue it for delivery when webhooks are on."""
        with self._lock:
            self._events.append(copy.deepcopy(event))
            del self._events[:-DELIVERY_LOG_MAX]
            config, generation = self.config, self._generation
            if config is None:
                return
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="charthop-webhooks", daemon=True)
                self._worker.start()
        self._queue.put((generation, event, config))

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {"config": None if self.config is None else self.config.describe(),
                    "app_name": self.app_name, "deliveries": copy.deepcopy(self._deliveries),
                    "events": copy.deepcopy(self._events)}

    def deliveries(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._deliveries)

    def clear_deliveries(self) -> None:
        with self._lock:
            self._deliveries.clear()
            self._events.clear()

    def reset(self) -> None:
        """Restore the startup configuration, forget deliveries and drop queued events."""
        with self._lock:
            self._generation += 1
            self.config = self.startup_config
            self._deliveries.clear()
            self._events.clear()

    def _run(self) -> None:
        while True:
            generation, event, config = self._queue.get()
            envelope = _envelope(event, config, self.app_id)
            body = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
            for attempt in range(1 + config.redeliveries):
                with self._lock:
                    if generation != self._generation:
                        break
                record = self._deliver(body, envelope, event, config, attempt)
                with self._lock:
                    if generation != self._generation:
                        break
                    self._deliveries.append(record)
                    del self._deliveries[:-DELIVERY_LOG_MAX]

    def _deliver(self, body: bytes, envelope: dict[str, Any], event: dict[str, Any], config: WebhookConfig,
                 attempt: int) -> dict[str, Any]:
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "charthop-emulator"}
        signature = sign(config.secret, body) if config.secret is not None else None
        if signature is not None:
            # NOTE: ChartHop documents no webhook signature; this header follows a third-party draft
            # (Pipedream's ChartHop source), base64 of HMAC-SHA256 over the raw body.
            headers[config.signature_header] = signature
        request = urllib.request.Request(config.url, data=body, headers=headers, method="POST")
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            with _OPENER.open(request, timeout=DELIVERY_TIMEOUT_SECONDS) as response:
                status = response.status
        except urllib.error.HTTPError as failure:
            status = failure.code
            error = f"HTTP {failure.code}"
        except (urllib.error.URLError, OSError) as failure:
            error = f"{type(failure).__name__}: {getattr(failure, 'reason', failure)}"
        if error is not None:
            self._failures += 1
            if self._failures == 1 or self._failures % 50 == 0:
                logger.warning("Webhook delivery of event %s to %s failed: %s (%d failed deliveries so far)",
                               event["id"], _safe_url(config.url), error, self._failures)
        return {"event_id": event["id"], "code": event["code"], "url": config.url, "attempt": attempt,
                "status": status, "error": error, "at": iso_timestamp(),
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                "signature_header": config.signature_header if signature is not None else None,
                "signature": signature, "body": body.decode("utf-8"), "event": envelope}
