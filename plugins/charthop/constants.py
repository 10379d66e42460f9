"""Names shared by the hook and the operators, in a module cheap to import at DAG parse time."""

from __future__ import annotations

#: Airflow connection id that the hook, operators and sensor use when none is given.
DEFAULT_CHARTHOP_CONN_ID = "charthop_default"

#: Values of ``manager_policy``: what a manager job missing from the snapshot does.
MANAGER_POLICIES = ("fail", "warn", "off")
