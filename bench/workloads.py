"""The measured workloads. Each ``prepare_*`` function does the untimed set-up (imports, connections, input
files, empty tables) and returns the callable that ``bench.worker`` times, optionally with a check that runs
after the clock stops. Both return the number of rows (or DAGs) handled, so the report can show that every
contender did the same work.

Modules are imported inside the ``prepare_*`` functions on purpose: each workload runs in a fresh process,
and its peak RSS must include only what that workload loads (the plain pandas script never imports
Airflow, for example).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

#: The timed callable, which returns how many rows (or DAGs) it handled.
Workload = Callable[[], int]
#: Runs after the clock stops with the timed callable's count, and returns the count to report.
Verify = Callable[[int], int]

EMPTY_DAG_SOURCE = '''"""A DAG without tasks: the parse-time baseline of the benchmarks."""

import datetime as dt

from airflow.sdk import DAG

with DAG(
    dag_id="bench_empty",
    schedule=None,
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
):
    pass
'''


def _find_jobs_params(params: dict[str, Any]) -> dict[str, Any]:
    """Return the query of findJobs' first page, as ``ChartHopHook.find_jobs`` sends it for the operator."""
    return {
        "fields": ",".join(params["fields"]),
        "date": params["date"],
        "limit": params["page_size"],
        "format": params["response_format"],
    }


