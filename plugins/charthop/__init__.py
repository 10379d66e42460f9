"""Apache Airflow provider for ChartHop: roster extracts, payroll CSV imports and process tracking."""

from __future__ import annotations

__version__ = "0.1.0"


def get_provider_info() -> dict:
    """Describe this provider to Airflow's providers manager (the ``apache_airflow_provider`` entry point)."""
    return {
        "package-name": "airflow-provider-charthop",
        "name": "ChartHop",
        "description": "ChartHop org charts and HR data: roster extracts, CSV imports and process tracking.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "ChartHop",
                "external-doc-url": "https://docs.charthop.com/developer-basics",
                "tags": ["service"],
            }
        ],
        "hooks": [{"integration-name": "ChartHop", "python-modules": ["charthop.hooks.charthop"]}],
        "operators": [
            {
                "integration-name": "ChartHop",
                "python-modules": [
                    "charthop.operators.jobs",
                    "charthop.operators.imports",
                    "charthop.operators.process",
                ],
            }
        ],
        "sensors": [{"integration-name": "ChartHop", "python-modules": ["charthop.sensors.process"]}],
        "triggers": [{"integration-name": "ChartHop", "python-modules": ["charthop.triggers.process"]}],
        "connection-types": [
            {
                "hook-class-name": "charthop.hooks.charthop.ChartHopHook",
                "hook-name": "ChartHop",
                "connection-type": "charthop",
                "ui-field-behaviour": {
                    "hidden-fields": ["login", "schema", "port", "extra"],
                    "relabeling": {"password": "API token", "host": "API host"},
                    "placeholders": {"host": "api.charthop.com", "org_id": "acme or 588f7ee98f138b19220041a7"},
                },
                "conn-fields": {
                    "org_id": {
                        "label": "Org id or slug",
                        "description": "The ChartHop org to read and write: its 24-character id or its URL slug.",
                        "schema": {"type": ["string", "null"]},
                    },
                },
            }
        ],
    }
