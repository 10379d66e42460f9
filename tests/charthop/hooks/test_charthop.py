"""ChartHopHook against the ChartHop emulator over loopback HTTP."""

from __future__ import annotations

import json
import logging

import pytest

from charthop.exceptions import (
    ChartHopAuthenticationError,
    ChartHopBadRequestError,
    ChartHopConfigError,
    ChartHopNotFoundError,
    ChartHopPagingError,
    ChartHopPermissionError,
    ChartHopRetryExhaustedError,
)
from charthop.hooks.charthop import ChartHopHook, normalise_fields, parse_retry_after
from tests.conftest import FAST_RETRY_EXTRAS, charthop_connection, job_count

JOB_PATH = "/v2/org/*/job"


def job_requests(emulator) -> list[dict]:
    """Return the emulator's logged findJobs requests (the list endpoint only)."""
    return [entry for entry in emulator.requests_log() if entry["path"].endswith("/job")]


def fetch_all(hook: ChartHopHook, **kwargs) -> list[dict]:
    return [row for page in hook.find_jobs(**kwargs) for row in page.rows]


@pytest.fixture
def hook(charthop_conn) -> ChartHopHook:
    return ChartHopHook(charthop_conn)


def use_connection(monkeypatch, emulator, conn_id: str = "charthop_other", **overrides) -> ChartHopHook:
    settings = {"url": emulator.url, "token": emulator.token, "org": emulator.org_slug, **overrides}
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}",
        charthop_connection(settings["url"], settings["token"], settings["org"], **FAST_RETRY_EXTRAS),
    )
    return ChartHopHook(conn_id)


class TestHelpers:
    @pytest.mark.parametrize(
        ("header", "expected"),
        [("3", 3.0), ("0.5", 0.5), ("-2", 0.0), ("", None), ("soon", None)],
        ids=["seconds", "fraction", "negative", "empty", "garbage"],
    )
    def test_parse_retry_after(self, header, expected):
        assert parse_retry_after(header) == expected

    def test_parse_retry_after_http_date(self):
        import datetime as dt

        now = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
        assert parse_retry_after("Thu, 01 Jan 2026 12:00:05 GMT", now=now) == 5.0

    def test_normalise_fields_puts_job_id_first(self):
        assert normalise_fields("title, jobId,title,,name.first") == ["jobId", "title", "name.first"]


class TestConnection:
    def test_default_host_is_https_api(self, monkeypatch):
        monkeypatch.setenv(
            "AIRFLOW_CONN_CHARTHOP_REAL",
            json.dumps({"conn_type": "charthop", "password": "t", "extra": {"org_id": "acme"}}),
        )
        hook = ChartHopHook("charthop_real")
        hook.get_conn()
        assert hook.base_url == "https://api.charthop.com"

    def test_missing_token_raises(self, monkeypatch):
        monkeypatch.setenv(
            "AIRFLOW_CONN_CHARTHOP_NOTOKEN", json.dumps({"conn_type": "charthop", "extra": {"org_id": "acme"}})
        )
        with pytest.raises(ChartHopConfigError, match="has no API token"):
            ChartHopHook("charthop_notoken").get_conn()

    def test_missing_org_raises(self, monkeypatch):
        monkeypatch.setenv("AIRFLOW_CONN_CHARTHOP_NOORG", json.dumps({"conn_type": "charthop", "password": "t"}))
        with pytest.raises(ChartHopConfigError, match="org_id"):
            ChartHopHook("charthop_noorg").get_conn()

    def test_sends_bearer_token(self, hook, emulator):
        hook.count_jobs()
        assert emulator.requests_log()[-1]["bearer"] is True

    def test_extras_are_not_headers(self, monkeypatch, emulator):
        monkeypatch.setenv(
            "AIRFLOW_CONN_CHARTHOP_EXTRAS",
            charthop_connection(
                emulator.url, emulator.token, emulator.org_slug, region="eu", headers={"X-Trace": "abc"}
            ),
        )
        ChartHopHook("charthop_extras").count_jobs()
        header_names = {name.lower() for name in emulator.requests_log()[-1]["headers"]}
        assert {"org_id", "region", "timeout"} & header_names == set()
        assert "x-trace" in header_names

    def test_org_is_one_path_segment(self, monkeypatch, emulator):
        hook = use_connection(monkeypatch, emulator, org="acme/../other")
        with pytest.raises(ChartHopNotFoundError):
            hook.count_jobs()
        assert "acme%2F..%2Fother" in emulator.requests_log()[-1]["raw_path"]

    def test_test_connection_succeeds(self, hook, emulator):
        ok, message = hook.test_connection()
        assert ok, message
        assert emulator.org_slug in message

    def test_test_connection_reports_bad_token(self, monkeypatch, emulator):
        ok, message = use_connection(monkeypatch, emulator, token="wrong-token").test_connection()
        assert not ok
        assert "API token" in message


