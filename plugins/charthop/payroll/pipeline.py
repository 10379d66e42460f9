"""The steps of the ``charthop_payroll_import`` DAG, kept here so the DAG file stays cheap to parse.

Each step receives and returns small dicts (XCom); the payroll rows themselves go through files.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from pathlib import Path
from typing import Any

from airflow.providers.common.sql.hooks.sql import DbApiHook
from airflow.sdk import BaseHook

from charthop.exceptions import (
    ChartHopConfigError,
    ChartHopError,
    ChartHopWarehouseError,
    PayrollChangeShareError,
    PayrollRunFailedError,
)
from charthop.hooks.charthop import ChartHopHook
from charthop.payroll import (
    check_change_share,
    diff_against_roster,
    load_mapping,
    prepare_payroll_csv,
    prepare_payroll_rows,
    read_current_roster,
    write_import_csv,
)
from charthop.payroll.tasks import ERROR_XCOM_KEY
from charthop.payroll.transform import PreparedPayroll

log = logging.getLogger(__name__)

WAREHOUSE_CONN_ID = "charthop_warehouse"
CHARTHOP_CONN_ID = "charthop_default"
ROSTER_VIEW = "charthop_roster_current"
AUDIT_TABLE = "charthop_payroll_audit"
MAX_NAMES_IN_LOG = 20
_TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$")


def run_date(context: dict[str, Any]) -> dt.date:
    """Return the run's logical date, or the date it was queued for when it has none (webhook runs)."""
    when = context.get("logical_date") or context["dag_run"].run_after
    return when.astimezone(dt.timezone.utc).date()


def report_progress(context: dict[str, Any], progress: float, message: str) -> None:
    """Report progress on the ChartHop process named in the run's conf (``process_id``), if there is one.

    A Sync Now run carries the id of the process ChartHop created for it; a plain payroll run has none,
    and then this does nothing. A failed report is logged and does not fail the step.

    :param context: the task's Airflow context.
    :param progress: share of the sync done, from 0 to 1.
    :param message: text shown on the process in ChartHop.
    """
    conf = getattr(context.get("dag_run"), "conf", None) or {}
    process_id = conf.get("process_id")
    if not process_id:
        return
    try:
        ChartHopHook(CHARTHOP_CONN_ID).update_process(str(process_id), status="RUNNING", progress=progress, message=message)
    except ChartHopError as error:
        log.warning("Could not report progress %.2f on ChartHop process %s: %s", progress, process_id, error)


def warehouse_hook(conn_id: str = WAREHOUSE_CONN_ID) -> DbApiHook:
    """Return the common-sql hook of the warehouse connection."""
    hook = BaseHook.get_connection(conn_id).get_hook()
    if not isinstance(hook, DbApiHook):
        raise ChartHopConfigError(f"Warehouse connection '{conn_id}' is not a SQL database connection.")
    return hook


def _read_payroll(params: dict[str, Any], *, ds: str, ds_nodash: str) -> tuple[PreparedPayroll, str]:
    mapping = load_mapping(params["mapping_path"])
    table = (params.get("payroll_table") or "").strip()
    if table:
        if not _TABLE_NAME.match(table):
            raise ChartHopConfigError(
                f"Invalid payroll_table {table!r}: use a lowercase table name, optionally schema.table."
            )
        hook = warehouse_hook()
        conn = hook.get_conn()
        try:
            cursor = conn.cursor()
            cursor.execute(f"SELECT * FROM {table}")
            names = [column[0] for column in cursor.description]
            records = (dict(zip(names, values)) for values in cursor)
            return prepare_payroll_rows(records, mapping, source_name=f"warehouse table {table}"), table
        finally:
            conn.close()
    path = str(params["payroll_path"]).replace("{ds}", ds).replace("{ds_nodash}", ds_nodash)
    return prepare_payroll_csv(path, mapping), path


