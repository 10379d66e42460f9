"""SQL differences between warehouses: column types, value binding, bulk inserts and column type changes."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any


def quote(identifier: str) -> str:
    """Quote an identifier that ``column_base_name`` or the table-name check already reduced to ``[a-z0-9_]``."""
    return f'"{identifier}"'


class Dialect:
    """A common-sql database reached through DB-API: the generic path, with ``executemany`` inserts.

    :param placeholder: the driver's parameter marker, such as ``%s`` or ``?``.
    """

    name = "generic"
    #: SQL types for the generic column types of ``FieldColumns.columns`` plus ``timestamp``.
    # NOTE: DECIMAL(38, 10) is a guess for databases this package does not test; it rounds amounts with
    # more than 10 decimal places.
    types = {
        "text": "TEXT",
        "date": "DATE",
        "decimal": "DECIMAL(38, 10)",
        "boolean": "BOOLEAN",
        "json": "TEXT",
        "timestamp": "TIMESTAMP",
    }

    def __init__(self, placeholder: str) -> None:
        self.placeholder = placeholder

    def bind(self, value: Any) -> Any:
        """Return a value in the form the driver accepts."""
        return value

    def insert_sql(self, table: str, columns: Sequence[str]) -> str:
        """Return the parameterised INSERT statement for ``columns`` of ``table``."""
        marks = ", ".join([self.placeholder] * len(columns))
        return f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) VALUES ({marks})"

    def insert_rows(self, cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert rows into ``table``; the caller owns the transaction."""
        cursor.executemany(self.insert_sql(table, columns), [[self.bind(value) for value in row] for row in rows])

    def change_column_to_text(self, cursor: Any, table: str, column: str) -> None:
        """Make ``column`` hold text. The generic path cannot alter a type portably, so it leaves it."""
        # NOTE: on databases other than PostgreSQL and SQLite a column whose field changed type keeps its
        # old type, and inserting text into it may fail.

    def true_literal(self) -> str:
        return "TRUE"


class SqliteDialect(Dialect):
    """SQLite: dates and amounts are stored as ISO and decimal text, because SQLite has neither type.

    A NUMERIC column would turn ``1234.10`` into a binary float; a TEXT column keeps the exact digits.
    """

    name = "sqlite"
    types = {
        "text": "TEXT",
        "date": "TEXT",
        "decimal": "TEXT",
        "boolean": "INTEGER",
        "json": "TEXT",
        "timestamp": "TEXT",
    }

    def insert_rows(self, cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        # One conversion call per row, not per value: a bind() call per value was a tenth of an extract's profile.
        cursor.executemany(self.insert_sql(table, columns), [_sqlite_row(row) for row in rows])

    def change_column_to_text(self, cursor: Any, table: str, column: str) -> None:
        """Nothing to do: SQLite stores text in a column of any declared type."""

    def true_literal(self) -> str:
        return "1"


class PostgresDialect(Dialect):
    """PostgreSQL: native types, and ``COPY ... FROM STDIN`` for inserts (psycopg 3)."""

    name = "postgres"
    types = {
        "text": "TEXT",
        "date": "DATE",
        "decimal": "NUMERIC",
        "boolean": "BOOLEAN",
        "json": "JSONB",
        "timestamp": "TIMESTAMPTZ",
    }

    def insert_rows(self, cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not hasattr(cursor, "copy"):
            super().insert_rows(cursor, table, columns, rows)
            return
        sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        with cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)

    def change_column_to_text(self, cursor: Any, table: str, column: str) -> None:
        cursor.execute(
            f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} TYPE TEXT USING {quote(column)}::text"
        )


def _sqlite_row(row: Sequence[Any]) -> list[Any]:
    """Return a row with decimals as exact text and booleans as 0 or 1, the forms SQLite stores."""
    values = list(row)
    for index, value in enumerate(values):
        kind = type(value)
        if kind is Decimal:
            values[index] = format(value, "f")
        elif kind is bool:
            values[index] = int(value)
    return values


def dialect_for(conn_type: str | None, placeholder: str) -> Dialect:
    """Return the dialect for an Airflow connection type."""
    if conn_type == "postgres":
        return PostgresDialect(placeholder)
    if conn_type == "sqlite":
        return SqliteDialect(placeholder)
    return Dialect(placeholder)
