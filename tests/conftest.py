"""Shared test set-up: a throw-away Airflow home, created before anything imports airflow."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# Airflow reads these on first import, so they are set at module import time, before any test module imports it.
_airflow_home = Path(tempfile.mkdtemp(prefix="charthop-test-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_airflow_home)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO_ROOT / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(_airflow_home / "plugins")
# A second DAG bundle contains the test-only DAGs, so dag.test() can run them without adding them to dags/.
os.environ["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = json.dumps(
    [
        {"name": "dags-folder", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
         "kwargs": {"path": str(REPO_ROOT / "dags")}},
        {"name": "test-dags", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
         "kwargs": {"path": str(REPO_ROOT / "tests" / "dag_fixtures")}},
    ]
)  # fmt: skip
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")

pytest_plugins = ["tests.plugins.emulator_fixtures", "tests.plugins.airflow_services", "tests.plugins.reliability"]

import socket  # noqa: E402
import uuid  # noqa: E402

import pytest  # noqa: E402

#: Connection extras that keep retries fast in tests; production defaults start at 1 s and reach 60 s.
FAST_RETRY_EXTRAS = {"backoff_initial": 0.01, "max_retry_wait": 2, "timeout": 10, "max_attempts": 4}


def charthop_connection(url: str, token: str, org: str, **extra: object) -> str:
    """Return the JSON form of a ``charthop`` connection, as AIRFLOW_CONN_<ID> accepts it."""
    return json.dumps(
        {"conn_type": "charthop", "host": url, "password": token, "extra": {"org_id": org, **extra}}
    )


@pytest.fixture
def charthop_conn(emulator, monkeypatch) -> str:
    """A ``charthop`` connection, ``charthop_test``, pointed at the emulator, with fast retries."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_CHARTHOP_TEST",
        charthop_connection(emulator.url, emulator.token, emulator.org_slug, **FAST_RETRY_EXTRAS),
    )
    return "charthop_test"


@pytest.fixture
def sqlite_warehouse(tmp_path, monkeypatch) -> Path:
    """An empty SQLite warehouse file behind the connection ``charthop_warehouse``."""
    path = tmp_path / "warehouse.db"
    monkeypatch.setenv("AIRFLOW_CONN_CHARTHOP_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    return path


def _postgres_answers(host: str = "127.0.0.1", port: int = 5432) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_database():
    """A fresh PostgreSQL database on 127.0.0.1:5432 (user postgres), dropped at the end of the session.

    Skips when no server accepts connections there; CI always has one.
    """
    if not _postgres_answers():
        pytest.skip("No PostgreSQL server answers on 127.0.0.1:5432; the PostgreSQL tests need one.")
    import psycopg

    name = f"charthop_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_warehouse(postgres_database, monkeypatch) -> str:
    """The connection ``charthop_warehouse`` pointed at the session's PostgreSQL database."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_CHARTHOP_WAREHOUSE",
        json.dumps(
            {"conn_type": "postgres", "host": "127.0.0.1", "port": 5432, "login": "postgres", "schema": postgres_database}
        ),
    )
    return postgres_database


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """The test session's Airflow metadata database, migrated once; returns AIRFLOW_HOME."""
    import subprocess
    import sys

    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True, env=os.environ.copy())
    if result.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return _airflow_home


def job_count(emulator, q: str | None = None, date: str | None = None) -> int:
    """Return the emulator's countJobs ``jobCount`` for a filter and as-of date."""
    return int(emulator.count_jobs(q=q, date=date)["jobCount"])
