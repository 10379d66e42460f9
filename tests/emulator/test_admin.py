"""HTTP tests of the admin API under /_emulator/: health, tokens, request log and reset."""

from __future__ import annotations

import json

import pytest

from tests.plugins.emulator_fixtures import EmulatorProcess

JOBS = "/v2/org/{org}/job"


class TestHealth:
    def test_health_body(self, emulator: EmulatorProcess) -> None:
        health = emulator.session.get(f"{emulator.url}/_emulator/health", timeout=10).json()
        assert health == {"status": "ok", "org_id": emulator.org_id, "org_slug": emulator.org_slug,
                          "today": emulator.today, "jobs_today": 2000}

    def test_unknown_admin_path(self, emulator: EmulatorProcess) -> None:
        response = emulator.session.get(f"{emulator.url}/_emulator/nothing", timeout=10)
        assert response.status_code == 404


class TestTokens:
    def test_added_token_works(self, emulator: EmulatorProcess) -> None:
        emulator.add_token("extra-token", ["job.read"])
        assert emulator.get(JOBS, token="extra-token").status_code == 200

    def test_deleted_token_rejected(self, emulator: EmulatorProcess) -> None:
        emulator.add_token("extra-token", ["job.read"])
        emulator.session.delete(f"{emulator.url}/_emulator/tokens/extra-token", timeout=10)
        assert emulator.get(JOBS, token="extra-token").status_code == 401

    def test_delete_unknown_token(self, emulator: EmulatorProcess) -> None:
        response = emulator.session.delete(f"{emulator.url}/_emulator/tokens/never-added", timeout=10)
        assert response.status_code == 404

    def test_main_token_not_deletable(self, emulator: EmulatorProcess) -> None:
        emulator.session.delete(f"{emulator.url}/_emulator/tokens/{emulator.token}", timeout=10)
        assert emulator.get(JOBS).status_code == 200

    @pytest.mark.parametrize(
        "body",
        [{"token": "t", "permissions": ["job.write"]}, {"token": "", "permissions": []},
         {"permissions": ["job.read"]}, ["job.read"]],
        ids=["unknown-permission", "empty-token", "missing-token", "not-an-object"],
    )
    def test_invalid_token_body(self, emulator: EmulatorProcess, body: object) -> None:
        response = emulator.session.post(f"{emulator.url}/_emulator/tokens", json=body, timeout=10)
        assert response.status_code == 400

    def test_token_without_permissions(self, emulator: EmulatorProcess) -> None:
        emulator.add_token("bare-token", [])
        assert emulator.get(JOBS, token="bare-token").status_code == 403


class TestRequestLog:
    def test_records_request(self, emulator: EmulatorProcess) -> None:
        emulator.get(JOBS, {"limit": "3", "q": "open:filled"})
        entry = emulator.requests_log()[-1]
        assert entry["method"] == "GET"
        assert entry["path"] == f"/v2/org/{emulator.org_id}/job"
        assert entry["query"] == {"limit": ["3"], "q": ["open:filled"]}
        assert entry["status"] == 200
        assert entry["fault"] is None

    def test_records_header_names(self, emulator: EmulatorProcess) -> None:
        emulator.get(JOBS, headers={"X-Trace": "abc"})
        assert "X-Trace" in emulator.requests_log()[-1]["headers"]

    def test_records_bearer_presence(self, emulator: EmulatorProcess) -> None:
        emulator.get(JOBS)
        emulator.get(JOBS, headers={"Authorization": ""})
        assert [entry["bearer"] for entry in emulator.requests_log()] == [True, False]

    def test_never_stores_token(self, emulator: EmulatorProcess) -> None:
        emulator.get(JOBS)
        assert emulator.token not in json.dumps(emulator.requests_log())

    def test_records_raw_path(self, emulator: EmulatorProcess) -> None:
        emulator.get("/v2/org/acme%2F..%2Fother/job")
        assert emulator.requests_log()[-1]["raw_path"] == "/v2/org/acme%2F..%2Fother/job"

    def test_encoded_slash_stays_in_segment(self, emulator: EmulatorProcess) -> None:
        response = emulator.get("/v2/org/acme%2F..%2Fother/job")
        assert response.json() == {"code": 404, "message": "org not found: acme/../other"}

    def test_records_error_status(self, emulator: EmulatorProcess) -> None:
        emulator.get(JOBS, token="wrong")
        assert emulator.requests_log()[-1]["status"] == 401

    def test_admin_requests_not_logged(self, emulator: EmulatorProcess) -> None:
        emulator.faults()
        assert emulator.requests_log() == []

    def test_clear(self, emulator: EmulatorProcess) -> None:
        emulator.get(JOBS)
        emulator.clear_requests()
        assert emulator.requests_log() == []


class TestReset:
    def test_clears_faults(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "status", "status": 500}])
        emulator.reset()
        assert emulator.faults() == []

    def test_clears_tokens(self, emulator: EmulatorProcess) -> None:
        emulator.add_token("extra-token", ["job.read"])
        emulator.reset()
        assert emulator.get(JOBS, token="extra-token").status_code == 401

    def test_clears_log(self, emulator: EmulatorProcess) -> None:
        emulator.get(JOBS)
        emulator.reset()
        assert emulator.requests_log() == []
