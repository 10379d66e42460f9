"""A test-only DAG around ChartHopFindJobsOperator whose arguments come from the run's conf.

The tests load it through a second DAG bundle, so it never appears in the project's dags/ folder.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG

from charthop.operators.jobs import ChartHopFindJobsOperator

with DAG(
    dag_id="charthop_test_extract",
    schedule=None,
    start_date=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    default_args={"retries": 0},
    tags=["charthop-tests"],
):
    ChartHopFindJobsOperator(
        task_id="extract",
        charthop_conn_id="charthop_test",
        warehouse_conn_id="charthop_warehouse",
        table_prefix="{{ dag_run.conf.get('table_prefix', 'charthop_roster') }}",
        fields="{{ dag_run.conf.get('fields', 'title,open,department.name,baseComp') }}",
        q="{{ dag_run.conf.get('q', '') }}",
        date="{{ dag_run.conf.get('date', '') }}",
        page_size=250,
    )
