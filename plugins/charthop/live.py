"""Apply one ChartHop job change, announced by a webhook, to the roster tables in the warehouse."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from charthop.exceptions import ChartHopNotFoundError
from charthop.hooks.charthop import ChartHopHook
from charthop.operators.jobs import DEFAULT_ROSTER_FIELDS
from charthop.warehouse import RosterWarehouse

log = logging.getLogger(__name__)


def apply_job_change(
    job_id: str,
    *,
    run_id: str,
    charthop_conn_id: str = ChartHopHook.default_conn_name,
    warehouse_conn_id: str = "charthop_warehouse",
    table_prefix: str = "charthop_roster",
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Fetch one job by its exact id as of today and upsert it into today's snapshot of the roster.

    Today's snapshot is first filled from the newest earlier one when it has no rows yet, so the change
    lands in a complete roster. A job that no longer exists is removed from today's snapshot, which
    closes its history row. A job whose person departed is stored as an open job, which closes the
    person's version. The history table and current view are rebuilt in the same transaction. The field
    list is the nightly extract's, so an unchanged job keeps its history version.

    :param job_id: the ChartHop job id from the event.
    :param run_id: the Airflow run id stored with the row.
    :param charthop_conn_id: ChartHop connection id.
    :param warehouse_conn_id: warehouse connection id.
    :param table_prefix: prefix of the roster tables, ``charthop_roster`` by default.
    :param today: the as-of date; the current UTC date by default.
    :return: ``job_id``, ``snapshot_date``, ``action`` (``upserted`` or ``removed``) and ``carried_forward``.
    """
    as_of = (today or dt.datetime.now(dt.timezone.utc).date()).isoformat()
    fields = list(DEFAULT_ROSTER_FIELDS)
    try:
        row = ChartHopHook(charthop_conn_id).get_job(job_id, fields=fields, date=as_of)
    except ChartHopNotFoundError:
        log.info("Job %s does not exist in ChartHop as of %s: removing it from the snapshot", job_id, as_of)
        row = None
    warehouse = RosterWarehouse(warehouse_conn_id, table_prefix)
    with warehouse.load_snapshot(as_of, run_id, fields, manager_policy="warn", replace=False) as load:
        carried = load.carry_forward()
        load.delete_job(job_id)
        if row is not None:
            load.write([row])
    action = "removed" if row is None else "upserted"
    log.info("Job %s %s in %s for %s (%d rows carried forward)", job_id, action, warehouse.snapshot_table, as_of, carried)
    return {"job_id": job_id, "snapshot_date": as_of, "action": action, "carried_forward": carried}
