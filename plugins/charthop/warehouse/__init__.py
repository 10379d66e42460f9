"""The roster model in a warehouse reached through an Airflow common-sql connection."""

from __future__ import annotations

from charthop.warehouse.roster import RosterWarehouse, SnapshotLoad, field_value

__all__ = ["RosterWarehouse", "SnapshotLoad", "field_value"]
