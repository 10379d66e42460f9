"""Airflow plugin that mounts the ChartHop webhook receiver on the API server under ``/charthop``."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from charthop.webhook import app


class ChartHopPlugin(AirflowPlugin):
    """Serves ``POST /charthop/webhook`` on the Airflow API server's own port."""

    name = "charthop"
    fastapi_apps = [{"app": app, "url_prefix": "/charthop", "name": "ChartHop webhook receiver"}]