class TestFindJobs:
    def test_fetches_every_job_once(self, hook, emulator):
        rows = fetch_all(hook, fields="title", page_size=150)
        ids = [row["jobId"] for row in rows]
        assert len(ids) == job_count(emulator)
        assert len(set(ids)) == len(ids)

    def test_pages_resend_every_filter(self, hook, emulator):
        pages = list(hook.find_jobs(fields="title,open", q="open:filled", date=emulator.today, page_size=200))
        assert len(pages) > 3
        logged = job_requests(emulator)
        assert len(logged) == len(pages)
        for entry in logged:
            assert entry["query"]["q"] == ["open:filled"]
            assert entry["query"]["fields"] == ["jobId,title,open"]
            assert entry["query"]["date"] == [emulator.today]
            assert entry["query"]["limit"] == ["200"]
        assert "from" not in logged[0]["query"]
        assert all("from" in entry["query"] for entry in logged[1:])

    @pytest.mark.fault_cell(stage="extract", fault="duplicate row at a page boundary", expect="recovers")
    def test_drops_duplicates_at_page_boundary(self, hook, emulator):
        emulator.set_faults([{"kind": "boundary_duplicate", "path": JOB_PATH}])
        pages = list(hook.find_jobs(fields="title", page_size=100))
        ids = [row["jobId"] for page in pages for row in page.rows]
        assert len(set(ids)) == len(ids)
        assert len(ids) == job_count(emulator)
        assert sum(page.duplicates_dropped for page in pages) == len(pages) - 1

    @pytest.mark.fault_cell(stage="extract", fault="repeated cursor")
    def test_repeated_cursor_raises(self, hook, emulator):
        emulator.set_faults([{"kind": "repeat_cursor", "path": JOB_PATH, "after": 1}])
        with pytest.raises(ChartHopPagingError, match="already sent"):
            fetch_all(hook, fields="title", page_size=100)

    @pytest.mark.fault_cell(stage="extract", fault="repeated page")
    def test_repeated_page_raises(self, hook, emulator):
        emulator.set_faults([{"kind": "repeat_page", "path": JOB_PATH, "after": 2}])
        with pytest.raises(ChartHopPagingError, match="rows of an earlier page"):
            fetch_all(hook, fields="title", page_size=100)

    @pytest.mark.fault_cell(stage="extract", fault="page-size cap", expect="recovers")
    def test_page_cap_still_fetches_all(self, hook, emulator):
        emulator.set_faults([{"kind": "page_cap", "max_limit": 70}])
        pages = list(hook.find_jobs(fields="title", page_size=1000))
        assert max(len(page.rows) for page in pages) <= 70
        assert sum(len(page.rows) for page in pages) == job_count(emulator)

    def test_sync_guide_fields(self, hook, emulator):
        fields = "name.first,name.last,title,contact.workEmail,workAddress.country"
        rows = fetch_all(hook, fields=fields, q="open:filled")
        assert set(rows[0]) == {"jobId", *fields.split(",")}

    def test_sync_guide_tenure_filter(self, hook, emulator):
        rows = fetch_all(hook, fields="tenure", q="tenure>=12")
        assert len(rows) == job_count(emulator, q="tenure>=12")
        assert min(row["tenure"] for row in rows) >= 12

    def test_sync_guide_filled_only(self, hook, emulator):
        rows = fetch_all(hook, fields="open", q="open:filled")
        assert {row["open"] for row in rows} == {"filled"}

    def test_sync_guide_one_job(self, hook, emulator):
        job_id = fetch_all(hook, fields="title", page_size=5, q="open:filled")[3]["jobId"]
        rows = fetch_all(hook, fields="title", q=f"jobId:{job_id}")
        assert [row["jobId"] for row in rows] == [job_id]

    def test_json_format_nests_objects(self, hook):
        row = fetch_all(hook, fields="name.first", q="open:filled", page_size=5, response_format="json")[0]
        assert isinstance(row["name"], dict)

    def test_past_date_differs(self, hook, emulator):
        import datetime as dt

        past = (dt.date.fromisoformat(emulator.today) - dt.timedelta(days=3 * 365)).isoformat()
        assert hook.count_jobs(date=past) != hook.count_jobs(date=emulator.today)


