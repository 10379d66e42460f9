"""Pytest plugin: run the ChartHop emulator as a subprocess and talk to it over loopback HTTP."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
INCLUDE_DIR = REPO_ROOT / "include"
READY_TIMEOUT_SECONDS = 60
SESSION_TOKEN = "chs-test-9f3e1d7c2b"
TERMINAL_STATUSES = ("DONE", "ERROR")


class EmulatorProcess:
    """A running ``python -m charthop_emulator`` subprocess and helpers for its admin API."""

    def __init__(self, *args: str, token: str = "emulator-token") -> None:
        self.token = token
        self._stderr = tempfile.TemporaryFile(mode="w+b")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(INCLUDE_DIR), env.get("PYTHONPATH")]))
        command = [sys.executable, "-m", "charthop_emulator", "--port", "0", "--token", token, *args]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL, env=env, cwd=REPO_ROOT,
        )
        self.ready = self._wait_ready()
        self.url: str = self.ready["url"]
        host_port = self.url.split("://", 1)[1]
        self.host, port = host_port.rsplit(":", 1)
        self.port = int(port)
        self.org_id: str = self.ready["org_id"]
        self.org_slug: str = self.ready["org_slug"]
        self.today: str = self.ready["today"]
        self.jobs_today: int = self.ready["jobs_today"]
        self.session = requests.Session()

    def _wait_ready(self) -> dict[str, Any]:
        lines: queue.Queue[bytes] = queue.Queue()
        assert self.process.stdout is not None
        stdout = self.process.stdout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=READY_TIMEOUT_SECONDS)
        except queue.Empty:
            self.stop()
            raise RuntimeError(f"emulator not ready after {READY_TIMEOUT_SECONDS} s; stderr:\n{self.stderr()}") from None
        if not line:
            self.process.wait(timeout=10)
            raise RuntimeError(
                f"emulator exited with code {self.process.returncode} before it was ready; stderr:\n{self.stderr()}"
            )
        return json.loads(line)

    def stderr(self) -> str:
        """Return everything the process wrote to stderr so far."""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def _admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.session.request(method, f"{self.url}/_emulator/{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()

    def set_faults(self, faults: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Replace the fault rules; return them as the emulator lists them."""
        return self._admin("POST", "faults", json=faults)

    def faults(self) -> list[dict[str, Any]]:
        """Return the fault rules with their ``seen`` and ``fired`` counters."""
        return self._admin("GET", "faults")

    def clear_faults(self) -> None:
        self._admin("DELETE", "faults")

    def add_token(self, token: str, permissions: list[str]) -> None:
        self._admin("POST", "tokens", json={"token": token, "permissions": permissions})

    def requests_log(self) -> list[dict[str, Any]]:
        """Return the API requests the emulator received since the last clear or reset."""
        return self._admin("GET", "requests")

    def clear_requests(self) -> None:
        self._admin("DELETE", "requests")

    def reset(self) -> None:
        """Clear faults, logs, extra tokens, processes and webhooks; restore settings and a changed org."""
        self._admin("POST", "reset")

    def get(self, path: str, params: Any = None, token: str | None = None, **kwargs: Any) -> requests.Response:
        """GET an API path (``{org}`` is replaced by the org id) with the given token (default: the full one)."""
        headers = kwargs.pop("headers", {})
        headers.setdefault("Authorization", f"Bearer {token or self.token}")
        return self.session.get(f"{self.url}{path.format(org=self.org_id)}", params=params, headers=headers,
                                timeout=kwargs.pop("timeout", 30), **kwargs)

    def page_through(self, path: str, params: dict[str, Any] | None = None, max_pages: int = 500,
                     **kwargs: Any) -> list[dict[str, Any]]:
        """Follow ``next`` from the first page until it is absent; return every page body in order.

        :raises AssertionError: on a non-200 page or when ``max_pages`` is exceeded.
        """
        pages: list[dict[str, Any]] = []
        cursor: str | None = None
        while len(pages) < max_pages:
            page_params = dict(params or {})
            if cursor is not None:
                page_params["from"] = cursor
            response = self.get(path, page_params, **kwargs)
            assert response.status_code == 200, response.text
            body = response.json()
            pages.append(body)
            cursor = body.get("next")
            if not cursor:
                return pages
        raise AssertionError(f"paging {path} did not end within {max_pages} pages")

    def count_jobs(self, q: str | None = None, date: str | None = None) -> dict[str, int]:
        """Call countJobs with the full-permission token and return the OrgCount."""
        params = {key: value for key, value in (("q", q), ("date", date)) if value is not None}
        response = self.session.get(
            f"{self.url}/v2/org/{self.org_id}/job/count", params=params,
            headers={"Authorization": f"Bearer {self.token}"}, timeout=30,
        )
        response.raise_for_status()
        return response.json()

    # --- write side: imports, processes, webhooks ---------------------------------------------------

    def api(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        """Call an API path (``{org}`` is replaced by the org id) with any method and the given token."""
        headers = kwargs.pop("headers", {})
        headers.setdefault("Authorization", f"Bearer {token or self.token}")
        return self.session.request(method, f"{self.url}{path.format(org=self.org_id)}", headers=headers,
                                    timeout=kwargs.pop("timeout", 30), **kwargs)

    def import_csv(self, data: bytes | str, params: Any = None, token: str | None = None,
                   filename: str = "import.csv", part_name: str = "file") -> requests.Response:
        """POST a CSV to importDataCsv as multipart part ``part_name``; ``params`` are sent as given."""
        body = data.encode("utf-8") if isinstance(data, str) else data
        return self.api("POST", "/v1/org/{org}/import/csv/data", token=token, params=params,
                        files={part_name: (filename, body, "text/csv")})

    def get_process(self, process_id: str, token: str | None = None, **params: Any) -> dict[str, Any]:
        """Call getProcess and return the Process (raises on a non-2xx response)."""
        response = self.api("GET", f"/v1/org/{{org}}/process/{process_id}", token=token, params=params or None)
        response.raise_for_status()
        return response.json()

    def update_process(self, process_id: str, body: Any, token: str | None = None) -> requests.Response:
        """PATCH a process with an UpdateProcess body (updateProcess)."""
        return self.api("PATCH", f"/v1/org/{{org}}/process/{process_id}", token=token, json=body)

    def wait_process(self, process_id: str, timeout: float = 15.0, interval: float = 0.05) -> dict[str, Any]:
        """Poll getProcess until the process is DONE or ERROR; return it.

        :raises AssertionError: when it is still running after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            process = self.get_process(process_id)
            if process["status"] in TERMINAL_STATUSES:
                return process
            if time.monotonic() > deadline:
                raise AssertionError(f"process {process_id} still {process['status']} after {timeout} s")
            time.sleep(interval)

    def import_and_wait(self, data: bytes | str, params: Any = None, **kwargs: Any) -> dict[str, Any]:
        """Upload a CSV, wait for its process to finish and return the finished process."""
        response = self.import_csv(data, params, **kwargs)
        assert response.status_code == 200, response.text
        return self.wait_process(response.json()["id"])

    def set_import_settings(self, seconds: float | None = None, mode: str | None = None) -> dict[str, Any]:
        """Set how long imports take and how they fail, for imports uploaded from now on."""
        body = {key: value for key, value in (("seconds", seconds), ("mode", mode)) if value is not None}
        return self._admin("POST", "imports/settings", json=body)

    def imports(self) -> list[dict[str, Any]]:
        """Return the recorded importDataCsv calls (query, ignored names, file, outcome)."""
        return self._admin("GET", "imports")

    def clear_imports(self) -> None:
        self._admin("DELETE", "imports")

    def create_process(self, **fields: Any) -> dict[str, Any]:
        """Create a process through the admin API (e.g. ``label="Sync", status="PENDING"``); return it."""
        return self._admin("POST", "processes", json=fields)

    def process_history(self, process_id: str) -> list[dict[str, Any]]:
        """Return every status, progress and message change of a process."""
        return self._admin("GET", f"processes/{process_id}/history")

    def set_webhooks(self, url: str, secret: str | None = None, **options: Any) -> dict[str, Any]:
        """Send events to ``url``; ``options`` are signature_header, lowercase_keys, redeliveries, app_name."""
        return self._admin("POST", "webhooks", json={"url": url, "secret": secret, **options})

    def webhooks(self) -> dict[str, Any]:
        """Return the webhook configuration (without the secret), the events and the deliveries."""
        return self._admin("GET", "webhooks")

    def clear_webhooks(self) -> None:
        """Turn webhooks off."""
        self._admin("DELETE", "webhooks")

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        return self._admin("GET", "webhooks/deliveries")

    def wait_deliveries(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Poll until at least ``count`` deliveries are recorded; return them.

        :raises AssertionError: when fewer arrived within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            deliveries = self.webhook_deliveries()
            if len(deliveries) >= count:
                return deliveries
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(deliveries)} webhook deliveries after {timeout} s, expected {count}")
            time.sleep(0.05)

    def sync_now(self) -> dict[str, Any]:
        """Press Sync Now: create a PENDING sync process and send process.create.<app name>; return the process."""
        return self._admin("POST", "sync-now", json={})

    def edit_job(self, job_id: str, **changes: Any) -> dict[str, Any]:
        """Change a job as a person in the UI would (title, department, baseComp, depart, date)."""
        return self._admin("POST", f"jobs/{job_id}/edit", json=changes)

    def stop(self) -> None:
        """Terminate the process, killing it if it does not exit within 10 s."""
        self.session.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()


@pytest.fixture(scope="session")
def emulator_process() -> Iterator[EmulatorProcess]:
    """One emulator for the whole session: 2,000 jobs today, seed 7, token ``chs-test-9f3e1d7c2b``."""
    process = EmulatorProcess("--jobs", "2000", "--seed", "7", token=SESSION_TOKEN)
    yield process
    process.stop()


@pytest.fixture
def emulator(emulator_process: EmulatorProcess) -> EmulatorProcess:
    """The session emulator, reset before the test: no faults, empty logs, no extra tokens or processes,
    webhooks off, imports at their startup settings and the org as generated."""
    emulator_process.reset()
    return emulator_process


@pytest.fixture(scope="session")
def openapi_dir() -> Path:
    """Folder of ChartHop's OpenAPI files: $CHARTHOP_OPENAPI_DIR, else ../shared/charthop-openapi beside the repo."""
    configured = os.environ.get("CHARTHOP_OPENAPI_DIR")
    folder = Path(configured) if configured else REPO_ROOT.parent / "shared" / "charthop-openapi"
    if not folder.is_dir():
        pytest.skip(f"ChartHop OpenAPI files not found at {folder}; set CHARTHOP_OPENAPI_DIR to their folder")
    return folder
