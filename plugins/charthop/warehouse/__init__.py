"""The roster model in a warehouse reached through an Airflow common-sql connection.

``RosterWarehouse``, ``SnapshotLoad`` and ``field_value`` live in ``charthop.warehouse.roster``. They are
imported on first use, so importing a light submodule (such as ``columns``) at DAG parse time stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RosterWarehouse", "SnapshotLoad", "field_value"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from charthop.warehouse import roster

        return getattr(roster, name)
    raise AttributeError(f"module 'charthop.warehouse' has no attribute {name!r}")