def validate(params: dict[str, Any], *, ds: str, ds_nodash: str) -> dict[str, Any]:
    """Read and validate the payroll export, raising ``PayrollValidationError`` with every problem.

    :param params: the DAG run's params (``payroll_path``, ``payroll_table``, ``mapping_path``).
    :param ds: the logical date, ``YYYY-MM-DD``, replacing ``{ds}`` in ``payroll_path``.
    :param ds_nodash: the logical date, ``YYYYMMDD``, replacing ``{ds_nodash}``.
    :return: where the rows came from and how many there are.
    """
    prepared, source = _read_payroll(params, ds=ds, ds_nodash=ds_nodash)
    log.info("Payroll %s: %d valid rows (%d blank rows skipped)", source, len(prepared.rows), prepared.blank_rows)
    return {"params": dict(params), "ds": ds, "ds_nodash": ds_nodash, "source": source, "rows": len(prepared.rows)}


def diff_and_write(validated: dict[str, Any], *, work_dir: Path, run_id: str) -> dict[str, Any]:
    """Diff the payroll against ``charthop_roster_current`` and write the import CSV of new and changed rows.

    :param validated: the result of ``validate``.
    :param work_dir: folder for the import CSV; created if missing.
    :param run_id: the DAG run id, which names the CSV.
    :return: the CSV's path and SHA-256, and the counts of the diff.
    """
    prepared, source = _read_payroll(validated["params"], ds=validated["ds"], ds_nodash=validated["ds_nodash"])
    try:
        roster = list(read_current_roster(warehouse_hook(), ROSTER_VIEW))
    except ChartHopError:
        raise
    except Exception as error:
        raise ChartHopWarehouseError(
            f"Could not read {ROSTER_VIEW} from the warehouse: {error}. Run the DAG charthop_roster_snapshot "
            "first, so the current roster exists."
        ) from error
    diff = diff_against_roster(prepared.rows, roster, prepared.mapping)
    if diff.missing_from_payroll:
        shown = ", ".join(diff.missing_from_payroll[:MAX_NAMES_IN_LOG])
        log.warning(
            "%d people in the ChartHop roster are missing from payroll %s (reported, not deleted): %s",
            len(diff.missing_from_payroll),
            source,
            shown,
        )
    work_dir.mkdir(parents=True, exist_ok=True)
    csv_path = work_dir / f"payroll-import-{re.sub(r'[^A-Za-z0-9_.-]+', '_', run_id)}.csv"
    written = write_import_csv(csv_path, diff.rows_to_send(), prepared.mapping)
    summary = {
        "csv_path": str(written.path),
        "sha256": written.sha256,
        "rows_to_send": written.row_count,
        "new": len(diff.new_rows),
        "changed": len(diff.changed_rows),
        "unchanged": diff.unchanged_count,
        "missing_from_payroll": len(diff.missing_from_payroll),
        "roster_count": diff.roster_count,
        "source": source,
    }
    log.info(
        "Payroll diff: %d new, %d changed, %d unchanged, %d missing from payroll; %d rows written to %s",
        summary["new"],
        summary["changed"],
        summary["unchanged"],
        summary["missing_from_payroll"],
        summary["rows_to_send"],
        csv_path,
    )
    return summary


def guard_changes(changes: dict[str, Any], params: dict[str, Any]) -> bool:
    """Raise when the change set is too large a share of the roster; return whether there is anything to send."""
    try:
        share = check_change_share(
            changes["rows_to_send"],
            changes["roster_count"],
            max_share=float(params.get("max_change_share", 0.2)),
            allow=bool(params.get("allow_large_change", False)),
        )
    except PayrollChangeShareError as error:
        raise PayrollChangeShareError(
            f"{error} In this DAG, confirm the change set by triggering it again with the conf "
            '{"allow_large_change": true}, or raise "max_change_share".',
            changed_count=error.changed_count,
            roster_count=error.roster_count,
            max_share=error.max_share,
        ) from None
    if not changes["rows_to_send"]:
        log.info("Payroll matches the roster: nothing to send to ChartHop")
        return False
    log.info("Sending %d rows, %.1f %% of the roster", changes["rows_to_send"], share * 100)
    return True


def _audit_status(ti: Any, process_id: str | None) -> tuple[str, dict[str, Any]]:
    if not process_id:
        return "NOT_SENT", {}
    try:
        process = ChartHopHook(CHARTHOP_CONN_ID).get_process(process_id)
    except ChartHopError as error:
        log.warning("Could not read ChartHop process %s for the audit: %s", process_id, error)
        return "UNKNOWN", {}
    return str(process.get("status")), dict(process.get("results") or {})


