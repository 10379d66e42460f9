"""Trigger that waits, in the triggerer, for a ChartHop process to finish."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp
from airflow.sdk import BaseHook
from airflow.triggers.base import BaseTrigger, TriggerEvent

from charthop.hooks.charthop import RETRYABLE_STATUSES, base_url_of
from charthop.process import describe, is_finished


class ChartHopProcessTrigger(BaseTrigger):
    """Poll getProcess until the process is finished or the deadline passes, then yield one event.

    The event's ``status`` is ``finished`` (with the ``process``), ``timeout`` (with the last ``process``
    seen, or ``None``) or ``error`` (with a ``message``, for any other status of 400 or more). Retryable responses (429, 5xx,
    202) and transport errors are logged and polled again. Only the connection id is serialised; the
    token is read from the connection inside the triggerer.

    :param charthop_conn_id: ChartHop connection id.
    :param process_id: the process to wait for.
    :param end_time: wall-clock deadline as a Unix timestamp in seconds. A wall-clock time, not a
        monotonic one, because the trigger may resume in another triggerer process.
    :param poll_interval: seconds between two polls, 10 by default.
    :param request_timeout: seconds to wait for each response, 60 by default.
    """

    def __init__(
        self,
        *,
        charthop_conn_id: str,
        process_id: str,
        end_time: float,
        poll_interval: float = 10.0,
        request_timeout: float = 60.0,
    ) -> None:
        super().__init__()
        self.charthop_conn_id = charthop_conn_id
        self.process_id = process_id
        self.end_time = end_time
        self.poll_interval = poll_interval
        self.request_timeout = request_timeout

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "charthop.triggers.process.ChartHopProcessTrigger",
            {
                "charthop_conn_id": self.charthop_conn_id,
                "process_id": self.process_id,
                "end_time": self.end_time,
                "poll_interval": self.poll_interval,
                "request_timeout": self.request_timeout,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        connection = await BaseHook.aget_connection(self.charthop_conn_id)
        org = str(connection.extra_dejson.get("org_id") or "")
        url = f"{base_url_of(connection)}/v1/org/{quote(org, safe='')}/process/{quote(self.process_id, safe='')}"
        headers = {"Authorization": f"Bearer {connection.password or ''}", "Accept": "application/json"}
        timeout = aiohttp.ClientTimeout(total=self.request_timeout)
        last: dict[str, Any] | None = None
        async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:
            while True:
                if time.time() >= self.end_time:
                    yield TriggerEvent({"status": "timeout", "process_id": self.process_id, "process": last})
                    return
                try:
                    async with session.get(url) as response:
                        if response.status in RETRYABLE_STATUSES:
                            self.log.warning(
                                "getProcess %s returned HTTP %s; polling again", self.process_id, response.status
                            )
                        elif response.status >= 400:
                            detail = (await response.text())[:300]
                            yield TriggerEvent(
                                {
                                    "status": "error",
                                    "process_id": self.process_id,
                                    "message": f"ChartHop getProcess for process {self.process_id} failed with "
                                    f"HTTP {response.status} ({detail}). Check the connection "
                                    f"'{self.charthop_conn_id}' and the process id.",
                                }
                            )
                            return
                        else:
                            last = await response.json(content_type=None)
                            self.log.info("ChartHop process %s: %s", self.process_id, describe(last))
                            if is_finished(last):
                                yield TriggerEvent({"status": "finished", "process_id": self.process_id, "process": last})
                                return
                except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                    self.log.warning("getProcess %s failed (%s); polling again", self.process_id, type(error).__name__)
                await asyncio.sleep(max(0.0, min(self.poll_interval, self.end_time - time.time())))
