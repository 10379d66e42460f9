"""Nightly roster snapshot: every ChartHop job as of the run's logical date, loaded into the warehouse.

Each run queries ChartHop as of its own logical date, so a backfill over past dates rebuilds past
snapshots: ``airflow backfill create --dag-id charthop_roster_snapshot --from-date 2026-01-01
--to-date 2026-01-31``. A rerun of a date replaces that date's rows.

Tables (prefix ``charthop_roster``): ``_snapshot`` (one partition per as-of date), ``_history`` (SCD
type 2, rebuilt from the snapshots on every load) and the view ``_current`` (the newest snapshot). Each
successful run updates the asset ``charthop_roster``, so downstream DAGs can be scheduled on it.

Connections: ``charthop_default`` (type ``charthop``: API token in the password, org id or slug in the
extra ``org_id``) and ``charthop_warehouse`` (SQLite, PostgreSQL or another common-sql database).
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG

from charthop.assets import CHARTHOP_ROSTER_ASSET
from charthop.operators.jobs import DEFAULT_ROSTER_FIELDS, ChartHopFindJobsOperator

with DAG(
    dag_id="charthop_roster_snapshot",
    description="Nightly ChartHop roster snapshot into the warehouse, backfillable by logical date",
    schedule="@daily",
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=5)},
    tags=["charthop"],
    doc_md=__doc__,
):
    ChartHopFindJobsOperator(
        task_id="extract_roster",
        charthop_conn_id="charthop_default",
        warehouse_conn_id="charthop_warehouse",
        table_prefix="charthop_roster",
        fields=list(DEFAULT_ROSTER_FIELDS),
        outlets=[CHARTHOP_ROSTER_ASSET],
    )