def record_audit(context: dict[str, Any]) -> dict[str, Any]:
    """Insert one row into ``charthop_payroll_audit`` for this run, then raise if an earlier step failed.

    :param context: the task's Airflow context.
    """
    ti = context["ti"]
    changes = ti.xcom_pull(task_ids="diff_with_roster") or {}
    process_id = ti.xcom_pull(task_ids="upload", key="process_id")
    status, results = _audit_status(ti, process_id)
    states = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id]).get(ti.run_id, {})
    failed = sorted(task for task, state in states.items() if state in ("failed", "upstream_failed"))
    dag_run = context["dag_run"]
    row = {
        "run_id": ti.run_id,
        "dag_id": ti.dag_id,
        "logical_date": run_date(context).isoformat(),
        "process_id": process_id,
        "rows_sent": changes.get("rows_to_send", 0) if process_id else 0,
        "new_rows": changes.get("new"),
        "changed_rows": changes.get("changed"),
        "missing_from_payroll": changes.get("missing_from_payroll"),
        "status": status if not failed or process_id else "FAILED_BEFORE_UPLOAD",
        "results": json.dumps(results, sort_keys=True, default=str),
        "failed_tasks": ",".join(failed),
        "dry_run": bool((context.get("params") or {}).get("dry_run", False)),
        "started_at": dag_run.start_date.isoformat() if dag_run.start_date else None,
        "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    hook = warehouse_hook()
    hook.run(
        f"CREATE TABLE IF NOT EXISTS {AUDIT_TABLE} (run_id VARCHAR(250) PRIMARY KEY, dag_id VARCHAR(250), "
        "logical_date VARCHAR(10), process_id VARCHAR(64), rows_sent INTEGER, new_rows INTEGER, "
        "changed_rows INTEGER, missing_from_payroll INTEGER, status VARCHAR(40), results TEXT, "
        "failed_tasks TEXT, dry_run BOOLEAN, started_at VARCHAR(40), finished_at VARCHAR(40))"
    )
    hook.run(f"DELETE FROM {AUDIT_TABLE} WHERE run_id = {hook.placeholder}", parameters=(ti.run_id,))
    hook.insert_rows(AUDIT_TABLE, [tuple(row.values())], target_fields=list(row))
    log.info("Audit row for %s: %s", ti.run_id, row)
    if failed:
        raise PayrollRunFailedError(
            f"Payroll import run {ti.run_id} failed in: {', '.join(failed)}. The audit row records status "
            f"{row['status']}; see those tasks' logs for the cause."
        )
    return row


SYNC_STEPS = ("validate_payroll", "diff_with_roster", "guard", "upload", "wait_for_import", "audit")


def finish_sync(context: dict[str, Any]) -> dict[str, Any]:
    """Mark the Sync Now process DONE, or ERROR with the failure message; then fail if a step failed.

    Runs as the last task with trigger rule ``all_done``, so it also reports steps that were killed and
    never ran their failure callback.

    :param context: the task's Airflow context.
    """
    ti = context["ti"]
    process_id = str((context.get("params") or {}).get("process_id") or "")
    states = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id]).get(ti.run_id, {})
    failed = [task for task, state in states.items() if state in ("failed", "upstream_failed") and task != ti.task_id]
    hook = ChartHopHook(CHARTHOP_CONN_ID)
    if failed:
        causes = [
            str(ti.xcom_pull(task_ids=task, key=ERROR_XCOM_KEY) or "")
            for task in SYNC_STEPS
            if task in failed and states.get(task) == "failed"
        ]
        cause = next((text for text in causes if text), "see the task logs in Airflow")
        first = next((task for task in SYNC_STEPS if states.get(task) == "failed"), failed[0])
        message = f"Airflow run {ti.run_id} failed at step {first}: {cause}"[:1000]
        if process_id:
            hook.update_process(process_id, status="ERROR", message=message)
        raise PayrollRunFailedError(message)
    audit = ti.xcom_pull(task_ids="audit") or {}
    message = f"Sync finished: {audit.get('rows_sent', 0)} rows sent, import status {audit.get('status', 'NOT_SENT')}"
    if process_id:
        hook.update_process(process_id, status="DONE", progress=1.0, message=message)
    log.info("Sync Now process %s: %s", process_id or "(none)", message)
    return {"process_id": process_id, "message": message}
