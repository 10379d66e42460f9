"""HTTP tests of every fault knob, including paging over many pages under each paging fault."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.plugins.emulator_fixtures import EmulatorProcess

JOBS = "/v2/org/{org}/job"
COUNT = "/v2/org/{org}/job/count"


def _ids(pages: list[dict[str, Any]]) -> list[str]:
    return [row["jobId"] for page in pages for row in page["data"]]


def _fired(emulator: EmulatorProcess) -> list[int]:
    return [fault["fired"] for fault in emulator.faults()]


class TestStatusFault:
    @pytest.mark.parametrize("status", [429, 500, 502, 503, 418], ids=["429", "500", "502", "503", "418"])
    def test_answers_status(self, emulator: EmulatorProcess, status: int) -> None:
        emulator.set_faults([{"kind": "status", "status": status}])
        assert emulator.get(JOBS).status_code == status

    def test_error_body(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "status", "status": 503}])
        assert emulator.get(JOBS).json() == {"code": 503, "message": "service unavailable"}

    def test_retry_after_header(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "status", "status": 429, "retry_after": 2}])
        assert emulator.get(JOBS).headers["Retry-After"] == "2"

    def test_no_retry_after_by_default(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "status", "status": 429}])
        assert "Retry-After" not in emulator.get(JOBS).headers

    def test_fires_before_auth(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "status", "status": 502}])
        assert emulator.get(JOBS, token="wrong").status_code == 502

    def test_after_and_times(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "status", "status": 500, "after": 1, "times": 2}])
        statuses = [emulator.get(JOBS, {"limit": 1}).status_code for _ in range(5)]
        assert statuses == [200, 500, 500, 200, 200]

    def test_fired_counter(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "status", "status": 500, "times": 2}])
        for _ in range(3):
            emulator.get(JOBS, {"limit": 1})
        assert _fired(emulator) == [2]

    def test_path_glob_limits_fault(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "status", "status": 500, "path": "*/job/count"}])
        assert emulator.get(JOBS, {"limit": 1}).status_code == 200
        assert emulator.get(COUNT).status_code == 500

    def test_admin_paths_never_faulted(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "status", "status": 500, "path": "*"}])
        response = emulator.session.get(f"{emulator.url}/_emulator/health", timeout=10)
        assert response.status_code == 200

    def test_recorded_in_log(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "status", "status": 500}])
        emulator.get(JOBS)
        assert emulator.requests_log()[-1]["fault"] == "status"


class TestSnapshotBuildingFault:
    def test_answers_202(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "snapshot_building", "times": 1}])
        assert emulator.get(JOBS).status_code == 202

    def test_empty_body(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "snapshot_building", "times": 1}])
        assert emulator.get(COUNT).content == b""

    def test_then_normal(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "snapshot_building", "times": 1}])
        emulator.get(JOBS)
        assert emulator.get(JOBS).status_code == 200


class TestDelayFault:
    def test_delays_answer(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "delay", "seconds": 0.4, "times": 1}])
        started = time.monotonic()
        response = emulator.get(JOBS, {"limit": 1})
        assert time.monotonic() - started >= 0.4
        assert response.status_code == 200

    def test_client_timeout(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "delay", "seconds": 1.0, "times": 1}])
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(f"{emulator.url}/v2/org/{emulator.org_id}/job", timeout=0.2,
                         headers={"Authorization": f"Bearer {emulator.token}"})


class TestResetFault:
    def test_breaks_response(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "reset", "times": 1}])
        with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
            requests.get(f"{emulator.url}/v2/org/{emulator.org_id}/job", timeout=10,
                         headers={"Authorization": f"Bearer {emulator.token}"})

    def test_sends_partial_body(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "reset", "times": 1}])
        response = requests.get(f"{emulator.url}/v2/org/{emulator.org_id}/job", timeout=10, stream=True,
                                headers={"Authorization": f"Bearer {emulator.token}"})
        expected = int(response.headers["Content-Length"])
        received = bytearray()
        with pytest.raises(Exception):  # noqa: B017, PT011 - urllib3 raises ProtocolError or IncompleteRead
            for chunk in response.raw.stream(1024, decode_content=False):
                received.extend(chunk)
        assert 0 < len(received) < expected

    def test_next_request_works(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "reset", "times": 1}])
        with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
            emulator.get(JOBS)
        assert emulator.get(JOBS).status_code == 200


class TestPageCapFault:
    def test_caps_rows(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "page_cap", "max_limit": 37}])
        assert len(emulator.get(JOBS, {"limit": 500}).json()["data"]) == 37

    def test_paging_still_complete(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "page_cap", "max_limit": 90}])
        ids = _ids(emulator.page_through(JOBS, {"limit": 500}))
        assert sorted(set(ids)) == ids
        assert len(ids) == emulator.jobs_today

    def test_page_count_grows(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "page_cap", "max_limit": 90}])
        assert len(emulator.page_through(JOBS, {"limit": 500})) == 23


class TestBoundaryDuplicateFault:
    def test_next_is_last_row(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "boundary_duplicate"}])
        body = emulator.get(JOBS, {"limit": 50}).json()
        assert body["next"] == body["data"][-1]["jobId"]

    def test_one_duplicate_per_boundary(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "boundary_duplicate"}])
        pages = emulator.page_through(JOBS, {"limit": 100})
        ids = _ids(pages)
        assert len(ids) - len(set(ids)) == len(pages) - 1

    def test_dedupe_gives_roster(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "boundary_duplicate"}])
        ids = set(_ids(emulator.page_through(JOBS, {"limit": 100})))
        assert len(ids) == emulator.jobs_today


class TestRepeatCursorFault:
    def test_next_equals_from(self, emulator: EmulatorProcess) -> None:
        first = emulator.get(JOBS, {"limit": 50}).json()
        emulator.set_faults([{"kind": "repeat_cursor", "times": 1}])
        second = emulator.get(JOBS, {"limit": 50, "from": first["next"]}).json()
        assert second["next"] == first["next"]

    def test_first_page_unaffected(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "repeat_cursor"}])
        body = emulator.get(JOBS, {"limit": 50}).json()
        assert body["next"] != body["data"][0]["jobId"]

    def test_paging_detects_loop(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "repeat_cursor", "after": 3, "times": 1}])
        cursors: list[str] = []
        body = emulator.get(JOBS, {"limit": 100}).json()
        while "next" in body and body["next"] not in cursors:
            cursors.append(body["next"])
            body = emulator.get(JOBS, {"limit": 100, "from": cursors[-1]}).json()
        assert "next" in body
        assert cursors.index(body["next"]) == 3

    def test_retry_after_loop_completes(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "repeat_cursor", "after": 3, "times": 1}])
        ids = set(_ids(emulator.page_through(JOBS, {"limit": 100})))
        assert len(ids) == emulator.jobs_today


class TestRepeatPageFault:
    def test_repeats_previous_rows(self, emulator: EmulatorProcess) -> None:
        first = emulator.get(JOBS, {"limit": 50}).json()
        emulator.set_faults([{"kind": "repeat_page", "times": 1}])
        second = emulator.get(JOBS, {"limit": 50, "from": first["next"]}).json()
        assert second["data"] == first["data"]

    def test_fresh_cursor(self, emulator: EmulatorProcess) -> None:
        first = emulator.get(JOBS, {"limit": 50}).json()
        emulator.set_faults([{"kind": "repeat_page", "times": 1}])
        second = emulator.get(JOBS, {"limit": 50, "from": first["next"]}).json()
        assert second["next"] not in {first["next"], *(row["jobId"] for row in first["data"])}

    def test_fresh_cursor_resumes(self, emulator: EmulatorProcess) -> None:
        first = emulator.get(JOBS, {"limit": 50}).json()
        emulator.set_faults([{"kind": "repeat_page", "times": 1}])
        second = emulator.get(JOBS, {"limit": 50, "from": first["next"]}).json()
        third = emulator.get(JOBS, {"limit": 50, "from": second["next"]}).json()
        assert third["data"][0]["jobId"] == first["next"]

    def test_dedupe_gives_roster(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "repeat_page", "after": 2, "times": 3}])
        pages = emulator.page_through(JOBS, {"limit": 100})
        ids = _ids(pages)
        assert len(ids) - len(set(ids)) == 300
        assert len(set(ids)) == emulator.jobs_today

    def test_not_on_first_page(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "repeat_page"}])
        emulator.get(JOBS, {"limit": 50})
        assert _fired(emulator) == [0]


class TestPagingFaultsOnOtherLists:
    def test_persons_page_cap(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "page_cap", "max_limit": 7}])
        assert len(emulator.get("/v2/org/{org}/person", {"limit": 50}).json()["data"]) == 7

    def test_users_boundary_duplicate(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "boundary_duplicate"}])
        body = emulator.get("/v1/user", {"orgId": emulator.org_id, "limit": 2}).json()
        assert body["next"] == body["data"][-1]["id"]

    def test_count_not_paged(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "page_cap", "max_limit": 7}])
        emulator.get(COUNT)
        assert emulator.faults()[0]["seen"] == 0


class TestFaultValidation:
    @pytest.mark.parametrize(
        ("fault", "word"),
        [({"kind": "explode"}, "kind"), ({"kind": "status"}, "status"), ({"kind": "delay"}, "seconds"),
         ({"kind": "page_cap", "max_limit": 0}, "max_limit"), ({"kind": "reset", "times": -1}, "times"),
         ({"kind": "reset", "colour": "red"}, "colour"), ({"kind": "status", "status": 42}, "status")],
        ids=["unknown-kind", "missing-status", "missing-seconds", "zero-cap", "negative-times", "unknown-field",
             "bad-status"],
    )
    def test_invalid_fault_rejected(self, emulator: EmulatorProcess, fault: dict[str, Any], word: str) -> None:
        response = emulator.session.post(f"{emulator.url}/_emulator/faults", json=[fault], timeout=10)
        assert response.status_code == 400
        assert word in response.json()["message"]

    def test_invalid_list_keeps_old(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "status", "status": 500}])
        emulator.session.post(f"{emulator.url}/_emulator/faults", json=[{"kind": "explode"}], timeout=10)
        assert [fault["kind"] for fault in emulator.faults()] == ["status"]

    def test_post_replaces_list(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "status", "status": 500}])
        emulator.set_faults([{"kind": "delay", "seconds": 0}])
        assert [fault["kind"] for fault in emulator.faults()] == ["delay"]

    def test_delete_clears(self, emulator: EmulatorProcess) -> None:
        emulator.set_faults([{"kind": "status", "status": 500}])
        emulator.clear_faults()
        assert emulator.get(JOBS).status_code == 200

    def test_listing_shows_defaults(self, emulator: EmulatorProcess) -> None:
        listed = emulator.set_faults([{"kind": "repeat_page"}])
        assert listed == [{"kind": "repeat_page", "path": "*", "after": 0, "times": None, "seen": 0, "fired": 0}]
