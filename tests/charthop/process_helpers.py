"""Helpers shared by the import, sensor and trigger tests: CSV files and import knobs of the emulator."""

from __future__ import annotations

import requests

from charthop.hooks.charthop import ChartHopHook


def set_import_mode(emulator, mode: str = "normal", seconds: float = 0) -> None:
    """Set how the emulator's next imports behave: ``normal``, ``reject_file``, ``bad_row`` or ``never_finish``."""
    response = requests.post(
        f"{emulator.url}/_emulator/imports/settings", json={"seconds": seconds, "mode": mode}, timeout=10
    )
    response.raise_for_status()


def uploads(emulator) -> list[dict]:
    """Return the emulator's record of every importDataCsv call."""
    return requests.get(f"{emulator.url}/_emulator/imports", timeout=10).json()


def title_change_csv(hook: ChartHopHook, path, people: int = 3) -> str:
    """Write a CSV that gives ``people`` current employees a new title; return the path as text."""
    rows = [row for page in hook.find_jobs(fields="contact.workEmail,title", q="open:filled", page_size=people) for row in page.rows]
    lines = ["contact.workEmail,title"] + [f"{row['contact.workEmail']},\"{row['title']}, Senior\"" for row in rows[:people]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)
