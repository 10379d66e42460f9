"""Webhook tests: deliveries to a receiver on loopback, signatures, key casing, redeliveries and event sources."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.plugins.emulator_fixtures import EmulatorProcess

SECRET = "whsec-test-5b1e"
FLAGS = {"skipErrors": "false", "upsert": "true", "createGroups": "true", "disableSyncHireDate": "false",
         "disableOverwritePerson": "false", "importDryRun": "false"}
CAMEL_KEYS = {"id", "orgId", "userId", "type", "subtype", "entityType", "entityId", "code", "at", "payload"}
LOWER_KEYS = {"id", "orgid", "userid", "appid", "appname", "type", "subtype", "entitytype", "entityid", "at",
              "payload"}


@dataclass
class Receiver:
    """A loopback HTTP server that stores every POST (headers and raw body)."""

    url: str
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    status: int = 204

    def wait(self, count: int, timeout: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout
        while len(self.posts) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.posts)

    def events(self, count: int) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.wait(count)]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            holder["receiver"].posts.append(({key.lower(): value for key, value in self.headers.items()}, body))
            self.send_response(holder["receiver"].status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature fixed by the base class
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["receiver"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/charthop/events")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield holder["receiver"]
    server.shutdown()
    server.server_close()


def _filled_job(emulator: EmulatorProcess) -> dict[str, Any]:
    rows = emulator.get("/v2/org/{org}/job", {"q": "open:filled", "limit": 20, "format": "minimal",
                                              "fields": "jobId,personId,contact.workEmail,title,department"})
    return [row for row in rows.json()["data"] if row["title"] != "Chief Executive Officer"][0]


def _import(emulator: EmulatorProcess, csv: str, source: str = "airflow-test") -> dict[str, Any]:
    emulator.set_import_settings(seconds=0)
    return emulator.import_and_wait(csv, FLAGS | {"importSource": source})


class TestDelivery:
    def test_signature_verifies(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        emulator.set_webhooks(receiver.url, SECRET)
        emulator.sync_now()
        headers, body = receiver.wait(1)[0]
        expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
        assert hmac.compare_digest(headers["x-charthop-signature"], expected)

    def test_custom_signature_header(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        emulator.set_webhooks(receiver.url, SECRET, signature_header="X-Hook-Sig")
        emulator.sync_now()
        headers, _ = receiver.wait(1)[0]
        assert "x-hook-sig" in headers
        assert "x-charthop-signature" not in headers

    def test_unsigned_without_secret(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        emulator.set_webhooks(receiver.url)
        emulator.sync_now()
        headers, _ = receiver.wait(1)[0]
        assert "x-charthop-signature" not in headers

    def test_json_content_type(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        emulator.set_webhooks(receiver.url)
        emulator.sync_now()
        headers, _ = receiver.wait(1)[0]
        assert headers["content-type"].startswith("application/json")

    def test_camel_case_keys(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        emulator.set_webhooks(receiver.url)
        emulator.sync_now()
        assert CAMEL_KEYS <= set(receiver.events(1)[0])

    def test_lower_case_keys(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        emulator.set_webhooks(receiver.url, lowercase_keys=True)
        emulator.sync_now()
        event = receiver.events(1)[0]
        assert LOWER_KEYS <= set(event)
        assert "entityId" not in event

    def test_redeliveries_same_id(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        emulator.set_webhooks(receiver.url, redeliveries=2)
        emulator.sync_now()
        events = receiver.events(3)
        assert len(events) == 3
        assert len({event["id"] for event in events}) == 1

    def test_deliveries_recorded(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        receiver.status = 202
        emulator.set_webhooks(receiver.url, redeliveries=1)
        emulator.sync_now()
        deliveries = emulator.wait_deliveries(2)
        assert [(item["attempt"], item["status"]) for item in deliveries] == [(0, 202), (1, 202)]

    def test_failure_recorded(self, emulator: EmulatorProcess) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        emulator.set_webhooks(f"http://127.0.0.1:{closed_port}/hook")
        emulator.sync_now()
        delivery = emulator.wait_deliveries(1)[0]
        assert delivery["status"] is None
        assert delivery["error"]

    def test_secret_not_shown(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        emulator.set_webhooks(receiver.url, SECRET)
        assert SECRET not in json.dumps(emulator.webhooks())

    def test_secret_not_logged(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        emulator.set_webhooks(receiver.url, SECRET)
        emulator.sync_now()
        receiver.wait(1)
        assert SECRET not in emulator.stderr()

    def test_off_sends_nothing(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        emulator.set_webhooks(receiver.url)
        emulator.clear_webhooks()
        emulator.sync_now()
        time.sleep(0.3)
        assert receiver.posts == []

    @pytest.mark.parametrize("body", [{"url": "ftp://x"}, {"url": "http://127.0.0.1:1", "redeliveries": -1},
                                      {"url": "http://127.0.0.1:1", "lowercase_keys": "yes"}, {"uri": "http://x"}],
                             ids=["scheme", "redeliveries", "lowercase", "unknown-field"])
    def test_invalid_config_400(self, emulator: EmulatorProcess, body: dict[str, Any]) -> None:
        response = emulator.session.post(f"{emulator.url}/_emulator/webhooks", json=body, timeout=10)
        assert response.status_code == 400


class TestSyncNow:
    def test_process_pending(self, emulator: EmulatorProcess) -> None:
        process = emulator.sync_now()
        assert process["status"] == "PENDING"
        assert process["label"] == "Sync Now"

    def test_event_code(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        emulator.set_webhooks(receiver.url, app_name="airflow")
        emulator.sync_now()
        assert receiver.events(1)[0]["code"] == "process.create.airflow"

    def test_event_names_process(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        emulator.set_webhooks(receiver.url)
        process = emulator.sync_now()
        event = receiver.events(1)[0]
        assert event["entityType"] == "PROCESS"
        assert event["entityId"] == process["id"]

    def test_app_can_finish_it(self, emulator: EmulatorProcess) -> None:
        process = emulator.sync_now()
        emulator.update_process(process["id"], {"status": "RUNNING", "progress": 0.5, "message": "syncing"})
        emulator.update_process(process["id"], {"status": "DONE", "progress": 1.0, "message": "done"})
        statuses = [entry["status"] for entry in emulator.process_history(process["id"])]
        assert statuses == ["PENDING", "RUNNING", "DONE"]


class TestImportEvents:
    def test_hire_event(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        emulator.set_webhooks(receiver.url)
        process = _import(emulator, "Work Email,Title\nhooked.hire@acme.example.com,Analyst\n")
        event = receiver.events(1)[0]
        assert event["code"] == "change.create.hire"
        assert event["entityType"] == "CHANGE"
        assert event["payload"]["processId"] == process["id"]

    def test_hire_names_new_job(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        emulator.set_webhooks(receiver.url)
        _import(emulator, "Work Email\nhooked.two@acme.example.com\n")
        event = receiver.events(1)[0]
        rows = emulator.get("/v2/org/{org}/job", {"q": "contact.workEmail:hooked.two", "fields": "jobId,personId"})
        assert rows.json()["data"] == [{"jobId": event["jobId"], "personId": event["personId"]}]

    def test_import_source_in_payload(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        emulator.set_webhooks(receiver.url)
        _import(emulator, "Work Email\nhooked.three@acme.example.com\n", source="dag-run-7")
        assert receiver.events(1)[0]["payload"]["importSource"] == "dag-run-7"

    @pytest.mark.parametrize(("column", "value", "subtype"),
                             [("Title", "Hooked Title", "update"), ("Department", "Hooked Dept", "move"),
                              ("End Date", "{today}", "depart")],
                             ids=["update", "move", "depart"])
    def test_change_subtype(self, emulator: EmulatorProcess, receiver: Receiver, column: str, value: str,
                            subtype: str) -> None:
        emulator.set_webhooks(receiver.url)
        job = _filled_job(emulator)
        _import(emulator, f"Work Email,{column}\n{job['contact.workEmail']},{value.format(today=emulator.today)}\n")
        event = receiver.events(1)[0]
        assert event["code"] == f"change.create.{subtype}"
        assert event["jobId"] == job["jobId"]

    def test_dry_run_sends_nothing(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        emulator.set_webhooks(receiver.url)
        emulator.set_import_settings(seconds=0)
        emulator.import_and_wait("Work Email\ndry.hook@acme.example.com\n", FLAGS | {"importDryRun": "true"})
        time.sleep(0.3)
        assert receiver.posts == []

    def test_event_user_is_app(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        emulator.set_webhooks(receiver.url)
        process = _import(emulator, "Work Email\nhooked.four@acme.example.com\n")
        assert receiver.events(1)[0]["userId"] == process["runUserId"]


class TestAdminEdit:
    def test_title_edit_event(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        emulator.set_webhooks(receiver.url)
        job = _filled_job(emulator)
        emulator.edit_job(job["jobId"], title="Edited Title")
        event = receiver.events(1)[0]
        assert event["code"] == "change.create.update"
        assert event["jobId"] == job["jobId"]

    def test_title_edit_applied(self, emulator: EmulatorProcess) -> None:
        job = _filled_job(emulator)
        emulator.edit_job(job["jobId"], title="Edited Title")
        row = emulator.get(f"/v2/org/{{org}}/job/{job['jobId']}", {"fields": "title"}).json()
        assert row == {"title": "Edited Title"}

    def test_depart_edit_event(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        emulator.set_webhooks(receiver.url)
        job = _filled_job(emulator)
        result = emulator.edit_job(job["jobId"], depart=True)
        assert result["fields"] == ["endDate"]
        assert receiver.events(1)[0]["code"] == "change.create.depart"

    def test_no_change_no_event(self, emulator: EmulatorProcess, receiver: Receiver) -> None:
        emulator.set_webhooks(receiver.url)
        job = _filled_job(emulator)
        result = emulator.edit_job(job["jobId"], title=job["title"])
        time.sleep(0.3)
        assert result["event"] is None
        assert receiver.posts == []

    def test_unknown_job_404(self, emulator: EmulatorProcess) -> None:
        response = emulator.session.post(f"{emulator.url}/_emulator/jobs/nope/edit", json={"title": "x"}, timeout=10)
        assert response.status_code == 404

    def test_pay_edit_dated(self, emulator: EmulatorProcess) -> None:
        job = _filled_job(emulator)
        emulator.edit_job(job["jobId"], baseComp=150000, date="2099-01-01")
        row = emulator.get(f"/v2/org/{{org}}/job/{job['jobId']}", {"fields": "baseComp.pay", "format": "minimal",
                                                                     "date": "2099-01-01"}).json()
        assert row["baseComp.pay"]["amount"] == 150000
