"""A worker killed with SIGKILL in the middle of a load leaves the warehouse as it was, and unlocked."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from charthop.warehouse import RosterWarehouse
from tests.charthop.warehouse.test_roster import D1, D2, FIELDS, Backend, backend, job, load  # noqa: F401

CHILD = textwrap.dedent(
    """
    import sys, time
    from charthop.warehouse import RosterWarehouse
    warehouse = RosterWarehouse("charthop_warehouse", table_prefix=sys.argv[1])
    fields = ["jobId", "title", "personId", "manager"]
    with warehouse.load_snapshot(sys.argv[2], "doomed-run", fields) as snapshot:
        for page in range(3):
            snapshot.write([{"jobId": f"k{page}-{n}", "title": "Doomed", "personId": None, "manager": None}
                            for n in range(500)])
        print("WRITING", flush=True)
        time.sleep(120)
    """
)


def checksum(backend: Backend, warehouse: RosterWarehouse) -> str:
    rows = []
    for table in (warehouse.snapshot_table, warehouse.history_table):
        rows.append(backend.query(f'SELECT * FROM "{table}" ORDER BY 1, 2'))
    rows.append(backend.columns(warehouse.snapshot_table))
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


@pytest.mark.fault_cell(stage="extract", fault="worker killed (SIGKILL) mid-load", expect="rolled back, lock released")
class TestKilledLoad:
    def test_kill_leaves_tables_and_lock(self, backend, tmp_path):
        warehouse = RosterWarehouse("charthop_warehouse", table_prefix=f"killed_{os.getpid()}_{backend.name}")
        load(warehouse, D1, [job("a"), job("b")])
        before = checksum(backend, warehouse)
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, warehouse.table_prefix, D1],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
        )  # fmt: skip
        line = child.stdout.readline()
        assert line.strip() == "WRITING", child.stderr.read()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        assert checksum(backend, warehouse) == before
        load(warehouse, D2, [job("a")], manager_policy="warn")
        assert backend.query(f'SELECT COUNT(*) FROM "{warehouse.snapshot_table}" WHERE snapshot_date = %s', (D2,)) == [(1,)]
