"""Tests of the start-up paths: command-line options, both start commands, SIGTERM, and the in-process API."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date

import pytest
import requests

from charthop_emulator.server import start_in_thread
from tests.plugins.emulator_fixtures import INCLUDE_DIR, REPO_ROOT, EmulatorProcess


@pytest.fixture(scope="module")
def custom_process() -> Iterator[EmulatorProcess]:
    """A small emulator with every identity option set and one fault given on the command line."""
    process = EmulatorProcess(
        "--jobs", "120", "--seed", "3", "--today", "2024-02-29", "--org-id", "0123456789abcdef01234567",
        "--org-slug", "globex", "--fault", '{"kind": "status", "status": 503, "path": "*/person/count", "times": 1}',
        token="custom-token",
    )
    yield process
    process.stop()


class TestCommandLine:
    def test_ready_line(self, custom_process: EmulatorProcess) -> None:
        assert {key: custom_process.ready[key] for key in ("org_id", "org_slug", "jobs_today", "today")} == {
            "org_id": "0123456789abcdef01234567", "org_slug": "globex", "jobs_today": 120, "today": "2024-02-29",
        }

    def test_ready_event_name(self, custom_process: EmulatorProcess) -> None:
        assert custom_process.ready["event"] == "ready"

    def test_jobs_option(self, custom_process: EmulatorProcess) -> None:
        assert custom_process.count_jobs(date="2024-02-29")["jobCount"] == 120

    def test_today_is_default_date(self, custom_process: EmulatorProcess) -> None:
        rows = custom_process.get("/v2/org/globex/job", {"limit": 500}).json()["data"]
        assert len(rows) == 120

    def test_custom_token_accepted(self, custom_process: EmulatorProcess) -> None:
        assert custom_process.get("/v2/org/globex/job").status_code == 200

    def test_fault_option(self, custom_process: EmulatorProcess) -> None:
        first = custom_process.get("/v2/org/globex/person/count").status_code
        second = custom_process.get("/v2/org/globex/person/count").status_code
        assert (first, second) == (503, 200)

    def test_same_seed_same_rows(self, custom_process: EmulatorProcess) -> None:
        again = EmulatorProcess("--jobs", "120", "--seed", "3", "--today", "2024-02-29",
                                "--org-slug", "globex", token="custom-token")
        try:
            params = {"fields": "jobId,name,title,baseComp", "limit": 500}
            assert again.get("/v2/org/globex/job", params).json() == \
                custom_process.get("/v2/org/globex/job", params).json()
        finally:
            again.stop()

    def test_invalid_fault_exits(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(INCLUDE_DIR)}
        result = subprocess.run([sys.executable, "-m", "charthop_emulator", "--port", "0", "--fault", "{bad"],
                                capture_output=True, text=True, env=env, timeout=60)
        assert result.returncode == 2
        assert "--fault" in result.stderr

    def test_dies_with_stderr_in_error(self) -> None:
        with pytest.raises(RuntimeError, match="invalid --jobs"):
            EmulatorProcess("--jobs", "0")


@pytest.fixture(scope="module")
def write_process() -> Iterator[EmulatorProcess]:
    """A small emulator with the import and webhook options set on the command line."""
    process = EmulatorProcess(
        "--jobs", "50", "--import-seconds", "0.5", "--import-mode", "bad_row",
        "--webhook-url", "http://127.0.0.1:9/hook", "--webhook-secret", "cli-secret-81", "--app-name", "payroll",
    )
    yield process
    process.stop()


class TestWriteOptions:
    def test_import_settings(self, write_process: EmulatorProcess) -> None:
        settings = write_process.session.get(f"{write_process.url}/_emulator/imports/settings", timeout=10).json()
        assert settings == {"seconds": 0.5, "mode": "bad_row"}

    def test_webhook_config(self, write_process: EmulatorProcess) -> None:
        config = write_process.webhooks()["config"]
        assert config["url"] == "http://127.0.0.1:9/hook"
        assert config["secret_set"] is True
        assert config["app_name"] == "payroll"

    def test_reset_keeps_startup_config(self, write_process: EmulatorProcess) -> None:
        write_process.clear_webhooks()
        write_process.reset()
        assert write_process.webhooks()["config"]["url"] == "http://127.0.0.1:9/hook"

    def test_secret_not_logged(self, write_process: EmulatorProcess) -> None:
        assert "cli-secret-81" not in write_process.stderr()

    @pytest.mark.parametrize("option", [["--import-seconds", "-1"], ["--webhook-url", "ftp://x"]],
                             ids=["seconds", "webhook-url"])
    def test_invalid_option_exits(self, option: list[str]) -> None:
        env = {**os.environ, "PYTHONPATH": str(INCLUDE_DIR)}
        result = subprocess.run([sys.executable, "-m", "charthop_emulator", "--port", "0", "--jobs", "10", *option],
                                capture_output=True, text=True, env=env, timeout=60)
        assert result.returncode == 2
        assert option[0] in result.stderr


class TestStartCommands:
    def test_directory_start(self) -> None:
        env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        process = subprocess.Popen(
            [sys.executable, str(INCLUDE_DIR / "charthop_emulator"), "--port", "0", "--jobs", "30"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=REPO_ROOT,
        )
        try:
            ready = json.loads(process.stdout.readline())
            health = requests.get(f"{ready['url']}/_emulator/health", timeout=10).json()
            assert health["jobs_today"] == 30
        finally:
            process.terminate()
            process.wait(timeout=10)
            process.stdout.close()

    def test_sigterm_exits_cleanly(self) -> None:
        process = EmulatorProcess("--jobs", "30")
        process.process.send_signal(signal.SIGTERM)
        assert process.process.wait(timeout=10) == 0
        process.stop()

    def test_sigint_exits_cleanly(self) -> None:
        process = EmulatorProcess("--jobs", "30")
        process.process.send_signal(signal.SIGINT)
        assert process.process.wait(timeout=10) == 0
        process.stop()


class TestInProcess:
    def test_start_and_stop(self) -> None:
        handle = start_in_thread(org_size=50, seed=2, today=date(2025, 1, 1), token="in-process")
        try:
            response = requests.get(f"{handle.url}/v2/org/acme/job/count",
                                    headers={"Authorization": "Bearer in-process"}, timeout=10)
            assert response.json()["jobCount"] == 50
        finally:
            handle.stop()
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"{handle.url}/_emulator/health", timeout=2)

    def test_large_org_pages_quickly(self) -> None:
        started = time.monotonic()
        handle = start_in_thread(org_size=100_000, seed=5, today=date(2025, 1, 1))
        generated = time.monotonic() - started
        session = requests.Session()
        session.headers["Authorization"] = "Bearer emulator-token"
        try:
            url = f"{handle.url}/v2/org/acme/job"
            params = {"limit": 1000, "fields": "jobId,name,title,contact.workEmail,manager", "format": "minimal"}
            body = session.get(url, params=params, timeout=60).json()
            page_seconds = []
            rows = len(body["data"])
            while "next" in body:
                page_started = time.monotonic()
                body = session.get(url, params={**params, "from": body["next"]}, timeout=60).json()
                page_seconds.append(time.monotonic() - page_started)
                rows += len(body["data"])
        finally:
            session.close()
            handle.stop()
        assert rows == 100_000
        # Generous bounds: generation takes about 6 s and a page about 30 ms on a 2-core CI machine.
        assert generated < 30
        assert max(page_seconds) < 2
