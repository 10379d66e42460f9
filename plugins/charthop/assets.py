"""Airflow assets this provider's DAGs produce, for downstream DAGs to schedule on."""

from __future__ import annotations

from airflow.sdk import Asset

#: The roster tables (snapshot, history, current view) in the warehouse, updated by each roster extract.
CHARTHOP_ROSTER_ASSET = Asset(name="charthop_roster")