class TestRetries:
    @pytest.mark.parametrize(
        "fault",
        [
            {"kind": "status", "status": 429, "retry_after": 0},
            {"kind": "status", "status": 500},
            {"kind": "status", "status": 502},
            {"kind": "status", "status": 503},
            {"kind": "snapshot_building"},
            {"kind": "reset"},
        ],
        ids=["429", "500", "502", "503", "202-snapshot", "connection-reset"],
    )
    @pytest.mark.fault_cell(stage="extract", expect="recovers")
    def test_recovers_from_transient_fault(self, hook, emulator, fault):
        emulator.set_faults([{**fault, "path": JOB_PATH, "after": 1, "times": 2}])
        rows = fetch_all(hook, fields="title", page_size=400)
        assert len(rows) == job_count(emulator)
        fired = [entry for entry in job_requests(emulator) if entry.get("fault")]
        assert len(fired) == 2

    @pytest.mark.fault_cell(stage="extract", fault="slow page beyond the request timeout", expect="recovers")
    def test_recovers_from_slow_response(self, monkeypatch, emulator):
        emulator.set_faults([{"kind": "delay", "seconds": 3, "path": JOB_PATH, "times": 1}])
        hook = use_connection(monkeypatch, emulator)
        hook.timeout = 0.5
        rows = fetch_all(hook, fields="title", page_size=1000)
        assert len(rows) == job_count(emulator)

    def test_honours_retry_after(self, hook, emulator, capfd):
        emulator.set_faults([{"kind": "status", "status": 429, "retry_after": 1, "path": JOB_PATH, "times": 1}])
        fetch_all(hook, fields="title", page_size=1000)
        assert "Retrying in 1.00 s" in capfd.readouterr().out

    def test_caps_retry_after(self, hook, emulator, capfd):
        emulator.set_faults([{"kind": "status", "status": 429, "retry_after": 3600, "path": JOB_PATH, "times": 1}])
        fetch_all(hook, fields="title", page_size=1000)
        assert "Retrying in 2.00 s" in capfd.readouterr().out

    @pytest.mark.fault_cell(stage="extract", fault="503 on every try")
    def test_gives_up_after_max_attempts(self, hook, emulator):
        emulator.set_faults([{"kind": "status", "status": 503, "path": JOB_PATH}])
        with pytest.raises(ChartHopRetryExhaustedError, match="HTTP 503"):
            fetch_all(hook, fields="title")
        assert len(job_requests(emulator)) == 4


class TestErrors:
    def test_invalid_q_names_query(self, hook, emulator):
        with pytest.raises(ChartHopBadRequestError) as error:
            fetch_all(hook, fields="title", q="title ~ boss")
        assert "Carrot syntax of 'q'" in str(error.value)
        assert len(job_requests(emulator)) == 1

    def test_unknown_field_names_field(self, hook, emulator):
        with pytest.raises(ChartHopBadRequestError) as error:
            fetch_all(hook, fields="titel")
        assert "titel" in str(error.value)
        assert "field codes" in str(error.value)

    @pytest.mark.fault_cell(stage="extract", fault="401 bad token")
    def test_bad_token_is_not_retried(self, monkeypatch, emulator):
        hook = use_connection(monkeypatch, emulator, token="not-a-real-token")
        with pytest.raises(ChartHopAuthenticationError, match="password holds the current token"):
            hook.count_jobs()
        assert len(emulator.requests_log()) == 1

    def test_unknown_org_names_org(self, monkeypatch, emulator):
        hook = use_connection(monkeypatch, emulator, org="no-such-org")
        with pytest.raises(ChartHopNotFoundError) as error:
            hook.count_jobs()
        assert "'no-such-org'" in str(error.value)
        assert "org_id" in str(error.value)

    @pytest.mark.fault_cell(stage="extract", fault="403 missing permission")
    def test_missing_permission_is_named(self, monkeypatch, emulator):
        emulator.add_token("limited-token", ["person.read"])
        hook = use_connection(monkeypatch, emulator, token="limited-token")
        with pytest.raises(ChartHopPermissionError, match="lacks a permission"):
            hook.count_jobs()

    def test_token_never_in_logs_or_errors(self, monkeypatch, emulator, caplog, capfd):
        emulator.set_faults([{"kind": "status", "status": 429, "retry_after": 0, "path": JOB_PATH, "times": 1}])
        hook = use_connection(monkeypatch, emulator)
        messages = []
        with caplog.at_level(logging.DEBUG):
            fetch_all(hook, fields="title", page_size=1000)
            for bad in ({"q": "(("}, {"fields": "nope"}):
                with pytest.raises(ChartHopBadRequestError) as error:
                    fetch_all(hook, **bad)
                messages.append(str(error.value))
        captured = capfd.readouterr()
        assert "Retrying in" in captured.out
        assert emulator.token not in captured.out + captured.err
        assert emulator.token not in caplog.text
        assert all(emulator.token not in message for message in messages)
        assert emulator.token not in repr(hook.get_conn().auth)


class TestTestConnection:
    def test_unreachable_host_tries_twice(self, monkeypatch, emulator):
        monkeypatch.setenv(
            "AIRFLOW_CONN_CHARTHOP_DOWN",
            charthop_connection("http://127.0.0.1:9", emulator.token, "acme", max_attempts=6, backoff_initial=0.01),
        )
        ok, message = ChartHopHook("charthop_down").test_connection()
        assert not ok
        assert "up to 2 tries" in message

    def test_short_token_leaves_message_readable(self, monkeypatch, emulator):
        monkeypatch.setenv("AIRFLOW_CONN_CHARTHOP_SHORT", charthop_connection(emulator.url, "t", emulator.org_slug))
        ok, message = ChartHopHook("charthop_short").test_connection()
        assert not ok
        assert "ChartHop countJobs" in message
