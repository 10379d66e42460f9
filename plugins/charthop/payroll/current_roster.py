"""Streaming the current roster out of the warehouse for the payroll diff."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

from airflow.providers.common.sql.hooks.sql import DbApiHook

from charthop.exceptions import ChartHopConfigError
from charthop.warehouse.dialects import quote

_VIEW_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
DEFAULT_BATCH_SIZE = 1000


def read_current_roster(
    db_hook: DbApiHook, view: str = "charthop_roster_current", *, batch_size: int = DEFAULT_BATCH_SIZE
) -> Iterator[dict[str, Any]]:
    """Yield the rows of the current-roster view as dicts keyed by column name, ``batch_size`` rows at a time.

    On PostgreSQL a named (server-side) cursor is used, so the result is not loaded into memory at once.
    The connection is closed when the iterator is exhausted or closed. Values come as the driver returns
    them: SQLite gives dates and amounts as text, PostgreSQL as ``datetime.date`` and ``Decimal``.

    :param db_hook: a common-sql hook of the warehouse; SQLite and PostgreSQL are tested.
    :param view: the view or table to read; lowercase letters, digits and underscores. The default is the
        view that ``RosterWarehouse`` maintains with its default prefix.
    :param batch_size: rows fetched per round trip; 1000 by default.
    :raises ChartHopConfigError: ``view`` is not a plain lowercase identifier.
    """
    if not _VIEW_NAME.match(view):
        raise ChartHopConfigError(
            f"Invalid roster view name {view!r}: use lowercase letters, digits and underscores, such as "
            "'charthop_roster_current'."
        )
    conn = db_hook.get_conn()
    server_side = getattr(db_hook, "conn_type", None) == "postgres"
    try:
        # psycopg and psycopg2 both open a server-side cursor when the cursor has a name.
        cursor = conn.cursor(name=f"charthop_roster_{uuid.uuid4().hex[:12]}") if server_side else conn.cursor()
        try:
            cursor.execute(f"SELECT * FROM {quote(view)}")
            columns: list[str] | None = None
            while True:
                batch = cursor.fetchmany(batch_size)
                if not batch:
                    break
                if columns is None:
                    columns = [description[0] for description in cursor.description]
                for values in batch:
                    yield _as_dict(columns, values)
        finally:
            cursor.close()
    finally:
        if server_side:
            conn.rollback()
        conn.close()


def _as_dict(columns: list[str], values: Any) -> dict[str, Any]:
    # PostgresHook can be configured with a dict row factory, so rows may already be mappings.
    if isinstance(values, dict):
        return dict(values)
    return dict(zip(columns, values, strict=True))
