"""Push payroll data into ChartHop through its bulk CSV import, safely.

Steps: validate the payroll export (every problem listed with file, row and column; nothing sent) →
diff it against the current roster in the warehouse (only new and changed people are sent; people
missing from payroll are reported, never deleted) → guard (a change set larger than ``max_change_share``
of the roster stops the run unless ``allow_large_change`` is set) → upload (once per run; a retry reuses
the process) → wait for ChartHop's import process → audit (one row per run in ``charthop_payroll_audit``).

Run conf (all optional): ``payroll_path`` (a CSV path; ``{ds}`` and ``{ds_nodash}`` are replaced with
the logical date), ``payroll_table`` (read the export from this warehouse table instead), ``mapping_path``,
``dry_run`` (ChartHop validates with ``importDryRun`` and changes nothing), ``allow_large_change``,
``max_change_share`` (0 to 1, default 0.2).

Connections: ``charthop_default`` (the app needs the Primary Editor permission to import) and
``charthop_warehouse`` (where the roster extract keeps ``charthop_roster_current``).
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG

from charthop.payroll.tasks import payroll_import_tasks, payroll_params

with DAG(
    dag_id="charthop_payroll_import",
    description="Validate, diff and push payroll data into ChartHop with its bulk CSV import",
    schedule=None,
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": dt.timedelta(minutes=2)},
    render_template_as_native_obj=True,
    tags=["charthop"],
    doc_md=__doc__,
    params=payroll_params(),
):
    payroll_import_tasks()
