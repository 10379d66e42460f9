"""Operator that reports status, progress and a message on a ChartHop process (updateProcess)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from charthop.constants import DEFAULT_CHARTHOP_CONN_ID
from charthop.exceptions import ChartHopConfigError

if TYPE_CHECKING:
    from airflow.sdk import Context

#: Statuses an app may set on a process; DONE_WITH_ERRORS is only a filter value in ChartHop's API.
SETTABLE_STATUSES = ("PENDING", "RUNNING", "DONE", "ERROR")


class ChartHopUpdateProcessOperator(BaseOperator):
    """Set a ChartHop process's status, progress or message, as an app does while it runs a Sync Now.

    :param process_id: the process to update. (templated)
    :param status: ``PENDING``, ``RUNNING``, ``DONE`` or ``ERROR``; ``None`` (the default) leaves it. (templated)
    :param progress: share of the work done, a fraction from 0 to 1; ``None`` leaves it. (templated)
    :param message: message shown on the process in ChartHop; ``None`` leaves it. (templated)
    :param charthop_conn_id: ChartHop connection id, ``charthop_default`` by default.
    """

    template_fields: Sequence[str] = ("process_id", "status", "progress", "message")

    def __init__(
        self,
        *,
        process_id: str,
        status: str | None = None,
        progress: float | str | None = None,
        message: str | None = None,
        charthop_conn_id: str = DEFAULT_CHARTHOP_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.process_id = process_id
        self.status = status
        self.progress = progress
        self.message = message
        self.charthop_conn_id = charthop_conn_id

    def execute(self, context: Context) -> None:
        from charthop.hooks.charthop import ChartHopHook

        status = str(self.status).upper() if self.status not in (None, "") else None
        if status is not None and status not in SETTABLE_STATUSES:
            raise ChartHopConfigError(f"Invalid status {self.status!r}: use one of {', '.join(SETTABLE_STATUSES)}.")
        progress: float | None = None
        if self.progress not in (None, ""):
            try:
                progress = float(self.progress)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise ChartHopConfigError(f"Invalid progress {self.progress!r}: use a fraction from 0 to 1.") from None
        if not self.process_id or str(self.process_id) == "None":
            raise ChartHopConfigError(f"Task {self.task_id} has no process id (got {self.process_id!r}).")
        ChartHopHook(self.charthop_conn_id).update_process(
            str(self.process_id), status=status, progress=progress, message=self.message or None
        )
        self.log.info(
            "Updated ChartHop process %s: status %s, progress %s, message %s",
            self.process_id,
            status or "unchanged",
            "unchanged" if progress is None else f"{progress:.0%}",
            self.message or "unchanged",
        )
