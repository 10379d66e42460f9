"""The task chain of a payroll push, shared by the ``charthop_payroll_import`` and ``charthop_sync_now`` DAGs.

Call ``payroll_import_tasks()`` inside a ``DAG`` context that has the params of ``PAYROLL_PARAMS``.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from airflow.configuration import conf
from airflow.sdk import Param, task

from charthop.operators.imports import ChartHopImportCsvOperator
from charthop.sensors.process import ChartHopProcessSensor



def payroll_folder() -> Path:
    """Folder of the example export and mapping: ``$CHARTHOP_PAYROLL_DIR``, else ``include/payroll`` next
    to the DAGs folder (the layout of this repository and of its docker compose set-up)."""
    configured = os.environ.get("CHARTHOP_PAYROLL_DIR")
    if configured:
        return Path(configured)
    return Path(conf.get("core", "dags_folder")).resolve().parent / "include" / "payroll"


#: XCom key under which a failed step keeps its error message for the Sync Now run's final report.
ERROR_XCOM_KEY = "charthop_error"


def remember_failure(context: dict[str, Any]) -> None:
    """Task failure callback: keep the error message in XCom for the run's final report to ChartHop."""
    error = context.get("exception")
    try:
        context["ti"].xcom_push(key=ERROR_XCOM_KEY, value=f"{type(error).__name__}: {error}"[:1000])
    except Exception as push_error:  # noqa: BLE001 - a callback must not hide the task's own failure
        logging.getLogger(__name__).warning(
            "Could not store the failure message of %s: %s", context["ti"].task_id, push_error
        )


def work_dir() -> Path:
    """Folder for import CSVs: ``$CHARTHOP_WORK_DIR``, else ``charthop`` in the system temp folder."""
    return Path(os.environ.get("CHARTHOP_WORK_DIR", Path(tempfile.gettempdir()) / "charthop"))


def payroll_params() -> dict[str, Param]:
    """Return the run params of a payroll push, with the example export and mapping as defaults."""
    folder = payroll_folder()
    return {
        "payroll_path": Param(os.environ.get("CHARTHOP_PAYROLL_PATH", str(folder / "payroll_clean.csv")), type="string"),
        "payroll_table": Param("", type="string"),
        "mapping_path": Param(str(folder / "mapping.yaml"), type="string"),
        "dry_run": Param(False, type="boolean"),
        "allow_large_change": Param(False, type="boolean"),
        "max_change_share": Param(0.2, type="number", minimum=0, maximum=1),
    }


def payroll_import_tasks(*, poke_interval: float = 10.0, wait_timeout: float = 3600.0) -> tuple[Any, Any]:
    """Create validate → diff → guard → upload → wait → audit in the current DAG; return the first and last.

    :param poke_interval: seconds between polls of the import process, 10 by default.
    :param wait_timeout: seconds to wait for the import process, 3,600 by default.
    """

    @task
    def validate_payroll(params: dict, **context: Any) -> dict:
        """Read and validate the payroll export; fail listing every problem before anything is sent."""
        from charthop.payroll.pipeline import report_progress, run_date, validate

        day = run_date(context)
        result = validate(params, ds=day.isoformat(), ds_nodash=day.strftime("%Y%m%d"))
        report_progress(context, 0.25, f"Payroll validated: {result['rows']} rows")
        return result

    @task
    def diff_with_roster(source: dict, run_id: str, **context: Any) -> dict:
        """Diff the payroll rows against the current roster and write the import CSV of the changes."""
        from charthop.payroll.pipeline import diff_and_write, report_progress

        changes = diff_and_write(source, work_dir=work_dir(), run_id=run_id)
        report_progress(context, 0.45, f"{changes['new']} new and {changes['changed']} changed people found")
        return changes

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def guard(changes: dict, params: dict, **context: Any) -> bool:
        """Stop a suspiciously large change set; skip the upload when nothing changed."""
        from charthop.payroll.pipeline import guard_changes, report_progress

        send = guard_changes(changes, params)
        report_progress(context, 0.55, f"Uploading {changes['rows_to_send']} rows" if send else "Nothing to send")
        return send

    upload = ChartHopImportCsvOperator(
        task_id="upload",
        csv_path="{{ ti.xcom_pull(task_ids='diff_with_roster')['csv_path'] }}",
        upsert=True,
        create_groups=False,
        skip_errors=False,
        import_dry_run="{{ params.dry_run }}",
        default_change_date="{{ (dag_run.logical_date or dag_run.run_after).strftime('%Y-%m-%d') }}",
        notify_app_name="Airflow payroll import",
    )

    wait = ChartHopProcessSensor(
        task_id="wait_for_import",
        process_id="{{ ti.xcom_pull(task_ids='upload', key='process_id') }}",
        deferrable=True,
        poke_interval=poke_interval,
        timeout=wait_timeout,
    )

    @task(trigger_rule="all_done")
    def audit(**context: Any) -> dict:
        """Record the run in charthop_payroll_audit, then fail if any step before it failed."""
        from charthop.payroll.pipeline import record_audit

        return record_audit(context)

    first = validate_payroll()
    changes = diff_with_roster(first)
    last = audit()
    guard(changes) >> upload >> wait >> last
    return first, last
