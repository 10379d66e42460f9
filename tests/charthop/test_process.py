"""Status rules for ChartHop processes, shared by the sensor, the trigger and the import operator."""

from __future__ import annotations

import logging

import pytest

from charthop.exceptions import (
    ChartHopApiError,
    ChartHopProcessFailedError,
    ChartHopProcessRowErrorsError,
    ChartHopProcessTimeoutError,
)
from charthop.process import (
    ChartHopProcessStatus,
    check_finished,
    check_trigger_event,
    describe,
    is_finished,
    progress_percent,
)

LOG = logging.getLogger("test")
ROW_ERROR = {"level": "ERROR", "message": "invalid date", "data": {"row": 3, "column": "startDate"}}


def process(status: str, **fields) -> dict:
    return {"id": "p1", "status": status, **fields}


class TestStatusTable:
    @pytest.mark.parametrize(
        ("status", "finished"),
        [
            ("PENDING", False),
            ("RUNNING", False),
            ("DONE", True),
            ("ERROR", True),
            ("DONE_WITH_ERRORS", True),
            ("CANCELLED", True),
            ("", True),
            ("running", False),
        ],
        ids=["pending", "running", "done", "error", "done-with-errors", "unknown", "missing", "lower-case"],
    )
    def test_is_finished(self, status, finished):
        assert is_finished(process(status)) is finished

    def test_terminal_states(self):
        assert ChartHopProcessStatus.terminal_states() == {"DONE", "ERROR", "DONE_WITH_ERRORS"}

    @pytest.mark.parametrize(
        ("status", "error"),
        [
            ("ERROR", ChartHopProcessFailedError),
            ("CANCELLED", ChartHopProcessFailedError),
            ("DONE_WITH_ERRORS", ChartHopProcessRowErrorsError),
        ],
        ids=["error", "unknown-fails-closed", "done-with-errors"],
    )
    def test_check_finished_raises(self, status, error):
        with pytest.raises(error):
            check_finished(process(status), row_error_policy="fail", log=LOG)

    def test_done_succeeds(self):
        check_finished(process("DONE", results={"errorCount": 0}), row_error_policy="fail", log=LOG)


class TestRowErrors:
    def test_fail_policy_lists_rows(self):
        with pytest.raises(ChartHopProcessRowErrorsError, match="row 3, column startDate: invalid date"):
            check_finished(process("DONE", logDataList=[ROW_ERROR]), row_error_policy="fail", log=LOG)

    def test_warn_policy_logs(self, caplog):
        with caplog.at_level(logging.WARNING, logger="test"):
            check_finished(process("DONE", results={"errorCount": 1}, logDataList=[ROW_ERROR]),
                           row_error_policy="warn", log=LOG)  # fmt: skip
        assert "rejected 1 rows" in caplog.text

    def test_error_message_has_log_tail(self):
        entries = [{"level": "INFO", "message": f"step {n}"} for n in range(8)]
        with pytest.raises(ChartHopProcessFailedError) as error:
            check_finished(process("ERROR", message="bad file", logDataList=entries), row_error_policy="fail", log=LOG)
        assert "bad file" in str(error.value)
        assert "step 7" in str(error.value)
        assert "step 2" not in str(error.value)


class TestProgress:
    @pytest.mark.parametrize(
        ("value", "expected"), [(0.25, 25.0), (1, 100.0), (40, 40.0), (None, None)], ids=["fraction", "one", "percent", "none"]
    )
    def test_progress_percent(self, value, expected):
        assert progress_percent({"progress": value}) == expected

    def test_describe(self):
        assert describe(process("RUNNING", progress=0.5, message="row 10")) == "RUNNING, 50 %, message: row 10"


class TestTriggerEvents:
    def test_timeout_names_last_status(self):
        event = {"status": "timeout", "process_id": "p1", "process": process("RUNNING", progress=0.4)}
        with pytest.raises(ChartHopProcessTimeoutError, match="last seen: RUNNING, 40 %"):
            check_trigger_event(event, row_error_policy="fail", timeout=60, log=LOG)

    def test_error_event_raises(self):
        with pytest.raises(ChartHopApiError, match="HTTP 401"):
            check_trigger_event({"status": "error", "message": "HTTP 401"}, row_error_policy="fail", timeout=1, log=LOG)

    def test_finished_event_returns_process(self):
        event = {"status": "finished", "process_id": "p1", "process": process("DONE")}
        assert check_trigger_event(event, row_error_policy="fail", timeout=1, log=LOG)["id"] == "p1"
