"""Daily roster snapshot of several ChartHop orgs: one mapped extract per org, each into its own tables.

The orgs are the ChartHop connections listed in the Airflow Variable ``charthop_org_conn_ids``: a JSON
list such as ``["charthop_acme", "charthop_globex"]`` (a comma list also works). The first task reads
it when the run starts, not when the file is parsed, so a change applies from the next run on without
a redeploy. Without the Variable the list is ``["charthop_default"]``.

Each connection gets one mapped ``extract_roster`` task instance. It loads the org's jobs as of the
run's logical date into the tables with the prefix ``charthop_roster_<connection id>``, in the warehouse
connection ``charthop_warehouse``, so each org has one snapshot partition per date. In the prefix the id
is lowercased and every character other than a letter, digit or underscore becomes ``_``. An id longer
than 25 characters is shortened and ends in a hash of the full id. So ``charthop_acme`` writes
``charthop_roster_charthop_acme_snapshot``, ``_history`` and ``_current``.

The mapped task instances do not depend on each other: an org that fails (a bad token, an unknown
org) does not stop the others, and the run ends failed when any org failed. Rerun only the failed
org by clearing its mapped task instance. Backfill past dates as for ``charthop_roster_snapshot``:
``airflow backfill create --dag-id charthop_multi_org_roster --from-date A --to-date B``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

from airflow.sdk import DAG, Variable, task

from charthop.exceptions import ChartHopConfigError
from charthop.operators.jobs import DEFAULT_ROSTER_FIELDS, ChartHopFindJobsOperator

ORG_CONN_IDS_VARIABLE = "charthop_org_conn_ids"
DEFAULT_ORG_CONN_IDS = ("charthop_default",)
TABLE_PREFIX_BASE = "charthop_roster_"
# The warehouse accepts table prefixes of at most 41 characters, and the base takes 16 of them.
MAX_SUFFIX_LENGTH = 41 - len(TABLE_PREFIX_BASE)
HASH_LENGTH = 8


def table_prefix_for(conn_id: str) -> str:
    """Return the warehouse table prefix of one org's connection id, such as ``charthop_roster_charthop_acme``."""
    suffix = re.sub(r"[^a-z0-9_]", "_", conn_id.strip().lower())
    if len(suffix) > MAX_SUFFIX_LENGTH:
        # A hash of the full id keeps two long ids with the same beginning apart.
        digest = hashlib.sha256(conn_id.encode()).hexdigest()[:HASH_LENGTH]
        suffix = f"{suffix[: MAX_SUFFIX_LENGTH - HASH_LENGTH - 1]}_{digest}"
    return f"{TABLE_PREFIX_BASE}{suffix}"


def parse_org_conn_ids(value: object) -> list[str]:
    """Turn the Variable's value (a JSON list, a list or a comma list) into connection ids without repeats.

    :raises ChartHopConfigError: when the value is not a list of non-empty strings, is empty, or when two
        ids map to the same table prefix.
    """
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("["):
            value = text.split(",")
        else:
            try:
                value = json.loads(text)
            except ValueError as error:
                raise ChartHopConfigError(
                    f"Invalid Variable {ORG_CONN_IDS_VARIABLE}: {error}. Use a JSON list of ChartHop connection ids."
                ) from None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ChartHopConfigError(
            f"Invalid Variable {ORG_CONN_IDS_VARIABLE} {value!r}: use a JSON list of ChartHop connection ids, "
            'such as ["charthop_acme", "charthop_globex"].'
        )
    conn_ids = list(dict.fromkeys(item.strip() for item in value if item.strip()))
    if not conn_ids:
        raise ChartHopConfigError(
            f"Variable {ORG_CONN_IDS_VARIABLE} lists no connection id. Delete it to extract charthop_default "
            "only, or list at least one ChartHop connection id."
        )
    owners: dict[str, str] = {}
    for conn_id in conn_ids:
        prefix = table_prefix_for(conn_id)
        if prefix in owners:
            raise ChartHopConfigError(
                f"Connections {owners[prefix]!r} and {conn_id!r} would both write the tables {prefix}_*. "
                "Rename one of them."
            )
        owners[prefix] = conn_id
    return conn_ids


with DAG(
    dag_id="charthop_multi_org_roster",
    description="Daily roster snapshot of every ChartHop org listed in the Variable charthop_org_conn_ids",
    schedule="@daily",
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=5)},
    tags=["charthop"],
    doc_md=__doc__,
):

    @task(retries=0)
    def list_orgs() -> list[dict[str, str]]:
        """Read the org connection ids from the Variable and return one set of operator arguments per org."""
        raw = Variable.get(ORG_CONN_IDS_VARIABLE, default=None)
        conn_ids = parse_org_conn_ids(raw) if raw is not None else list(DEFAULT_ORG_CONN_IDS)
        return [{"charthop_conn_id": conn_id, "table_prefix": table_prefix_for(conn_id)} for conn_id in conn_ids]

    ChartHopFindJobsOperator.partial(
        task_id="extract_roster",
        warehouse_conn_id="charthop_warehouse",
        fields=list(DEFAULT_ROSTER_FIELDS),
        map_index_template="{{ task.charthop_conn_id }}",
    ).expand_kwargs(list_orgs())
