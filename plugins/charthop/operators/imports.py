"""Operator that uploads a CSV to ChartHop's bulk importer and, optionally, waits for the import."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.configuration import conf
from airflow.sdk import BaseOperator

from charthop.constants import DEFAULT_CHARTHOP_CONN_ID
from charthop.exceptions import ChartHopConfigError, ChartHopProcessTimeoutError
from charthop.links import ChartHopProcessLink
from charthop.process import ROW_ERROR_POLICIES, check_finished, check_trigger_event, describe, is_finished

if TYPE_CHECKING:
    from airflow.sdk import Context

    from charthop.hooks.charthop import ChartHopHook


#: Start of the run marker in ``importSource``. Change events that carry it come from this package's own
#: imports, and the webhook receiver skips them so that a push cannot start an endless loop of updates.
IMPORT_SOURCE_MARKER = "charthop-airflow-run:"


def run_marker(context: Context) -> str:
    """Return the text that identifies this task in this DAG run, sent in ``importSource``."""
    ti = context["ti"]
    marker = f"{IMPORT_SOURCE_MARKER}{ti.dag_id}:{ti.run_id}:{ti.task_id}"
    map_index = getattr(ti, "map_index", -1)
    return marker if map_index in (None, -1) else f"{marker}:{map_index}"


class ChartHopImportCsvOperator(BaseOperator):
    """Upload a CSV to importDataCsv once per DAG run and push the process id and URL to XCom.

    ChartHop offers no idempotency key, so a retry of this task looks for the process an earlier try of
    the same run started (findProcesses, matched on ``importSource``) and reuses it instead of posting
    the file again. With ``wait_for_completion`` the task also waits for the import, in a worker or in
    the triggerer (``deferrable``), with the same rules as ``ChartHopProcessSensor``.

    :param csv_path: path of the CSV to upload: UTF-8, a header of ChartHop field codes, the identifier
        column first. (templated)
    :param charthop_conn_id: ChartHop connection id, ``charthop_default`` by default.
    :param upsert: create persons and jobs that match nothing; ``False`` by default.
    :param create_groups: create departments and other groups that match nothing; ``False`` by default.
    :param skip_errors: import valid rows and skip invalid ones; ``False`` (one bad row rejects the file).
        (templated)
    :param import_dry_run: validate in ChartHop without changing anything; ``False`` by default.
        (templated: a DAG with ``render_template_as_native_obj`` can pass ``{{ params.dry_run }}``)
    :param disable_sync_hire_date: keep hire dates when start dates differ; ``False`` by default.
    :param disable_overwrite_person: only fill person fields that are empty; ``False`` by default.
    :param default_change_date: effective date of rows without a ``Date`` column, ``YYYY-MM-DD``;
        ``None`` for ChartHop's today. (templated)
    :param notify_user_ids: ChartHop user ids or e-mails (resolved with findUsers) to e-mail when the
        import completes. (templated)
    :param notify_app_name: app name shown in that e-mail.
    :param import_source: label sent in ``importSource`` before the run marker; ``airflow`` by default.
        (templated)
    :param wait_for_completion: wait for the import to finish; ``False`` by default.
    :param deferrable: wait in the triggerer; defaults to ``[operators] default_deferrable``.
    :param poll_interval: seconds between polls while waiting, 10 by default.
    :param wait_timeout: seconds to wait for the import, 3,600 by default.
    :param row_error_policy: ``fail`` (the default) or ``warn`` for an import that rejected rows.
    :return: the process id.
    """

    operator_extra_links = (ChartHopProcessLink(),)
    template_fields: Sequence[str] = (
        "csv_path",
        "skip_errors",
        "import_dry_run",
        "default_change_date",
        "notify_user_ids",
        "import_source",
    )

    def __init__(
        self,
        *,
        csv_path: str,
        charthop_conn_id: str = DEFAULT_CHARTHOP_CONN_ID,
        upsert: bool = False,
        create_groups: bool = False,
        skip_errors: bool = False,
        import_dry_run: bool = False,
        disable_sync_hire_date: bool = False,
        disable_overwrite_person: bool = False,
        default_change_date: str | None = None,
        notify_user_ids: str | Sequence[str] | None = None,
        notify_app_name: str | None = None,
        import_source: str = "airflow",
        wait_for_completion: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 10.0,
        wait_timeout: float = 3600.0,
        row_error_policy: str = "fail",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.csv_path = csv_path
        self.charthop_conn_id = charthop_conn_id
        self.upsert = upsert
        self.create_groups = create_groups
        self.skip_errors = skip_errors
        self.import_dry_run = import_dry_run
        self.disable_sync_hire_date = disable_sync_hire_date
        self.disable_overwrite_person = disable_overwrite_person
        self.default_change_date = default_change_date
        self.notify_user_ids = notify_user_ids
        self.notify_app_name = notify_app_name
        self.import_source = import_source
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.wait_timeout = wait_timeout
        self.row_error_policy = row_error_policy

    def _validate(self) -> Path:
        if self.row_error_policy not in ROW_ERROR_POLICIES:
            raise ChartHopConfigError(
                f"Invalid row_error_policy {self.row_error_policy!r}: use one of {', '.join(ROW_ERROR_POLICIES)}."
            )
        if self.poll_interval <= 0 or self.wait_timeout <= 0:
            raise ChartHopConfigError("poll_interval and wait_timeout must be positive numbers of seconds.")
        for name in ("skip_errors", "import_dry_run"):
            if not isinstance(getattr(self, name), bool):
                raise ChartHopConfigError(
                    f"Invalid {name} {getattr(self, name)!r}: use True or False (a template must render a "
                    "boolean, which needs render_template_as_native_obj=True on the DAG)."
                )
        path = Path(str(self.csv_path))
        if not path.is_file():
            raise ChartHopConfigError(f"CSV file {path} not found. Check csv_path of task {self.task_id}.")
        if path.stat().st_size == 0:
            raise ChartHopConfigError(f"CSV file {path} is empty; nothing would be imported.")
        return path

    def _notify_list(self) -> list[str]:
        if not self.notify_user_ids:
            return []
        if isinstance(self.notify_user_ids, str):
            return [item for item in (part.strip() for part in self.notify_user_ids.split(",")) if item]
        return [str(item) for item in self.notify_user_ids]

    def _earlier_process(self, hook: ChartHopHook, marker: str) -> dict[str, Any] | None:
        # NOTE: whether the real findProcesses matches searchValue against options.importSource is not
        # documented; the emulator does, and the result is checked against the marker here anyway.
        for process in hook.find_processes(searchValue=marker):
            if marker in str((process.get("options") or {}).get("importSource", "")):
                return process
        return None

    def execute(self, context: Context) -> str:
        # Imported here, not at module level, so that parsing a DAG file stays cheap.
        from charthop.hooks.charthop import ChartHopHook
        from charthop.triggers.process import ChartHopProcessTrigger

        path = self._validate()
        hook = ChartHopHook(self.charthop_conn_id)
        marker = run_marker(context)
        process = self._earlier_process(hook, marker) if context["ti"].try_number > 1 else None
        if process is not None:
            self.log.info(
                "Reusing ChartHop process %s that an earlier try of this run started; not uploading again",
                process["id"],
            )
        else:
            content = path.read_bytes()
            notify = hook.resolve_user_ids(self._notify_list())
            self.log.info("Uploading %s (%d bytes) to ChartHop importDataCsv", path, len(content))
            process = hook.import_csv(
                content,
                file_name=path.name,
                upsert=self.upsert,
                create_groups=self.create_groups,
                skip_errors=self.skip_errors,
                import_dry_run=self.import_dry_run,
                disable_sync_hire_date=self.disable_sync_hire_date,
                disable_overwrite_person=self.disable_overwrite_person,
                default_change_date=self.default_change_date or None,
                notify_user_ids=notify,
                notify_app_name=self.notify_app_name,
                import_source=f"{self.import_source} {marker}",
            )

        process_id = str(process["id"])
        context["ti"].xcom_push(key="process_id", value=process_id)
        context["ti"].xcom_push(key="process_url", value=hook.process_url(process_id))
        ChartHopProcessLink.persist(context, hook.process_url(process_id))
        self.log.info("ChartHop import process %s: %s", process_id, describe(process))
        if not self.wait_for_completion:
            return process_id

        if self.deferrable:
            self.defer(
                trigger=ChartHopProcessTrigger(
                    charthop_conn_id=self.charthop_conn_id,
                    process_id=process_id,
                    end_time=time.time() + self.wait_timeout,
                    poll_interval=self.poll_interval,
                ),
                method_name="execute_complete",
            )
        deadline = time.monotonic() + self.wait_timeout
        while not is_finished(process):
            if time.monotonic() >= deadline:
                raise ChartHopProcessTimeoutError(
                    f"ChartHop process {process_id} did not finish within {self.wait_timeout:.0f} s; last seen: "
                    f"{describe(process)}. A retry of this task resumes waiting on the same process."
                )
            time.sleep(min(self.poll_interval, max(0.0, deadline - time.monotonic())))
            process = hook.get_process(process_id)
            self.log.info("ChartHop process %s: %s", process_id, describe(process))
        check_finished(process, row_error_policy=self.row_error_policy, log=self.log)
        return process_id

    def execute_complete(self, context: Context, event: dict[str, Any]) -> str:
        """Finish the task from the trigger's event: return the process id, or raise what went wrong."""
        process = check_trigger_event(
            event, row_error_policy=self.row_error_policy, timeout=self.wait_timeout, log=self.log
        )
        self.log.info("ChartHop process %s finished: %s", process.get("id"), describe(process))
        return str(process.get("id"))
