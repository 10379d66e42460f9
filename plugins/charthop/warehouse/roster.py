"""The roster model in the warehouse: dated snapshots, the current roster and an SCD type 2 history.

Tables, for the default prefix ``charthop_roster``:

- ``charthop_roster_snapshot``: one partition of rows per as-of date. Fixed columns ``snapshot_date``,
  ``job_id``, ``run_id``, ``loaded_at`` (UTC), ``row_hash`` and ``row_data`` (the row as ChartHop sent it, keys sorted,
  as JSON), then one typed column per field code (two or three for money and pay).
- ``charthop_roster_history``: one row per job version. ``valid_from`` is the first snapshot date of the
  version, ``valid_to`` the first later snapshot date on which the job was gone or different (``NULL``
  while current), ``is_current``, then the same field columns. It is rebuilt from the snapshots on
  every load, so the order in which dates are loaded does not change it.
- ``charthop_roster_current``: a view of the newest snapshot.
- ``charthop_roster_columns``: the kind registered for each field code (see ``ColumnKind``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from airflow.providers.common.sql.hooks.sql import DbApiHook
from airflow.sdk import BaseHook
from airflow.utils.log.logging_mixin import LoggingMixin

from charthop.constants import MANAGER_POLICIES
from charthop.exceptions import ChartHopConfigError, ChartHopWarehouseError
from charthop.warehouse.checks import ManagerReport, check_managers
from charthop.warehouse.columns import (
    ColumnKind,
    FieldColumns,
    ValueMismatch,
    column_base_name,
    infer_kind,
)
from charthop.warehouse.dialects import Dialect, dialect_for, quote

_PREFIX = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")
MANAGER_FIELD = "manager"
#: How long a load waits for another load of the same tables to commit, in seconds (SQLite only;
#: PostgreSQL waits on the advisory lock without a limit).
LOCK_WAIT_SECONDS = 1800


def field_value(row: Mapping[str, Any], field_code: str) -> Any:
    """Return a field's value from a row in either shape: a flat dotted key or nested objects."""
    if field_code in row:
        return row[field_code]
    value: Any = row
    for part in field_code.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def row_hash(row: Mapping[str, Any], field_codes: Sequence[str]) -> str:
    """Return a SHA-256 of the requested fields' values, the same for flat and nested rows."""
    values = {code: field_value(row, code) for code in field_codes}
    return hashlib.sha256(_canonical_json(values).encode()).hexdigest()


def row_data_and_hash(row: Mapping[str, Any], field_codes: Sequence[str]) -> tuple[str, str]:
    """Return the row as canonical JSON text and ``row_hash(row, field_codes)``.

    A flat row whose keys are exactly the requested codes (``format=minimal``) is its own value map, so
    its JSON text is serialised once and hashed. Other rows take the slower path of ``row_hash``.
    """
    text = _canonical_json(row)
    if len(row) == len(field_codes) and all(code in row for code in field_codes):
        return text, hashlib.sha256(text.encode()).hexdigest()
    return text, row_hash(row, field_codes)


