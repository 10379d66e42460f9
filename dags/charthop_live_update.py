"""Apply one ChartHop job change to the roster tables, started by the ChartHop webhook receiver.

The receiver (``POST /charthop/webhook`` on the Airflow API server) starts one run per ``change.*``
event with conf ``job_id``, ``event_code`` and ``event_id``. The run fetches the job by its exact id as
of today and upserts it into today's roster snapshot, then rebuilds the history and the current view.
A deleted job is removed from today's snapshot, which closes its history row. Events caused by this
package's own imports never reach this DAG: the receiver skips them.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG, Param, task

from charthop.assets import CHARTHOP_ROSTER_ASSET

with DAG(
    dag_id="charthop_live_update",
    description="Upsert one ChartHop job into the roster tables when ChartHop reports a change",
    schedule=None,
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=4,
    default_args={"retries": 2, "retry_delay": dt.timedelta(seconds=30)},
    tags=["charthop"],
    doc_md=__doc__,
    params={
        "job_id": Param("", type="string", description="ChartHop job id"),
        "event_code": Param("", type="string"),
        "event_id": Param("", type="string"),
    },
):

    @task(outlets=[CHARTHOP_ROSTER_ASSET])
    def apply_change(params: dict, run_id: str) -> dict:
        """Fetch the job and upsert it into today's roster snapshot."""
        from charthop.exceptions import ChartHopConfigError
        from charthop.live import apply_job_change

        if not params.get("job_id"):
            raise ChartHopConfigError("The run's conf has no job_id; this DAG is started by the ChartHop webhook.")
        return apply_job_change(str(params["job_id"]), run_id=run_id)

    apply_change()
