"""The roster model loaded into real SQLite and PostgreSQL databases."""

from __future__ import annotations

import json
import sqlite3
import uuid
from decimal import Decimal

import pytest

from charthop.exceptions import ChartHopConfigError, ChartHopWarehouseError
from charthop.warehouse import RosterWarehouse

D1, D2, D3 = "2026-01-05", "2026-02-02", "2026-03-02"
FIELDS = ["jobId", "title", "personId", "manager"]


class Backend:
    """A warehouse database and a way to query it directly."""

    def __init__(self, name: str, location: str) -> None:
        self.name = name
        self.location = location

    def query(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        if self.name == "sqlite":
            with sqlite3.connect(self.location) as conn:
                return conn.execute(sql.replace("%s", "?"), parameters).fetchall()
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={self.location}") as conn:
            return conn.execute(sql, parameters).fetchall()

    def columns(self, table: str) -> list[str]:
        if self.name == "sqlite":
            return [row[1] for row in self.query(f'PRAGMA table_info("{table}")')]
        rows = self.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            (table,),
        )
        return [row[0] for row in rows]


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, tmp_path, monkeypatch) -> Backend:
    if request.param == "sqlite":
        path = tmp_path / "warehouse.db"
        monkeypatch.setenv("AIRFLOW_CONN_CHARTHOP_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(path)}))
        return Backend("sqlite", str(path))
    database = request.getfixturevalue("postgres_warehouse")
    return Backend("postgres", database)


@pytest.fixture
def warehouse(backend) -> RosterWarehouse:
    return RosterWarehouse("charthop_warehouse", table_prefix=f"t{uuid.uuid4().hex[:8]}")


def job(job_id: str, title: str = "Engineer", person: str | None = "p1", manager: str | None = None, **extra):
    return {"jobId": job_id, "title": title, "personId": person, "manager": manager, **extra}


def load(warehouse: RosterWarehouse, date: str, rows: list[dict], fields=FIELDS, **options) -> None:
    with warehouse.load_snapshot(date, f"run-{date}", fields, **options) as snapshot:
        snapshot.write(rows)


def history(backend: Backend, warehouse: RosterWarehouse) -> list[tuple]:
    rows = backend.query(
        f'SELECT job_id, valid_from, valid_to, is_current, title, person_id FROM "{warehouse.history_table}" '
        "ORDER BY job_id, valid_from"
    )
    return [(job_id, str(start), None if end is None else str(end), bool(current), title, person)
            for job_id, start, end, current, title, person in rows]  # fmt: skip


class TestTypedColumns:
    def test_ids_keep_leading_zeros(self, backend, warehouse):
        load(warehouse, D1, [job("a", **{"contact.employee": "000123"})], FIELDS + ["contact.employee"])
        assert backend.query(f'SELECT contact_employee FROM "{warehouse.snapshot_table}"') == [("000123",)]

    def test_dates_have_no_time_zone_shift(self, backend, warehouse):
        load(warehouse, D1, [job("a", startDate="2024-02-29")], FIELDS + ["startDate"])
        (value,) = backend.query(f'SELECT start_date FROM "{warehouse.snapshot_table}"')[0]
        assert str(value) == "2024-02-29"

    def test_money_is_exact_amount_and_currency(self, backend, warehouse):
        pay = {"interval": "YEARLY", "pay": {"amount": 1234567.89, "currency": "JPY", "places": 0}}
        load(warehouse, D1, [job("a", baseComp=pay)], FIELDS + ["baseComp"])
        amount, currency, interval = backend.query(
            f'SELECT base_comp_amount, base_comp_currency, base_comp_interval FROM "{warehouse.snapshot_table}"'
        )[0]
        assert Decimal(str(amount)) == Decimal("1234567.89")
        assert not isinstance(amount, float)
        assert (currency, interval) == ("JPY", "YEARLY")

    def test_list_stored_as_json_text(self, backend, warehouse):
        load(warehouse, D1, [job("a", esquemaDeContratacin=["Contractor", "Remote"])], FIELDS + ["esquemaDeContratacin"])
        (value,) = backend.query(f'SELECT esquema_de_contratacin FROM "{warehouse.snapshot_table}"')[0]
        # PostgreSQL stores JSON values as JSONB, which psycopg returns already decoded.
        assert (value if backend.name == "postgres" else json.loads(value)) == ["Contractor", "Remote"]

    def test_flat_and_nested_share_column(self, backend, warehouse):
        load(warehouse, D1, [{"jobId": "a", "name.first": "Zoë"}], ["jobId", "name.first"])
        load(warehouse, D2, [{"jobId": "a", "name": {"first": "Łukasz"}}], ["jobId", "name.first"])
        rows = backend.query(f'SELECT name_first FROM "{warehouse.snapshot_table}" ORDER BY snapshot_date')
        assert rows == [("Zoë",), ("Łukasz",)]

    def test_snapshot_keeps_load_metadata(self, backend, warehouse):
        load(warehouse, D1, [job("a")])
        (run_id, loaded_at) = backend.query(f'SELECT run_id, loaded_at FROM "{warehouse.snapshot_table}"')[0]
        assert run_id == f"run-{D1}"
        assert loaded_at is not None


class TestSchemaDrift:
    def test_new_field_adds_column(self, backend, warehouse):
        load(warehouse, D1, [job("a")])
        load(warehouse, D2, [job("a", costCenter="CC-12")], FIELDS + ["costCenter"])
        rows = backend.query(f'SELECT snapshot_date, cost_center FROM "{warehouse.snapshot_table}" ORDER BY 1')
        assert [row[1] for row in rows] == [None, "CC-12"]

    def test_dropped_field_keeps_column(self, backend, warehouse):
        load(warehouse, D1, [job("a", costCenter="CC-12")], FIELDS + ["costCenter"])
        load(warehouse, D2, [job("a")])
        assert "cost_center" in backend.columns(warehouse.snapshot_table)
        assert backend.query(
            f'SELECT cost_center FROM "{warehouse.snapshot_table}" WHERE snapshot_date = %s', (D2,)
        ) == [(None,)]

    def test_type_change_stored_as_text(self, backend, warehouse, capfd):
        load(warehouse, D1, [job("a", startDate="2024-01-01")], FIELDS + ["startDate"])
        load(warehouse, D2, [job("a", startDate="next spring")], FIELDS + ["startDate"])
        values = backend.query(f'SELECT start_date FROM "{warehouse.snapshot_table}" ORDER BY snapshot_date')
        assert [str(value) for (value,) in values] == ["2024-01-01", "next spring"]
        assert "Field startDate changed type" in capfd.readouterr().out

    def test_money_turning_text_gets_column(self, backend, warehouse):
        money = {"amount": 10, "currency": "USD"}
        load(warehouse, D1, [job("a", bonus=money)], FIELDS + ["bonus"])
        load(warehouse, D2, [job("a", bonus="ten dollars")], FIELDS + ["bonus"])
        assert backend.query(
            f'SELECT bonus FROM "{warehouse.snapshot_table}" WHERE snapshot_date = %s', (D2,)
        ) == [("ten dollars",)]

    def test_field_code_cannot_inject_sql(self, backend, warehouse):
        code = 'title"; DROP TABLE x; --'
        load(warehouse, D1, [{"jobId": "a", code: "boss"}], ["jobId", code])
        assert backend.query(f'SELECT title_drop_table_x FROM "{warehouse.snapshot_table}"') == [("boss",)]

    def test_invalid_prefix_rejected(self, backend):
        with pytest.raises(ChartHopConfigError, match="Invalid table prefix"):
            load(RosterWarehouse("charthop_warehouse", table_prefix='x"; drop'), D1, [job("a")])


class TestHistory:
    def test_versions_open_and_close(self, backend, warehouse):
        load(warehouse, D1, [job("a"), job("b"), job("c", person="p3"), job("d", person="p4")])
        load(warehouse, D2, [job("a"), job("b", title="Lead"), job("d", person=None)])
        load(warehouse, D3, [job("a"), job("b", title="Lead"), job("c", person="p3"), job("d", person=None)])
        assert history(backend, warehouse) == [
            ("a", D1, None, True, "Engineer", "p1"),
            ("b", D1, D2, False, "Engineer", "p1"),
            ("b", D2, None, True, "Lead", "p1"),
            ("c", D1, D2, False, "Engineer", "p3"),
            ("c", D3, None, True, "Engineer", "p3"),
            ("d", D1, D2, False, "Engineer", "p4"),
            ("d", D2, None, True, "Engineer", None),
        ]

    def test_return_to_old_value_is_new_version(self, backend, warehouse):
        load(warehouse, D1, [job("a", title="X")])
        load(warehouse, D2, [job("a", title="Y")])
        load(warehouse, D3, [job("a", title="X")])
        assert [row[1:3] for row in history(backend, warehouse)] == [(D1, D2), (D2, D3), (D3, None)]

    def test_out_of_order_loads_match(self, backend, warehouse):
        snapshots = {
            D1: [job("a"), job("b"), job("c")],
            D2: [job("a", title="Lead"), job("c", person=None)],
            D3: [job("a", title="Lead"), job("b"), job("c", person="p9")],
        }
        in_order = RosterWarehouse("charthop_warehouse", table_prefix=f"{warehouse.table_prefix}_in")
        for date in (D1, D2, D3):
            load(in_order, date, snapshots[date])
        for date in (D3, D1, D2):
            load(warehouse, date, snapshots[date])
        assert history(backend, warehouse) == history(backend, in_order)

    def test_current_view_shows_newest_date(self, backend, warehouse):
        load(warehouse, D2, [job("a"), job("b")])
        load(warehouse, D1, [job("a")])
        rows = backend.query(f'SELECT DISTINCT snapshot_date FROM "{warehouse.current_view}"')
        assert [str(row[0]) for row in rows] == [D2]


class TestChecks:
    def test_duplicate_job_rejected(self, backend, warehouse):
        with pytest.raises(ChartHopWarehouseError, match="Job a appears twice"):
            load(warehouse, D1, [job("a"), job("a")])

    def test_unresolved_manager_fails(self, backend, warehouse):
        with pytest.raises(ChartHopWarehouseError, match="a → ghost"):
            load(warehouse, D1, [job("a", manager="ghost")])

    def test_unresolved_manager_may_warn(self, backend, warehouse, capfd):
        load(warehouse, D1, [job("a", manager="ghost")], manager_policy="warn")
        assert backend.query(f'SELECT COUNT(*) FROM "{warehouse.snapshot_table}"') == [(1,)]
        assert "manager job missing from the snapshot" in capfd.readouterr().out

    def test_cycle_reported_by_id(self, backend, warehouse):
        with pytest.raises(ChartHopWarehouseError, match="manager cycles: a → b → c"):
            load(warehouse, D1, [job("a", manager="b"), job("b", manager="c"), job("c", manager="a")])

    def test_self_managed_reported_by_id(self, backend, warehouse):
        with pytest.raises(ChartHopWarehouseError, match="themselves as manager: a"):
            load(warehouse, D1, [job("a", manager="a")])

    def test_failed_load_changes_nothing(self, backend, warehouse):
        load(warehouse, D1, [job("a")])
        before_columns = backend.columns(warehouse.snapshot_table)
        before_rows = backend.query(f'SELECT * FROM "{warehouse.snapshot_table}"')
        with pytest.raises(ChartHopWarehouseError):
            load(warehouse, D1, [job("b", costCenter="CC", manager="b")], FIELDS + ["costCenter"])
        assert backend.columns(warehouse.snapshot_table) == before_columns
        assert backend.query(f'SELECT * FROM "{warehouse.snapshot_table}"') == before_rows


class _RecordingCursor:
    """Wraps a real DB-API cursor and records which of its methods were called."""

    def __init__(self, cursor) -> None:
        self._cursor = cursor
        self.calls: list[str] = []

    def __getattr__(self, name):
        self.calls.append(name)
        return getattr(self._cursor, name)


class TestPostgresCopy:
    def test_rows_go_through_copy(self, postgres_warehouse):
        import psycopg

        from charthop.warehouse.dialects import PostgresDialect

        with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={postgres_warehouse}") as conn:
            cursor = _RecordingCursor(conn.cursor())
            cursor.execute("CREATE TEMP TABLE copy_target (job_id TEXT, amount NUMERIC, day DATE)")
            PostgresDialect("%s").insert_rows(
                cursor, "copy_target", ["job_id", "amount", "day"], [["a", Decimal("1.10"), "2026-01-05"]]
            )
            rows = conn.execute("SELECT job_id, amount, day::text FROM copy_target").fetchall()
        assert "copy" in cursor.calls
        assert "executemany" not in cursor.calls
        assert rows == [("a", Decimal("1.10"), "2026-01-05")]


class TestDocumentedQueries:
    """The example queries of docs/warehouse.md run against a loaded PostgreSQL warehouse."""

    def queries(self) -> list[str]:
        from tests.conftest import REPO_ROOT

        text = (REPO_ROOT / "docs" / "warehouse.md").read_text()
        return [block.split("```", 1)[0] for block in text.split("```sql\n")[1:]]

    def test_each_query_runs(self, postgres_warehouse):
        import datetime as dt

        import psycopg

        backend = Backend("postgres", postgres_warehouse)
        warehouse = RosterWarehouse("charthop_warehouse")
        # The queries name the default tables, which other tests in this database may have filled.
        with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={postgres_warehouse}") as conn:
            conn.execute("DROP VIEW IF EXISTS charthop_roster_current")
            for table in ("snapshot", "history", "columns"):
                conn.execute(f"DROP TABLE IF EXISTS charthop_roster_{table}")
        fields = ["jobId", "title", "open", "manager", "name.first", "name.last", "department.name"]
        old = (dt.date.today() - dt.timedelta(days=40)).isoformat()
        new = (dt.date.today() - dt.timedelta(days=5)).isoformat()
        base = {"title": "Engineer", "name.first": "Ana", "name.last": "Ruiz", "department.name": "R&D"}
        load(warehouse, old, [{"jobId": "m1", "open": "filled", **base}, {"jobId": "m2", "open": "filled", **base},
                              {"jobId": "a", "open": "filled", "manager": "m1", **base}], fields)  # fmt: skip
        load(warehouse, new, [{"jobId": "m1", "open": "filled", **base}, {"jobId": "m2", "open": "open", **base},
                              {"jobId": "a", "open": "filled", "manager": "m2", **base}], fields)  # fmt: skip
        results = [backend.query(sql) for sql in self.queries()]
        assert len(results) == 3
        assert len(results[0]) == 2
        assert [row[0] for row in results[1]] == ["a"]
        assert [row[0] for row in results[2]] == ["m2"]


class TestConcurrentLoads:
    def test_parallel_dates_both_commit(self, backend, warehouse):
        import threading

        errors: list[BaseException] = []

        def run(date: str, rows: list[dict]) -> None:
            try:
                load(warehouse, date, rows)
            except BaseException as error:  # noqa: BLE001 - collected for the assert below
                errors.append(error)

        threads = [
            threading.Thread(target=run, args=(date, [job(f"{date}-{n}") for n in range(300)]))
            for date in (D1, D2, D3)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        assert backend.query(f'SELECT COUNT(*) FROM "{warehouse.snapshot_table}"') == [(900,)]
        assert backend.query(f'SELECT COUNT(*) FROM "{warehouse.history_table}"') == [(900,)]


class TestRowHash:
    def test_flat_and_nested_hash_alike(self):
        from charthop.warehouse.roster import row_data_and_hash, row_hash

        codes = ["jobId", "name.first", "title"]
        flat = {"jobId": "a", "name.first": "Zoë", "title": "CEO"}
        nested = {"jobId": "a", "name": {"first": "Zoë"}, "title": "CEO"}
        assert row_data_and_hash(flat, codes)[1] == row_hash(nested, codes)

    def test_extra_keys_take_slow_path(self):
        from charthop.warehouse.roster import row_data_and_hash, row_hash

        codes = ["jobId", "title"]
        row = {"jobId": "a", "title": "CEO", "unrequested": 1}
        assert row_data_and_hash(row, codes)[1] == row_hash(row, codes)