class RosterWarehouse(LoggingMixin):
    """Load roster snapshots and maintain the history table and current view derived from them.

    :param conn_id: Airflow connection of a common-sql database; PostgreSQL and SQLite are tested.
    :param table_prefix: prefix of the table and view names, ``charthop_roster`` by default; lowercase
        letters, digits and underscores.
    """

    def __init__(self, conn_id: str, table_prefix: str = "charthop_roster") -> None:
        super().__init__()
        self.conn_id = conn_id
        self.table_prefix = table_prefix

    @property
    def lock_key(self) -> int:
        """A PostgreSQL advisory lock key derived from the table prefix, a signed 64-bit integer."""
        digest = hashlib.sha256(f"charthop-roster:{self.table_prefix}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    @property
    def snapshot_table(self) -> str:
        return f"{self.table_prefix}_snapshot"

    @property
    def history_table(self) -> str:
        return f"{self.table_prefix}_history"

    @property
    def current_view(self) -> str:
        return f"{self.table_prefix}_current"

    @property
    def columns_table(self) -> str:
        return f"{self.table_prefix}_columns"

    def db_hook(self) -> DbApiHook:
        """Return the common-sql hook of the warehouse connection."""
        if not _PREFIX.match(self.table_prefix):
            raise ChartHopConfigError(
                f"Invalid table prefix {self.table_prefix!r}: use up to 41 lowercase letters, digits and "
                "underscores, starting with a letter or underscore."
            )
        try:
            hook = BaseHook.get_connection(self.conn_id).get_hook()
        except Exception as error:
            raise ChartHopConfigError(
                f"Could not open warehouse connection '{self.conn_id}': {error}. Create it as a SQLite or "
                "PostgreSQL connection, for example AIRFLOW_CONN_CHARTHOP_WAREHOUSE='sqlite:////abs/path.db'."
            ) from error
        if not isinstance(hook, DbApiHook):
            raise ChartHopConfigError(
                f"Warehouse connection '{self.conn_id}' has type {type(hook).__name__}, which is not a SQL "
                "database hook. Point it at a common-sql database such as SQLite or PostgreSQL."
            )
        return hook

    @contextmanager
    def load_snapshot(
        self,
        snapshot_date: str,
        run_id: str,
        field_codes: Sequence[str],
        *,
        manager_policy: str = "fail",
        replace: bool = True,
    ) -> Iterator[SnapshotLoad]:
        """Open one transaction that replaces ``snapshot_date``'s rows, and yield the loader for them.

        When the ``with`` block ends without an error, the loader checks the manager links, rebuilds the
        history table and the current view, and commits. Any error rolls everything back, so the tables
        stay as they were.

        :param snapshot_date: as-of date, ``YYYY-MM-DD``.
        :param run_id: the Airflow run id stored with each row.
        :param field_codes: the field codes requested from ChartHop, ``jobId`` included.
        :param manager_policy: what unresolved manager references do: ``fail`` (the default) fails the
            load, ``warn`` logs them, ``off`` skips the check. Self-managed jobs and manager cycles
            always fail the load.
        :param replace: delete the date's earlier rows first (``True``, a full extract); ``False`` keeps
            them, for changes to single jobs.
        """
        if manager_policy not in MANAGER_POLICIES:
            raise ChartHopConfigError(
                f"Invalid manager_policy {manager_policy!r}: use one of {', '.join(MANAGER_POLICIES)}."
            )
        hook = self.db_hook()
        dialect = dialect_for(getattr(hook, "conn_type", None), hook.placeholder)
        conn = hook.get_conn()
        if dialect.name == "sqlite":
            # Explicit BEGIN/COMMIT, so that the DDL below is part of the transaction too.
            conn.isolation_level = None
        cursor = conn.cursor()
        try:
            # Loads of one prefix run one at a time: backfills run several dates at once (they ignore
            # max_active_runs), and every load rewrites the whole history table.
            if dialect.name == "sqlite":
                cursor.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_SECONDS * 1000}")
                cursor.execute("BEGIN IMMEDIATE")
            elif dialect.name == "postgres":
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (self.lock_key,))
            load = SnapshotLoad(self, cursor, dialect, snapshot_date, run_id, field_codes)
            load.prepare(replace=replace)
            yield load
            load.finish(manager_policy)
            if dialect.name == "sqlite":
                cursor.execute("COMMIT")
            else:
                conn.commit()
        except BaseException:
            if dialect.name == "sqlite":
                if conn.in_transaction:
                    cursor.execute("ROLLBACK")
            else:
                conn.rollback()
            raise
        finally:
            conn.close()


