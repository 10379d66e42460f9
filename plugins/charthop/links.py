"""Extra links from task instances to ChartHop's web app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import XCom
from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.models.taskinstancekey import TaskInstanceKey


class _XComLink(BaseOperatorLink):
    """A link whose URL the task pushed to XCom under ``xcom_key`` while it ran."""

    name = ""

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        return XCom.get_value(ti_key=ti_key, key=self.xcom_key) or ""

    @classmethod
    def persist(cls, context: Any, url: str) -> None:
        """Store the link's URL for this task instance."""
        context["ti"].xcom_push(key=cls().xcom_key, value=url)


class ChartHopProcessLink(_XComLink):
    """Link from an import or a wait to the ChartHop process it started or watched."""

    name = "ChartHop process"


class ChartHopOrgLink(_XComLink):
    """Link from a roster extract to the ChartHop org it read."""

    name = "ChartHop org"
