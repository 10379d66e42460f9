"""Sensor that waits for a ChartHop process, such as a CSV import, to finish."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.configuration import conf
from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowSensorTimeout

from charthop.constants import DEFAULT_CHARTHOP_CONN_ID
from charthop.exceptions import ChartHopConfigError, ChartHopProcessTimeoutError
from charthop.links import ChartHopProcessLink
from charthop.process import ROW_ERROR_POLICIES, check_finished, check_trigger_event, describe, is_finished

if TYPE_CHECKING:
    from airflow.sdk import Context


class ChartHopProcessSensor(BaseSensorOperator):
    """Wait until a ChartHop process finishes; succeed on DONE and fail on ERROR or an unknown status.

    Poke, reschedule and deferrable modes apply the same rules (``charthop.process``). Each poll logs the
    status, progress and message. A DONE process that rejected rows follows ``row_error_policy``.

    :param process_id: the ChartHop process id. (templated)
    :param charthop_conn_id: ChartHop connection id, ``charthop_default`` by default.
    :param row_error_policy: ``fail`` (the default) fails the task listing the rejected rows; ``warn``
        logs them and succeeds. (templated)
    :param deferrable: wait in the triggerer instead of a worker slot; defaults to the Airflow setting
        ``[operators] default_deferrable``. ``mode`` is ignored when this is true.
    :param poke_interval: seconds between polls (inherited), 60 by default.
    :param timeout: seconds to wait before failing with the last status seen (inherited).
    """

    operator_extra_links = (ChartHopProcessLink(),)
    template_fields: Sequence[str] = ("process_id", "row_error_policy")

    def __init__(
        self,
        *,
        process_id: str,
        charthop_conn_id: str = DEFAULT_CHARTHOP_CONN_ID,
        row_error_policy: str = "fail",
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.process_id = process_id
        self.charthop_conn_id = charthop_conn_id
        self.row_error_policy = row_error_policy
        self.deferrable = deferrable
        self._last_process: dict[str, Any] | None = None

    def _validate(self) -> None:
        if not self.process_id or not str(self.process_id).strip() or str(self.process_id) == "None":
            raise ChartHopConfigError(
                f"Task {self.task_id} has no process id (got {self.process_id!r}). Check the template that "
                "pulls it, such as {{ ti.xcom_pull(task_ids='upload', key='process_id') }}."
            )
        if self.row_error_policy not in ROW_ERROR_POLICIES:
            raise ChartHopConfigError(
                f"Invalid row_error_policy {self.row_error_policy!r}: use one of {', '.join(ROW_ERROR_POLICIES)}."
            )

    def _hook(self) -> Any:
        # Imported here, not at module level, so that parsing a DAG file stays cheap.
        from charthop.hooks.charthop import ChartHopHook

        return ChartHopHook(self.charthop_conn_id)

    def poke(self, context: Context) -> bool:
        process = self._hook().get_process(str(self.process_id))
        self._last_process = process
        self.log.info("ChartHop process %s: %s", self.process_id, describe(process))
        if not is_finished(process):
            return False
        check_finished(process, row_error_policy=self.row_error_policy, log=self.log)
        return True

    def _timeout_error(self) -> ChartHopProcessTimeoutError:
        seen = describe(self._last_process) if self._last_process else "no answer from getProcess"
        return ChartHopProcessTimeoutError(
            f"ChartHop process {self.process_id} did not finish within {self.timeout:.0f} s; last seen: {seen}. "
            "A retry of this task resumes waiting on the same process; raise the timeout for large imports."
        )

    def execute(self, context: Context) -> Any:
        self._validate()
        ChartHopProcessLink.persist(context, self._hook().process_url(str(self.process_id)))
        if not self.deferrable:
            try:
                return super().execute(context)
            except AirflowSensorTimeout:
                raise self._timeout_error() from None
        if self.poke(context):
            return None
        from charthop.triggers.process import ChartHopProcessTrigger

        self.defer(
            trigger=ChartHopProcessTrigger(
                charthop_conn_id=self.charthop_conn_id,
                process_id=str(self.process_id),
                end_time=time.time() + float(self.timeout),
                poll_interval=float(self.poke_interval),
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> None:
        """Finish the task from the trigger's event: succeed, or raise what the event reports."""
        process = check_trigger_event(
            event, row_error_policy=self.row_error_policy, timeout=float(self.timeout), log=self.log
        )
        self.log.info("ChartHop process %s finished: %s", self.process_id, describe(process))
