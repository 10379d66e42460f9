"""Pytest plugin: real Airflow services (api-server, scheduler, dag-processor, triggerer) on loopback.

Each service runs as its own ``airflow`` subprocess, as in a deployment, so a test exercises the same
scheduling, parsing and execution API paths that production uses. The services get their own
temporary ``AIRFLOW_HOME``, metadata database, API port and secrets. No ``AIRFLOW*`` variable of the
pytest process reaches them, so other tests' Airflow home and database stay untouched.

How a test passes connections and other settings: environment variables are fixed when a process
starts, so a test asks the session-scoped factory for services with the environment it needs::

    @pytest.fixture(scope="class")
    def services(airflow_services_factory, emulator_process):
        return airflow_services_factory({"AIRFLOW_CONN_CHARTHOP_DEFAULT": "..."})

The factory keeps one set of services running and reuses it while the requested environment is the
same; a different environment stops the running set and starts a new one (15 to 21 s measured on a
2-core machine, migration included). The extra
variables are applied last, so they may also override the fixture's own ``AIRFLOW__*`` settings.
Tests that need no extra variables can use the ``airflow_services`` fixture, which calls the factory
with the ``airflow_services_env`` fixture. That fixture is empty by default, and a test module may
override it at any scope. Tests that use either fixture get the ``airflow_services`` marker automatically.

Metadata database: a SQLite file in the services' AIRFLOW_HOME by default. Airflow 3.3.2 accepts
SQLite with LocalExecutor, and on a 2-core machine 8 concurrent runs of 16 mapped tasks each
(parallelism 32) finished without a "database is locked" error. Set
``CHARTHOP_TEST_AIRFLOW_DB=postgres`` to use a fresh PostgreSQL database on 127.0.0.1:5432 (user
``postgres``, trust auth) instead, as production does. It is created per set of services and
dropped when they stop, and the fixtures skip when no server answers there.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO_ROOT / "dags"
AIRFLOW_BIN = Path(sys.executable).with_name("airflow")

SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
POSTGRES_HOST = "127.0.0.1"
POSTGRES_PORT = 5432
POSTGRES_ADMIN_DSN = f"host={POSTGRES_HOST} port={POSTGRES_PORT} user=postgres dbname=postgres"

START_TIMEOUT_SECONDS = 120
PARSE_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 20
POLL_SECONDS = 0.5
LOG_TAIL_LINES = 40
FINISHED_RUN_STATES = frozenset({"success", "failed"})
METADATA_DBS = ("sqlite", "postgres")
METADATA_DB_VARIABLE = "CHARTHOP_TEST_AIRFLOW_DB"


class AirflowServicesError(RuntimeError):
    """Raised when a service fails to start, exits early, or an API or CLI call fails."""


def _free_port() -> int:
    # NOTE: another process may take the port before the API server binds it. The API server then
    # exits, and start() raises with its log.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_answers(host: str = POSTGRES_HOST, port: int = POSTGRES_PORT) -> bool:
    """Return whether a TCP connection to the PostgreSQL server succeeds within 2 s."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def expected_dag_ids(dags_folder: Path = DAGS_FOLDER) -> list[str]:
    """Parse ``dags_folder`` in this process and return its DAG ids, raising on import errors."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dags_folder))
    if bag.import_errors:
        raise AirflowServicesError(f"Import of DAG files in {dags_folder} failed: {bag.import_errors}")
    return sorted(bag.dag_ids)


class AirflowServices:
    """Airflow services on loopback with their own AIRFLOW_HOME, metadata database and API port.

    :param home: empty folder used as ``AIRFLOW_HOME``.
    :param env: extra environment variables for every service and CLI call, applied last.
    :param dag_ids: DAG ids that must be parsed before ``start`` returns; ``None`` waits for every DAG
        of the DAGs folder.
    :param metadata_db: ``sqlite`` (a file in ``home``) or ``postgres`` (a new database on 127.0.0.1:5432).
    """

    def __init__(
        self,
        home: Path,
        env: Mapping[str, str] | None = None,
        dag_ids: Iterable[str] | None = None,
        metadata_db: str = "sqlite",
    ) -> None:
        if metadata_db not in METADATA_DBS:
            raise ValueError(f"Invalid metadata_db {metadata_db!r}: use one of {', '.join(METADATA_DBS)}.")
        self.home = home
        self.extra_env = dict(env or {})
        self.dag_ids = list(dag_ids) if dag_ids is not None else None
        self.metadata_db = metadata_db
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = f"airflow_services_{uuid.uuid4().hex[:10]}"
        self.env = self._build_env()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.session = requests.Session()
        self._token: str | None = None
        self._database_created = False
        self.start_seconds: float | None = None

    def _build_env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "_AIRFLOW"))}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(self.home / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                "AIRFLOW__CORE__AUTH_MANAGER": (
                    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self._sql_alchemy_conn(),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__API__WORKERS": "1",
                # Every process signs and checks the same JWTs, so they must share these secrets.
                "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def _sql_alchemy_conn(self) -> str:
        if self.metadata_db == "sqlite":
            return f"sqlite:///{self.home / 'airflow.db'}"
        return f"postgresql+psycopg://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/{self.database}"

    # Start and stop

    def start(self) -> AirflowServices:
        """Create the database, migrate it, start the services and wait until the DAGs are parsed."""
        started = time.monotonic()
        (self.home / "plugins").mkdir(parents=True, exist_ok=True)
        (self.home / "service-logs").mkdir(exist_ok=True)
        try:
            if self.metadata_db == "postgres":
                self._create_database()
            self.cli("db", "migrate", timeout=300)
            for name in SERVICES:
                self._spawn(name)
            self._wait_healthy()
            dags_folder = Path(self.env["AIRFLOW__CORE__DAGS_FOLDER"])
            self._wait_parsed(self.dag_ids if self.dag_ids is not None else expected_dag_ids(dags_folder))
        except BaseException:
            self.stop()
            raise
        self.start_seconds = round(time.monotonic() - started, 1)
        return self

    def _create_database(self) -> None:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.database}"')
        self._database_created = True

    def _drop_database(self) -> None:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        self._database_created = False

    def _spawn(self, name: str) -> None:
        command = [str(AIRFLOW_BIN), name]
        if name == "api-server":
            command += ["--host", "127.0.0.1", "--port", str(self.port)]
        elif name in ("scheduler", "triggerer"):
            # Their log servers listen on all interfaces; the API server reads the task log files directly.
            command.append("--skip-serve-logs")
        with self.log_path(name).open("wb") as log:
            # A new session per service makes it a process group, so stop() reaches its workers too.
            self.processes[name] = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self.env, cwd=self.home, start_new_session=True,
            )

    def log_path(self, service: str) -> Path:
        """Return the file that contains a service's stdout and stderr."""
        return self.home / "service-logs" / f"{service}.log"

    def log_tail(self, service: str, lines: int = LOG_TAIL_LINES) -> str:
        """Return the last ``lines`` lines of a service's log."""
        path = self.log_path(service)
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def logs_report(self) -> str:
        """Return the exit code and log tail of every service, for error messages."""
        parts = []
        # Services that exited come first: their logs usually hold the cause.
        ordered = sorted(self.processes.items(), key=lambda item: item[1].poll() is None)
        for name, process in ordered:
            code = process.poll()
            status = "running" if code is None else f"exited with code {code}"
            parts.append(f"--- {name} ({status}), last {LOG_TAIL_LINES} lines of {self.log_path(name)}:\n"
                         f"{self.log_tail(name)}")
        return "\n".join(parts)

    def _check_alive(self) -> None:
        exited = [name for name, process in self.processes.items() if process.poll() is not None]
        if exited:
            raise AirflowServicesError(
                f"Airflow service(s) {', '.join(exited)} exited unexpectedly. Their logs follow.\n{self.logs_report()}"
            )

    def _wait_healthy(self) -> None:
        """Wait until the API server responds and reports scheduler, triggerer and DAG processor healthy."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        health: Any = None
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                response = self.session.get(f"{self.url}/api/v2/monitor/health", timeout=5)
            except requests.ConnectionError:
                response = None
            if response is not None and response.status_code == 200:
                health = response.json()
                components = ("metadatabase", "scheduler", "triggerer", "dag_processor")
                if all((health.get(name) or {}).get("status") == "healthy" for name in components):
                    return
            time.sleep(POLL_SECONDS)
        raise AirflowServicesError(
            f"Timed out after {START_TIMEOUT_SECONDS} s waiting for {self.url}/api/v2/monitor/health to report "
            f"every component healthy (last response: {health}).\n{self.logs_report()}"
        )

    def _wait_parsed(self, dag_ids: Iterable[str]) -> None:
        """Wait until the DAG processor has stored each DAG, as the REST API reports it."""
        deadline = time.monotonic() + PARSE_TIMEOUT_SECONDS
        missing = set(dag_ids)
        while time.monotonic() < deadline:
            self._check_alive()
            for dag_id in sorted(missing):
                if self.api("GET", f"/api/v2/dags/{dag_id}", check=False).status_code == 200:
                    missing.discard(dag_id)
            if not missing:
                return
            time.sleep(POLL_SECONDS)
        import_errors = self.api("GET", "/api/v2/importErrors", check=False).text
        raise AirflowServicesError(
            f"Timed out after {PARSE_TIMEOUT_SECONDS} s waiting for the DAG processor to store DAG(s) "
            f"{sorted(missing)}. Import errors: {import_errors}\n{self.logs_report()}"
        )

    def stop(self) -> None:
        """Terminate every service's process group, kill what is left after 20 s, then drop the database."""
        self.session.close()
        for process in self.processes.values():
            self._signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for process in self.processes.values():
            # The group leader may have exited while its workers still run: kill the whole group.
            self._signal_group(process, signal.SIGKILL)
            if process.poll() is None:
                process.wait(timeout=10)
        self.processes.clear()
        if self._database_created:
            self._drop_database()

    @staticmethod
    def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass

    # REST API

    @property
    def admin_password(self) -> str:
        """The simple auth manager's generated password of the ``admin`` user."""
        path = self.home / "simple_auth_manager_passwords.json.generated"
        return json.loads(path.read_text())["admin"]

    def token(self, refresh: bool = False) -> str:
        """Return a REST API JWT for ``admin`` from ``POST /auth/token``, cached until ``refresh``."""
        if self._token is None or refresh:
            response = self.session.post(
                f"{self.url}/auth/token", json={"username": "admin", "password": self.admin_password}, timeout=30
            )
            if response.status_code not in (200, 201):
                raise AirflowServicesError(f"POST /auth/token failed with {response.status_code}: {response.text}")
            self._token = response.json()["access_token"]
        return self._token

    def api(self, method: str, path: str, *, check: bool = True, **kwargs: Any) -> requests.Response:
        """Call the REST API as ``admin``, raising ``AirflowServicesError`` on a 4xx or 5xx status if ``check``."""
        kwargs.setdefault("timeout", 30)
        headers = dict(kwargs.pop("headers", {}))
        headers["Authorization"] = f"Bearer {self.token()}"
        response = self.session.request(method, f"{self.url}{path}", headers=headers, **kwargs)
        if response.status_code == 401:
            # The JWT expired: fetch a new one and send the request once more.
            headers["Authorization"] = f"Bearer {self.token(refresh=True)}"
            response = self.session.request(method, f"{self.url}{path}", headers=headers, **kwargs)
        if check and response.status_code >= 400:
            raise AirflowServicesError(f"{method} {path} failed with {response.status_code}: {response.text}")
        return response

    def unpause(self, dag_id: str) -> None:
        """Unpause a DAG."""
        self.api("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None, logical_date: str | None = None) -> dict:
        """Create a manual DAG run and return it. ``logical_date`` is ISO 8601, or ``None`` for no date."""
        body = {"logical_date": logical_date, "conf": dict(conf or {})}
        return self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", json=body).json()

    def get_run(self, dag_id: str, run_id: str) -> dict:
        """Return one DAG run as the REST API lists it."""
        return self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}").json()

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        """Return the task instances of a DAG run."""
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        return self.api("GET", path, params={"limit": 100}).json()["task_instances"]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int, lines: int = LOG_TAIL_LINES) -> str:
        """Return the last ``lines`` events of one task try's log, with any exception, as text."""
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}"
        response = self.api("GET", path, check=False, headers={"Accept": "application/json"})
        if response.status_code != 200:
            return f"(no log: {response.status_code} {response.text})"
        text_lines = []
        for event in response.json()["content"][-lines:]:
            line = f"{event.get('level', '')} {event.get('event', '')}"
            for error in event.get("error_detail") or []:
                line += f" [{error.get('exc_type')}: {error.get('exc_value')}]"
            text_lines.append(line)
        return "\n".join(text_lines)

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 120, fail_on_retry: bool = False) -> str:
        """Wait until a DAG run is ``success`` or ``failed`` and return that state.

        :param fail_on_retry: raise as soon as a task instance is ``up_for_retry``, with its log,
            instead of waiting through the retry delay.
        :raises AirflowServicesError: on timeout, a retry with ``fail_on_retry``, or a service that exited.
        """
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            self._check_alive()
            state = self.get_run(dag_id, run_id)["state"]
            if state in FINISHED_RUN_STATES:
                return state
            if fail_on_retry:
                for ti in self.task_instances(dag_id, run_id):
                    if ti["state"] == "up_for_retry":
                        log = self.task_log(dag_id, run_id, ti["task_id"], ti["try_number"])
                        raise AirflowServicesError(
                            f"Task {ti['task_id']} of {dag_id}/{run_id} failed try {ti['try_number']} and is "
                            f"up for retry. Task log:\n{log}"
                        )
            time.sleep(POLL_SECONDS)
        task_states = {ti["task_id"]: ti["state"] for ti in self.task_instances(dag_id, run_id)}
        raise AirflowServicesError(
            f"Timed out after {timeout} s waiting for DAG run {dag_id}/{run_id}, still {state}. "
            f"Task states: {task_states}\n{self.logs_report()}"
        )

    def list_runs(self, dag_id: str) -> list[dict]:
        """Return every run of a DAG, oldest logical date first."""
        runs: list[dict] = []
        while True:
            page = self.api(
                "GET", f"/api/v2/dags/{dag_id}/dagRuns",
                params={"limit": 100, "offset": len(runs), "order_by": "logical_date"},
            ).json()
            runs += page["dag_runs"]
            if not page["dag_runs"] or len(runs) >= page["total_entries"]:
                return runs

    def list_backfills(self, dag_id: str) -> list[dict]:
        """Return every backfill of a DAG."""
        return self.api("GET", "/api/v2/backfills", params={"dag_id": dag_id, "limit": 100}).json()["backfills"]

    def wait_for_backfills(self, dag_id: str, timeout: float = 120) -> list[dict]:
        """Wait until every backfill of a DAG is completed and return them.

        The scheduler marks a backfill completed on a fixed 30 s timer after its last run finishes
        (Airflow 3.3), and ``airflow backfill create`` rejects a new one for the DAG until then.
        """
        deadline = time.monotonic() + timeout
        backfills: list[dict] = []
        while time.monotonic() < deadline:
            self._check_alive()
            backfills = self.list_backfills(dag_id)
            if all(backfill["completed_at"] for backfill in backfills):
                return backfills
            time.sleep(POLL_SECONDS)
        raise AirflowServicesError(
            f"Timed out after {timeout} s waiting for the backfills of {dag_id} to complete: {backfills}\n"
            f"{self.logs_report()}"
        )

    # CLI

    def cli(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the ``airflow`` CLI with the services' AIRFLOW_HOME and environment."""
        result = subprocess.run(
            [str(AIRFLOW_BIN), *args], capture_output=True, text=True, env=self.env, cwd=self.home,
            timeout=timeout, stdin=subprocess.DEVNULL,
        )
        if check and result.returncode != 0:
            raise AirflowServicesError(
                f"airflow {' '.join(args)} failed with exit code {result.returncode}:\n"
                f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
            )
        return result


class AirflowServicesFactory:
    """Starts ``AirflowServices`` on request, keeping one set running while the request stays the same."""

    def __init__(self, base_dir: Path, metadata_db: str = "sqlite") -> None:
        self.base_dir = base_dir
        self.metadata_db = metadata_db
        self.current: AirflowServices | None = None
        self._key: tuple[Any, ...] | None = None
        self._count = 0

    def __call__(self, env: Mapping[str, str] | None = None, dag_ids: Iterable[str] | None = None) -> AirflowServices:
        """Return running services with ``env``, starting them (and stopping others) when needed."""
        dag_list = tuple(dag_ids) if dag_ids is not None else None
        key = (tuple(sorted((env or {}).items())), dag_list)
        if self.current is not None and key == self._key:
            return self.current
        self.close()
        if self.metadata_db == "postgres" and not postgres_answers():
            pytest.skip(
                f"No PostgreSQL server answers on {POSTGRES_HOST}:{POSTGRES_PORT}; the Airflow services tests use "
                "it as their metadata database. Start one (pg_ctlcluster 15 main start) to run them."
            )
        self._count += 1
        home = self.base_dir / f"airflow-home-{self._count}"
        home.mkdir(parents=True)
        self.current = AirflowServices(home, env, dag_list, self.metadata_db).start()
        self._key = key
        return self.current

    def close(self) -> None:
        """Stop the running services, if any."""
        if self.current is not None:
            current, self.current, self._key = self.current, None, None
            current.stop()


@pytest.fixture(scope="session")
def airflow_services_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowServicesFactory]:
    """Factory of Airflow services: ``airflow_services_factory(env)`` returns running services with ``env``."""
    metadata_db = os.environ.get(METADATA_DB_VARIABLE, "sqlite")
    if metadata_db not in METADATA_DBS:
        raise ValueError(f"Invalid {METADATA_DB_VARIABLE}={metadata_db!r}: use one of {', '.join(METADATA_DBS)}.")
    factory = AirflowServicesFactory(tmp_path_factory.mktemp("airflow-services"), metadata_db)
    yield factory
    factory.close()


@pytest.fixture
def airflow_services_env() -> dict[str, str]:
    """Extra environment variables (such as ``AIRFLOW_CONN_*``) for ``airflow_services``, none by default."""
    return {}


@pytest.fixture
def airflow_services(
    airflow_services_factory: AirflowServicesFactory, airflow_services_env: dict[str, str]
) -> AirflowServices:
    """Running Airflow services with ``airflow_services_env``, shared by tests that request the same env."""
    return airflow_services_factory(airflow_services_env)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the services with ``airflow_services``."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "airflow_services" in fixtures or "airflow_services_factory" in fixtures:
            item.add_marker(pytest.mark.airflow_services)
