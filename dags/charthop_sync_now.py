"""ChartHop "Sync Now": run the payroll push and report its progress on the ChartHop process.

When a user presses Sync Now on the app's page, ChartHop creates a process and sends the webhook event
``process.create.<app name>``. The receiver then starts this DAG with conf ``process_id``. The run marks the
process RUNNING, reports progress (a 0 to 1 fraction) and a message after each stage of the payroll push,
and ends it DONE. On any failure, a killed task included, the final task (trigger rule ``all_done``)
marks the process ERROR with the failure message. The payroll params (``payroll_path`` and the rest)
keep the defaults of ``charthop_payroll_import``; ``CHARTHOP_PAYROLL_PATH`` sets the export's path.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import DAG, Param, task

from charthop.operators.process import ChartHopUpdateProcessOperator
from charthop.payroll.tasks import payroll_import_tasks, payroll_params, remember_failure

with DAG(
    dag_id="charthop_sync_now",
    description="Payroll push started by ChartHop's Sync Now button, with progress reported to ChartHop",
    schedule=None,
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 0, "on_failure_callback": remember_failure},
    render_template_as_native_obj=True,
    tags=["charthop"],
    doc_md=__doc__,
    params={**payroll_params(), "process_id": Param("", type="string", description="ChartHop process id")},
):
    start = ChartHopUpdateProcessOperator(
        task_id="start",
        process_id="{{ params.process_id }}",
        status="RUNNING",
        progress=0.05,
        message="Sync started by Airflow run {{ run_id }}",
    )
    first, last = payroll_import_tasks(poke_interval=2.0)

    @task(trigger_rule="all_done")
    def finish(**context: Any) -> dict:
        """Mark the process DONE, or ERROR with the failure message."""
        from charthop.payroll.pipeline import finish_sync

        return finish_sync(context)

    start >> first
    last >> finish()
