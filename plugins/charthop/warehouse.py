"""Roster snapshot table in a warehouse reached through an Airflow common-sql connection."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from airflow.providers.common.sql.hooks.sql import DbApiHook
from airflow.sdk import BaseHook

from charthop.exceptions import ChartHopConfigError, ChartHopWarehouseError

_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$")

#: Column types per SQL dialect; any other common-sql database gets the generic set.
_COLUMN_TYPES = {
    "postgres": {"date": "DATE", "json": "JSONB", "timestamp": "TIMESTAMPTZ"},
    "sqlite": {"date": "TEXT", "json": "TEXT", "timestamp": "TEXT"},
}
_GENERIC_TYPES = {"date": "DATE", "json": "TEXT", "timestamp": "TIMESTAMP"}


class RosterSnapshotWriter:
    """Inserts rows of one snapshot date inside the transaction opened by ``RosterSnapshotTable``."""

    def __init__(self, cursor: Any, insert_sql: str, snapshot_date: str, run_id: str, loaded_at: str) -> None:
        self._cursor = cursor
        self._insert_sql = insert_sql
        self._snapshot_date = snapshot_date
        self._run_id = run_id
        self._loaded_at = loaded_at
        self.rows_written = 0

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert one page of findJobs rows; each row is stored whole as JSON text next to its job id."""
        if not rows:
            return
        values = [
            (
                self._snapshot_date,
                str(row["jobId"]),
                json.dumps(row, ensure_ascii=False, separators=(",", ":")),
                self._run_id,
                self._loaded_at,
            )
            for row in rows
        ]
        self._cursor.executemany(self._insert_sql, values)
        self.rows_written += len(values)


class RosterSnapshotTable:
    """A table of roster snapshots with one partition of rows per as-of date.

    Columns: ``snapshot_date`` (the as-of date), ``job_id`` (text, so leading zeros stay),
    ``row_data`` (the row exactly as ChartHop returned it, as JSON), ``run_id`` (the Airflow run that
    loaded it) and ``loaded_at`` (UTC). The primary key is ``(snapshot_date, job_id)``.

    :param conn_id: Airflow connection id of a common-sql database (SQLite, PostgreSQL, ...).
    :param table: table name, optionally ``schema.table``; letters, digits and underscores only.
    """

    def __init__(self, conn_id: str, table: str) -> None:
        self.conn_id = conn_id
        self.table = table

    def _db_hook(self) -> DbApiHook:
        try:
            hook = BaseHook.get_connection(self.conn_id).get_hook()
        except Exception as error:
            raise ChartHopConfigError(
                f"Could not open warehouse connection '{self.conn_id}': {error}. Create it as a SQLite or "
                "PostgreSQL connection (for example AIRFLOW_CONN_CHARTHOP_WAREHOUSE='sqlite:////abs/path.db')."
            ) from error
        if not isinstance(hook, DbApiHook):
            raise ChartHopConfigError(
                f"Warehouse connection '{self.conn_id}' has type {type(hook).__name__}, which is not a SQL "
                "database hook. Point it at a common-sql database such as SQLite or PostgreSQL."
            )
        return hook

    def _create_sql(self, dialect: str) -> str:
        types = _COLUMN_TYPES.get(dialect, _GENERIC_TYPES)
        return (
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            f"snapshot_date {types['date']} NOT NULL, "
            "job_id VARCHAR(64) NOT NULL, "
            f"row_data {types['json']} NOT NULL, "
            "run_id VARCHAR(250) NOT NULL, "
            f"loaded_at {types['timestamp']} NOT NULL, "
            "PRIMARY KEY (snapshot_date, job_id))"
        )

    @contextmanager
    def replace_snapshot(self, snapshot_date: str, run_id: str) -> Iterator[RosterSnapshotWriter]:
        """Open one transaction that deletes ``snapshot_date``'s rows and yields a writer for the new ones.

        The transaction commits when the ``with`` block ends without an error and rolls back otherwise,
        so a failed extract leaves the rows of that date as they were.

        :param snapshot_date: as-of date, ``YYYY-MM-DD``.
        :param run_id: the Airflow run id stored with each row.
        """
        if not _TABLE_NAME.match(self.table):
            raise ChartHopConfigError(
                f"Invalid warehouse table name {self.table!r}: use letters, digits and underscores, "
                "optionally as schema.table."
            )
        hook = self._db_hook()
        dialect = getattr(hook, "conn_type", None) or "generic"
        placeholder = hook.placeholder
        insert_sql = (
            f"INSERT INTO {self.table} (snapshot_date, job_id, row_data, run_id, loaded_at) "
            f"VALUES ({', '.join([placeholder] * 5)})"
        )
        loaded_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        conn = hook.get_conn()
        try:
            cursor = conn.cursor()
            cursor.execute(self._create_sql(dialect))
            conn.commit()
            cursor.execute(f"DELETE FROM {self.table} WHERE snapshot_date = {placeholder}", (snapshot_date,))
            writer = RosterSnapshotWriter(cursor, insert_sql, snapshot_date, run_id, loaded_at)
            yield writer
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    def count_rows(self, snapshot_date: str) -> int:
        """Return how many rows the table holds for ``snapshot_date``."""
        hook = self._db_hook()
        try:
            row = hook.get_first(
                f"SELECT COUNT(*) FROM {self.table} WHERE snapshot_date = {hook.placeholder}",
                parameters=(snapshot_date,),
            )
        except Exception as error:
            raise ChartHopWarehouseError(f"Could not count rows of {self.table}: {error}") from error
        return int(row[0]) if row else 0
