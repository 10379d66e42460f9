"""Test-only DAGs around the process sensor and the CSV import operator, configured by the run's conf."""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG

from charthop.operators.imports import ChartHopImportCsvOperator
from charthop.sensors.process import ChartHopProcessSensor

START = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)

for mode in ("poke", "reschedule", "deferrable"):
    with DAG(dag_id=f"charthop_test_wait_{mode}", schedule=None, start_date=START, default_args={"retries": 0}):
        ChartHopProcessSensor(
            task_id="wait",
            charthop_conn_id="charthop_test",
            process_id="{{ dag_run.conf['process_id'] }}",
            row_error_policy="{{ dag_run.conf.get('row_error_policy', 'fail') }}",
            mode="reschedule" if mode == "reschedule" else "poke",
            deferrable=mode == "deferrable",
            poke_interval=0.5,
            timeout=6,
        )

for deferrable in (False, True):
    with DAG(
        dag_id=f"charthop_test_import_{'deferred' if deferrable else 'worker'}",
        schedule=None,
        start_date=START,
        default_args={"retries": 1, "retry_delay": dt.timedelta(seconds=0)},
        render_template_as_native_obj=True,
    ):
        ChartHopImportCsvOperator(
            task_id="upload",
            charthop_conn_id="charthop_test",
            csv_path="{{ dag_run.conf['csv_path'] }}",
            upsert=True,
            skip_errors="{{ dag_run.conf.get('skip_errors', False) }}",
            notify_user_ids="{{ dag_run.conf.get('notify', []) }}",
            wait_for_completion=True,
            deferrable=deferrable,
            poll_interval=0.5,
            wait_timeout=4,
        )