class SnapshotLoad:
    """Writes the rows of one snapshot date inside the transaction of ``RosterWarehouse.load_snapshot``."""

    def __init__(
        self,
        warehouse: RosterWarehouse,
        cursor: Any,
        dialect: Dialect,
        snapshot_date: str,
        run_id: str,
        field_codes: Sequence[str],
    ) -> None:
        self.warehouse = warehouse
        self.log = warehouse.log
        self.cursor = cursor
        self.dialect = dialect
        self.snapshot_date = snapshot_date
        self.run_id = run_id
        self.field_codes = [code for code in field_codes if code.lower() != "jobid"]
        self.hash_codes = list(field_codes)
        self.loaded_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        self.registry: dict[str, FieldColumns] = {}
        self.job_ids: set[str] = set()
        self.rows_written = 0
        self.type_changes: list[str] = []
        self.manager_report: ManagerReport | None = None

    # Schema: base tables, the column registry and schema drift.

    def _sql_type(self, generic: str) -> str:
        return self.dialect.types[generic]

    def prepare(self, *, replace: bool = True) -> None:
        """Create missing tables, read the column registry and, with ``replace``, delete the date's rows."""
        w = self.warehouse
        t = self._sql_type
        self.cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {quote(w.columns_table)} (field_code VARCHAR(200) PRIMARY KEY, "
            "kind VARCHAR(20) NOT NULL, base_name VARCHAR(63) NOT NULL)"
        )
        self.cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {quote(w.snapshot_table)} (snapshot_date {t('date')} NOT NULL, "
            f"job_id VARCHAR(64) NOT NULL, run_id VARCHAR(250) NOT NULL, loaded_at {t('timestamp')} NOT NULL, "
            f"row_hash VARCHAR(64) NOT NULL, row_data {t('json')} NOT NULL, PRIMARY KEY (snapshot_date, job_id))"
        )
        self.cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {quote(w.history_table)} (job_id VARCHAR(64) NOT NULL, "
            f"valid_from {t('date')} NOT NULL, valid_to {t('date')}, is_current {t('boolean')} NOT NULL, "
            "row_hash VARCHAR(64) NOT NULL, PRIMARY KEY (job_id, valid_from))"
        )
        # The view is recreated in finish(): PostgreSQL fixes a view's column list at creation and refuses
        # to change the type of a column a view reads.
        self.cursor.execute(f"DROP VIEW IF EXISTS {quote(w.current_view)}")
        self.cursor.execute(f"SELECT field_code, kind, base_name FROM {quote(w.columns_table)}")
        for code, kind, base_name in self.cursor.fetchall():
            self.registry[code] = FieldColumns(code, ColumnKind(kind), base_name)
        if replace:
            self.cursor.execute(
                f"DELETE FROM {quote(w.snapshot_table)} WHERE snapshot_date = {self.dialect.placeholder}",
                (self.snapshot_date,),
            )

    def carry_forward(self) -> int:
        """Copy the newest earlier snapshot into this date when the date has no rows yet; return rows copied.

        A change to one job then lands in a complete roster for the date, so the current view and the
        history keep every other job.
        """
        w = self.warehouse
        mark = self.dialect.placeholder
        self.cursor.execute(
            f"SELECT COUNT(*) FROM {quote(w.snapshot_table)} WHERE snapshot_date = {mark}", (self.snapshot_date,)
        )
        if self.cursor.fetchone()[0]:
            return 0
        field_names = [quote(name) for columns in self.registry.values() for name, _ in columns.columns]
        copied = ", ".join(["job_id", "row_hash", "row_data", *field_names])
        self.cursor.execute(
            f"INSERT INTO {quote(w.snapshot_table)} (snapshot_date, run_id, loaded_at, {copied}) "
            f"SELECT CAST({mark} AS {self._sql_type('date')}), {mark}, CAST({mark} AS {self._sql_type('timestamp')}), "
            f"{copied} FROM {quote(w.snapshot_table)} WHERE snapshot_date = "
            f"(SELECT MAX(snapshot_date) FROM {quote(w.snapshot_table)} WHERE snapshot_date < {mark})",
            (self.snapshot_date, self.run_id, self.loaded_at, self.snapshot_date),
        )
        return max(self.cursor.rowcount, 0)

    def delete_job(self, job_id: str) -> int:
        """Delete one job's row from this date's snapshot; return how many rows went (0 or 1)."""
        mark = self.dialect.placeholder
        self.cursor.execute(
            f"DELETE FROM {quote(self.warehouse.snapshot_table)} WHERE snapshot_date = {mark} AND job_id = {mark}",
            (self.snapshot_date, str(job_id)),
        )
        return max(self.cursor.rowcount, 0)

    def _add_columns(self, columns: FieldColumns) -> None:
        existing = {name for field in self.registry.values() for name, _ in field.columns}
        for name, generic in columns.columns:
            if name in existing:
                continue
            for table in (self.warehouse.snapshot_table, self.warehouse.history_table):
                self.cursor.execute(f"ALTER TABLE {quote(table)} ADD COLUMN {quote(name)} {self._sql_type(generic)}")

    def _register(self, code: str, kind: ColumnKind) -> None:
        base_name = column_base_name(code)
        used_names = {field.base_name for other, field in self.registry.items() if other != code}
        suffix = 2
        while base_name in used_names:
            base_name = f"{column_base_name(code)[:60]}_{suffix}"
            suffix += 1
        columns = FieldColumns(code, kind, base_name)
        self._add_columns(columns)
        self.registry[code] = columns
        self.cursor.execute(
            f"INSERT INTO {quote(self.warehouse.columns_table)} (field_code, kind, base_name) VALUES "
            f"({self.dialect.placeholder}, {self.dialect.placeholder}, {self.dialect.placeholder})",
            (code, kind.value, base_name),
        )
        self.log.info("Field %s is new: stored as %s in column(s) %s", code, kind.value, [n for n, _ in columns.columns])

    def _change_to_text(self, code: str, reason: str) -> None:
        old = self.registry[code]
        new = FieldColumns(code, ColumnKind.TEXT, old.base_name)
        if old.kind in (ColumnKind.MONEY, ColumnKind.PAY):
            self._add_columns(new)
        else:
            for table in (self.warehouse.snapshot_table, self.warehouse.history_table):
                self.dialect.change_column_to_text(self.cursor, table, old.base_name)
        self.registry[code] = new
        self.cursor.execute(
            f"UPDATE {quote(self.warehouse.columns_table)} SET kind = {self.dialect.placeholder} "
            f"WHERE field_code = {self.dialect.placeholder}",
            (ColumnKind.TEXT.value, code),
        )
        self.type_changes.append(code)
        self.log.warning(
            "Field %s changed type: %s. It was stored as %s and is stored as text from now on; its values in "
            "column %s are kept.",
            code,
            reason,
            old.kind.value,
            old.base_name,
        )

    # Rows.

    def _convert(self, row: Mapping[str, Any]) -> list[Any] | tuple[str, str]:
        """Return the field column values of a row, or ``(field code, reason)`` for the first misfit."""
        values: list[Any] = []
        for code, columns in self.registry.items():
            try:
                values.extend(columns.convert(field_value(row, code)))
            except ValueMismatch as mismatch:
                return code, str(mismatch)
        return values

    def write(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert one page of findJobs rows, adding a column for each field seen for the first time."""
        if not rows:
            return
        for row in rows:
            job_id = str(row["jobId"])
            if job_id in self.job_ids:
                raise ChartHopWarehouseError(
                    f"Job {job_id} appears twice in snapshot {self.snapshot_date}, so nothing was committed. "
                    "ChartHop sent the same job on two pages; run the task again."
                )
            self.job_ids.add(job_id)
        for code in self.field_codes:
            if code not in self.registry:
                kind = infer_kind(code, (field_value(row, code) for row in rows))
                if kind is not None:
                    self._register(code, kind)

        while True:
            converted: list[list[Any]] = []
            for row in rows:
                result = self._convert(row)
                if isinstance(result, tuple):
                    self._change_to_text(*result)
                    break
                converted.append(result)
            else:
                break

        field_names = [name for columns in self.registry.values() for name, _ in columns.columns]
        names = ["snapshot_date", "job_id", "run_id", "loaded_at", "row_hash", "row_data", *field_names]
        records = []
        for row, values in zip(rows, converted):
            data, digest = row_data_and_hash(row, self.hash_codes)
            records.append(
                [self.snapshot_date, str(row["jobId"]), self.run_id, self.loaded_at, digest, data, *values]
            )
        self.dialect.insert_rows(self.cursor, self.warehouse.snapshot_table, names, records)
        self.rows_written += len(records)

    # Checks, history and the current view.

    def _check_managers(self, policy: str) -> None:
        columns = self.registry.get(MANAGER_FIELD)
        if policy == "off" or columns is None or MANAGER_FIELD not in self.field_codes:
            return
        self.cursor.execute(
            f"SELECT job_id, {quote(columns.base_name)} FROM {quote(self.warehouse.snapshot_table)} "
            f"WHERE snapshot_date = {self.dialect.placeholder}",
            (self.snapshot_date,),
        )
        report = check_managers((str(job), None if manager is None else str(manager)) for job, manager in self.cursor)
        self.manager_report = report
        if report.self_managed or report.cycles or (report.unresolved and policy == "fail"):
            raise ChartHopWarehouseError(
                f"Snapshot {self.snapshot_date} failed the manager check, so nothing was committed. "
                + " ".join(f"{line}." for line in report.describe())
                + " Fix the reporting lines in ChartHop, or pass manager_policy='warn' when the extract is "
                "filtered and managers may fall outside it."
            )
        for line in report.describe():
            self.log.warning("Snapshot %s: %s", self.snapshot_date, line)

    def _rebuild_history(self) -> None:
        w = self.warehouse
        names = [quote(name) for columns in self.registry.values() for name, _ in columns.columns]
        snapshot_columns = "".join(f", s.{name}" for name in names)
        target_columns = "".join(f", {name}" for name in names)
        self.cursor.execute(f"DELETE FROM {quote(w.history_table)}")
        # Gaps and islands: consecutive snapshot dates on which a job has the same row hash form one version.
        self.cursor.execute(
            f"""
            WITH dates AS (
                SELECT snapshot_date, ROW_NUMBER() OVER (ORDER BY snapshot_date) AS date_index
                FROM (SELECT DISTINCT snapshot_date FROM {quote(w.snapshot_table)}) AS distinct_dates
            ),
            indexed AS (
                SELECT s.job_id, s.row_hash, s.snapshot_date, d.date_index,
                       d.date_index - ROW_NUMBER() OVER (
                           PARTITION BY s.job_id, s.row_hash ORDER BY s.snapshot_date
                       ) AS island
                FROM {quote(w.snapshot_table)} AS s JOIN dates AS d ON d.snapshot_date = s.snapshot_date
            ),
            versions AS (
                SELECT job_id, row_hash, MIN(snapshot_date) AS valid_from, MAX(date_index) AS last_index
                FROM indexed GROUP BY job_id, row_hash, island
            )
            INSERT INTO {quote(w.history_table)} (job_id, valid_from, valid_to, is_current, row_hash{target_columns})
            SELECT v.job_id, v.valid_from, next_date.snapshot_date, (next_date.snapshot_date IS NULL), v.row_hash
                   {snapshot_columns}
            FROM versions AS v
            JOIN {quote(w.snapshot_table)} AS s ON s.job_id = v.job_id AND s.snapshot_date = v.valid_from
            LEFT JOIN dates AS next_date ON next_date.date_index = v.last_index + 1
            """
        )

    def _create_current_view(self) -> None:
        w = self.warehouse
        self.cursor.execute(
            f"CREATE VIEW {quote(w.current_view)} AS SELECT * FROM {quote(w.snapshot_table)} "
            f"WHERE snapshot_date = (SELECT MAX(snapshot_date) FROM {quote(w.snapshot_table)})"
        )

    def finish(self, manager_policy: str) -> None:
        """Add columns for requested fields that stayed empty, run the checks, rebuild history and view."""
        for code in self.field_codes:
            if code not in self.registry:
                self._register(code, ColumnKind.TEXT)
        self._check_managers(manager_policy)
        self._rebuild_history()
        self._create_current_view()