def _iter_pages(session: Any, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield the decoded findJobs pages, following the ``next`` cursor as a hand-written script would."""
    url = f"{params['url']}/v2/org/{params['org']}/job"
    query = _find_jobs_params(params)
    while True:
        response = session.get(url, params=query, timeout=60)
        response.raise_for_status()
        body = response.json()
        yield body
        if not body.get("next"):
            return
        query = {**query, "from": body["next"]}


def prepare_fetch(params: dict[str, Any]) -> Workload:
    """Prepare (a), the limit: a ``requests`` loop over findJobs that decodes each page and drops it."""
    import requests

    def run() -> int:
        rows = 0
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {params['token']}"
            for body in _iter_pages(session, params):
                rows += len(body["data"])
        return rows

    return run


class _XComSink:
    """Stands in for the task instance: ``ChartHopOrgLink.persist`` pushes the org link to XCom."""

    def xcom_push(self, key: str, value: Any) -> None:
        pass


def _drop_roster_tables(conninfo: str, prefix: str) -> None:
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP VIEW IF EXISTS "{prefix}_current"')
        for suffix in ("snapshot", "history", "columns"):
            conn.execute(f'DROP TABLE IF EXISTS "{prefix}_{suffix}"')


def prepare_extract(params: dict[str, Any]) -> Workload:
    """Prepare (b): ``ChartHopFindJobsOperator.execute`` with real connections, into SQLite or PostgreSQL.

    The warehouse starts without the roster tables on every run, as on a first load.
    """
    os.environ["AIRFLOW_CONN_CHARTHOP_DEFAULT"] = json.dumps(
        {"conn_type": "charthop", "host": params["url"], "password": params["token"], "extra": {"org_id": params["org"]}}
    )
    if params["warehouse"] == "sqlite":
        Path(params["sqlite_path"]).unlink(missing_ok=True)
        warehouse = {"conn_type": "sqlite", "host": params["sqlite_path"]}
    else:
        _drop_roster_tables(params["pg_conninfo"], "charthop_roster")
        warehouse = {
            "conn_type": "postgres",
            "host": params["pg_host"],
            "port": params["pg_port"],
            "login": params["pg_user"],
            "schema": params["pg_database"],
        }
    os.environ["AIRFLOW_CONN_CHARTHOP_WAREHOUSE"] = json.dumps(warehouse)

    from charthop.operators.jobs import ChartHopFindJobsOperator

    operator = ChartHopFindJobsOperator(
        task_id="extract_roster",
        fields=params["fields"],
        date=params["date"],
        page_size=params["page_size"],
        response_format=params["response_format"],
    )
    logical_date = dt.datetime.fromisoformat(params["date"]).replace(tzinfo=dt.timezone.utc)
    context: dict[str, Any] = {"ti": _XComSink(), "run_id": "bench", "logical_date": logical_date}

    def run() -> int:
        return int(operator.execute(context)["rows"])

    return run


def prepare_http_operator(params: dict[str, Any]) -> Workload:
    """Prepare (c): the HTTP provider's ``HttpOperator`` with a ``pagination_function``, as its docs show it.

    It collects every page's response and a ``response_filter`` turns them into one list of rows; it
    loads nothing into a warehouse.
    """
    from urllib.parse import urlsplit

    url = urlsplit(params["url"])
    os.environ["AIRFLOW_CONN_BENCH_HTTP"] = json.dumps(
        {"conn_type": "http", "host": url.hostname, "port": url.port, "schema": url.scheme}
    )

    from airflow.providers.http.operators.http import HttpOperator

    def next_page(response: Any) -> dict[str, Any] | None:
        cursor = response.json().get("next")
        return {"data": {"from": cursor}} if cursor else None

    def all_rows(responses: list[Any]) -> list[dict[str, Any]]:
        return [row for response in responses for row in response.json()["data"]]

    operator = HttpOperator(
        task_id="find_jobs",
        http_conn_id="bench_http",
        method="GET",
        endpoint=f"/v2/org/{params['org']}/job",
        data=_find_jobs_params(params),
        headers={"Authorization": f"Bearer {params['token']}"},
        pagination_function=next_page,
        response_filter=all_rows,
    )

    def run() -> int:
        return len(operator.execute({}))

    return run


def prepare_pandas_script(params: dict[str, Any]) -> Workload:
    """Prepare (d), a plain script: a ``requests`` loop, ``pandas.json_normalize`` and ``DataFrame.to_sql`` into SQLite."""
    import sqlite3

    import pandas as pd
    import requests

    Path(params["sqlite_path"]).unlink(missing_ok=True)

    def run() -> int:
        rows: list[dict[str, Any]] = []
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {params['token']}"
            for body in _iter_pages(session, params):
                rows.extend(body["data"])
        frame = pd.json_normalize(rows)
        with sqlite3.connect(params["sqlite_path"]) as conn:
            frame.to_sql("charthop_jobs", conn, index=False, if_exists="replace")
        return len(frame)

    return run


def prepare_payroll(params: dict[str, Any]) -> Workload:
    """Prepare the payroll DAG's preparation steps: validate and convert, diff against an empty roster, write."""
    from charthop.payroll import diff_against_roster, load_mapping, prepare_payroll_csv, write_import_csv

    mapping = load_mapping(params["mapping_path"])

    def run() -> int:
        prepared = prepare_payroll_csv(params["payroll_path"], mapping)
        diff = diff_against_roster(prepared.rows, [], mapping)
        return write_import_csv(params["out_path"], diff.rows_to_send(), mapping).row_count

    return run


def prepare_read_csv(params: dict[str, Any]) -> Workload:
    """Prepare the payroll baseline: a bare ``pandas.read_csv`` of the same export."""
    import pandas as pd

    def run() -> int:
        return len(pd.read_csv(params["payroll_path"]))

    return run


def prepare_insert(params: dict[str, Any]) -> tuple[Workload, Verify]:
    """Insert generated snapshot rows into PostgreSQL with ``PostgresDialect`` (COPY) or ``Dialect`` (executemany).

    The rows go in batches of ``batch`` rows, one ``insert_rows`` call per batch as ``SnapshotLoad.write``
    makes one per findJobs page, in one transaction.
    """
    import psycopg

    from bench.data import SNAPSHOT_COLUMNS, snapshot_records
    from charthop.warehouse.dialects import Dialect, PostgresDialect

    table = params["table"]
    columns = [name for name, _ in SNAPSHOT_COLUMNS]
    records = snapshot_records(params["rows"])
    conn = psycopg.connect(params["pg_conninfo"])
    conn.execute(f'DROP TABLE IF EXISTS "{table}"')
    conn.execute(f'CREATE TABLE "{table}" ({", ".join(f"{name} {sql_type}" for name, sql_type in SNAPSHOT_COLUMNS)})')
    conn.commit()
    dialect = PostgresDialect("%s") if params["method"] == "copy" else Dialect("%s")
    batch = params["batch"]

    def run() -> int:
        with conn.cursor() as cursor:
            for start in range(0, len(records), batch):
                dialect.insert_rows(cursor, table, columns, records[start : start + batch])
        conn.commit()
        return len(records)

    def count_rows(inserted: int) -> int:
        (count,) = conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()
        conn.close()
        return int(count)

    return run, count_rows


def prepare_dag_parse(params: dict[str, Any]) -> Workload:
    """Prepare the parse of a folder that contains one DAG file with ``DagBag``, as the DAG processor parses each file.

    Before the clock starts, this imports ``DagBag`` and the ``airflow.*`` modules that the file imports,
    as the DAG processor does before it starts the process that parses the file (``parsing_pre_import_modules``,
    on by default in Airflow 3.3). The file's other imports, ``charthop`` and what it pulls in, are timed.
    """
    folder = Path(params["folder"])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if params["dag_file"]:
        shutil.copy(params["dag_file"], folder / Path(params["dag_file"]).name)
    else:
        (folder / "bench_empty.py").write_text(EMPTY_DAG_SOURCE)

    import importlib

    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils.file import iter_airflow_imports

    for path in folder.glob("*.py"):
        for module in iter_airflow_imports(str(path)):
            importlib.import_module(module)

    def run() -> int:
        bag = DagBag(dag_folder=folder)
        if bag.import_errors or not bag.dags:
            raise RuntimeError(f"Parsing {folder} gave no DAG or import errors: {bag.import_errors}")
        return len(bag.dags)

    return run


WORKLOADS: dict[str, Callable[[dict[str, Any]], Workload | tuple[Workload, Verify]]] = {
    "fetch": prepare_fetch,
    "extract": prepare_extract,
    "http_operator": prepare_http_operator,
    "pandas_script": prepare_pandas_script,
    "payroll": prepare_payroll,
    "read_csv": prepare_read_csv,
    "insert": prepare_insert,
    "dag_parse": prepare_dag_parse,
}
