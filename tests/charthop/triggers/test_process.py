"""ChartHopProcessTrigger: its serialised form and the single event it yields per outcome."""

from __future__ import annotations

import asyncio
import time

import pytest

from charthop.hooks.charthop import ChartHopHook
from charthop.triggers.process import ChartHopProcessTrigger
from tests.charthop.process_helpers import set_import_mode, title_change_csv


def collect(trigger: ChartHopProcessTrigger) -> list[dict]:
    async def run() -> list[dict]:
        return [event.payload async for event in trigger.run()]

    return asyncio.run(run())


def trigger_for(conn_id: str, process_id: str, *, seconds: float = 10) -> ChartHopProcessTrigger:
    return ChartHopProcessTrigger(
        charthop_conn_id=conn_id, process_id=process_id, end_time=time.time() + seconds, poll_interval=0.2
    )


class TestSerialize:
    def test_serialize_is_exact(self):
        trigger = ChartHopProcessTrigger(charthop_conn_id="c", process_id="p", end_time=1.5, poll_interval=3)
        assert trigger.serialize() == (
            "charthop.triggers.process.ChartHopProcessTrigger",
            {"charthop_conn_id": "c", "process_id": "p", "end_time": 1.5, "poll_interval": 3, "request_timeout": 60.0},
        )

    def test_serialize_holds_no_secret(self, charthop_conn, emulator):
        kwargs = trigger_for(charthop_conn, "p").serialize()[1]
        assert emulator.token not in repr(kwargs)


class TestRun:
    @pytest.mark.parametrize(
        ("import_mode", "status"),
        [("normal", "finished"), ("reject_file", "finished"), ("never_finish", "timeout")],
        ids=["done", "error", "timeout"],
    )
    def test_yields_one_event(self, charthop_conn, emulator, tmp_path, import_mode, status):
        set_import_mode(emulator, import_mode, seconds=0.5)
        hook = ChartHopHook(charthop_conn)
        process = hook.import_csv(open(title_change_csv(hook, tmp_path / "a.csv"), "rb").read())
        events = collect(trigger_for(charthop_conn, process["id"], seconds=3))
        assert len(events) == 1
        assert events[0]["status"] == status

    @pytest.mark.fault_cell(stage="wait", fault="404 process (trigger)")
    def test_unknown_process_yields_error(self, charthop_conn, emulator):
        events = collect(trigger_for(charthop_conn, "000000000000000000000000"))
        assert [event["status"] for event in events] == ["error"]
        assert "HTTP 404" in events[0]["message"]

    @pytest.mark.fault_cell(stage="wait", fault="503 while polling (trigger)", expect="recovers")
    def test_retryable_answers_polled_again(self, charthop_conn, emulator, tmp_path):
        set_import_mode(emulator, "normal", seconds=0)
        hook = ChartHopHook(charthop_conn)
        process = hook.import_csv(open(title_change_csv(hook, tmp_path / "a.csv"), "rb").read())
        emulator.set_faults([{"kind": "status", "status": 503, "path": "/v1/org/*/process/*", "times": 2}])
        events = collect(trigger_for(charthop_conn, process["id"]))
        assert [event["status"] for event in events] == ["finished"]
