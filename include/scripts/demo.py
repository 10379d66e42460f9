"""Run the roster DAG with real Airflow against the local ChartHop emulator and an SQLite warehouse.

Started by ``make demo``. Everything it writes goes under ``.work/demo/`` in the repository.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "charthop_roster_snapshot"
PAYROLL_DAG_ID = "charthop_payroll_import"
PAYROLL_HEADER = [
    "Work Email", "Employee Number", "Legal First Name", "Legal Last Name", "Job Title", "Department",
    "Hire Date", "Termination Date", "Pay Rate", "Pay Frequency", "Currency",
]  # fmt: skip
SNAPSHOT_TABLE = "charthop_roster_snapshot"
HISTORY_TABLE = "charthop_roster_history"
CURRENT_VIEW = "charthop_roster_current"
EMULATOR_TOKEN = "demo-emulator-token"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2000, help="jobs open or filled today in the generated org")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated org")
    parser.add_argument("--work-dir", type=Path, default=REPO_ROOT / ".work" / "demo", help="working folder")
    return parser.parse_args()


def start_emulator(jobs: int, seed: int, log_path: Path) -> tuple[subprocess.Popen, dict]:
    """Start the emulator on a free loopback port and return the process and its ready message."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "include")}
    command = [
        sys.executable, "-m", "charthop_emulator",
        "--host", "127.0.0.1", "--port", "0",
        "--jobs", str(jobs), "--seed", str(seed), "--token", EMULATOR_TOKEN, "--import-seconds", "1",
    ]  # fmt: skip
    with log_path.open("w") as log_file:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log_file, text=True, env=env)
    line = process.stdout.readline() if process.stdout else ""
    if not line:
        process.wait(timeout=10)
        sys.exit(f"The ChartHop emulator did not start; its log is {log_path}:\n{log_path.read_text()[-2000:]}")
    return process, json.loads(line)


def emulator_job_count(ready: dict, date: str) -> int:
    request = urllib.request.Request(
        f"{ready['url']}/v2/org/{ready['org_slug']}/job/count?date={date}",
        headers={"Authorization": f"Bearer {EMULATOR_TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(json.load(response)["jobCount"])


def run_airflow(args: list[str], env: dict, log_path: Path) -> None:
    """Run an airflow CLI command, appending its output to ``log_path``; exit with the error if it fails.

    The roster DAG retries a failed task after 5 minutes, and ``airflow dags test`` waits for that retry,
    so the first failed try stops the command instead.
    """
    airflow = str(Path(sys.executable).with_name("airflow"))
    failure: list[str] = []
    with log_path.open("a") as log_file:
        log_file.write(f"\n$ airflow {' '.join(args)}\n")
        process = subprocess.Popen(
            [airflow, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO_ROOT
        )
        for line in process.stdout:
            log_file.write(line)
            if failure or "Task failed with exception" in line:
                failure.append(line)
            if "up_for_retry" in line:
                process.terminate()
                break
        process.wait()
    if failure or process.returncode != 0:
        detail = "".join(failure[:40]) or log_path.read_text()[-4000:]
        sys.exit(f"`airflow {' '.join(args)}` failed; the full log is {log_path}:\n{detail}")


def summarise(warehouse: Path, date: str) -> dict:
    """Read the loaded snapshot back from the warehouse's current-roster view and history table."""
    with sqlite3.connect(warehouse) as conn:
        states = dict(
            conn.execute(f"SELECT open, COUNT(*) FROM {CURRENT_VIEW} WHERE snapshot_date = ? GROUP BY 1", (date,))
        )
        headcount = conn.execute(
            f"SELECT department_name, COUNT(*) FROM {CURRENT_VIEW} WHERE open = 'filled' "
            "GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
        (versions,) = conn.execute(f"SELECT COUNT(*) FROM {HISTORY_TABLE}").fetchone()
    return {
        "open": states.get("open", 0),
        "filled": states.get("filled", 0),
        "headcount": headcount,
        "history_rows": versions,
    }


def write_payroll_export(warehouse: Path, path: Path) -> None:
    """Write a payroll export that matches the loaded roster except for a few edits a payroll run brings:
    three promotions, one raise and one new hire."""
    with sqlite3.connect(warehouse) as conn:
        conn.row_factory = sqlite3.Row
        roster = conn.execute(
            f"SELECT * FROM {CURRENT_VIEW} WHERE open = 'filled' AND contact_work_email IS NOT NULL ORDER BY job_id"
        ).fetchall()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(PAYROLL_HEADER)
        for index, row in enumerate(roster):
            title = f"Senior {row['title']}" if index in (1, 2, 3) else row["title"]
            amount = row["base_comp_annualized_amount"]
            if index == 4 and amount:
                amount = f"{float(amount) * 1.05:.2f}"
            hired = dt.date.fromisoformat(row["start_date"]).strftime("%m/%d/%Y") if row["start_date"] else ""
            writer.writerow([
                row["contact_work_email"], row["contact_employee"], row["name_first"], row["name_last"], title,
                row["department_name"], hired, "", amount, "Annual", row["base_comp_annualized_currency"],
            ])  # fmt: skip
        writer.writerow([
            "amelie.dubois@acme.example.com", "990001", "Amélie", "D'Arcy-Dubois", "Data Engineer",
            roster[0]["department_name"], dt.date.today().strftime("%m/%d/%Y"), "", "5400", "Monthly", "EUR",
        ])  # fmt: skip


def summarise_payroll(warehouse: Path, imports_dir: Path) -> tuple[dict, list[list[str]]]:
    """Return the payroll audit row and the rows of the import CSV that was sent."""
    with sqlite3.connect(warehouse) as conn:
        conn.row_factory = sqlite3.Row
        audit = dict(conn.execute("SELECT * FROM charthop_payroll_audit ORDER BY finished_at DESC LIMIT 1").fetchone())
    sent = max(imports_dir.glob("payroll-import-*.csv"), key=lambda file: file.stat().st_mtime)
    with sent.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return audit, rows


def main() -> None:
    options = parse_args()
    started = time.monotonic()
    work_dir: Path = options.work_dir.resolve()
    airflow_home = work_dir / "airflow"
    warehouse = work_dir / "warehouse.db"
    airflow_log = work_dir / "airflow.log"
    work_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(airflow_home / "logs", ignore_errors=True)
    airflow_log.write_text("")

    print(f"Starting the ChartHop emulator ({options.jobs} jobs today, seed {options.seed}) ...", flush=True)
    emulator, ready = start_emulator(options.jobs, options.seed, work_dir / "emulator.log")
    try:
        date = ready["today"]
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(airflow_home / "plugins"),
            "AIRFLOW_CONN_CHARTHOP_DEFAULT": json.dumps(
                {"conn_type": "charthop", "host": ready["url"], "password": EMULATOR_TOKEN,
                 "extra": {"org_id": ready["org_slug"]}}
            ),  # fmt: skip
            "AIRFLOW_CONN_CHARTHOP_WAREHOUSE": json.dumps({"conn_type": "sqlite", "host": str(warehouse)}),
            "CHARTHOP_WORK_DIR": str(work_dir / "imports"),
        }
        print(f"Emulator at {ready['url']}, org '{ready['org_slug']}'. Preparing Airflow in {airflow_home} ...",
              flush=True)  # fmt: skip
        run_airflow(["db", "migrate"], env, airflow_log)
        print(f"Running `airflow dags test {DAG_ID} {date}` ...", flush=True)
        run_airflow(["dags", "test", DAG_ID, date], env, airflow_log)

        expected = emulator_job_count(ready, date)
        summary = summarise(warehouse, date)
        loaded = summary["open"] + summary["filled"]

        payroll = work_dir / "payroll_export.csv"
        write_payroll_export(warehouse, payroll)
        print(f"Running `airflow dags test {PAYROLL_DAG_ID} {date}` with the payroll export {payroll} ...", flush=True)
        run_airflow(["dags", "test", PAYROLL_DAG_ID, date, "-c", json.dumps({"payroll_path": str(payroll)})],
                    env, airflow_log)  # fmt: skip
        audit, sent_rows = summarise_payroll(warehouse, work_dir / "imports")
    finally:
        emulator.terminate()
        emulator.wait(timeout=15)

    elapsed = time.monotonic() - started
    headcount = ", ".join(f"{department} {count}" for department, count in summary["headcount"])
    print()
    print(f"Roster snapshot as of {date}: {loaded} jobs ({summary['filled']} filled, {summary['open']} open) "
          f"in {len(summary['headcount'])} departments; ChartHop's countJobs reports {expected}.")  # fmt: skip
    print(f"Headcount by department: {headcount}")
    print(f"History: {summary['history_rows']} job versions in {HISTORY_TABLE}.")
    print(f"Payroll push: process {audit['process_id']} ended {audit['status']}, {audit['rows_sent']} rows sent "
          f"({audit['new_rows']} new, {audit['changed_rows']} changed); ChartHop results {audit['results']}.")  # fmt: skip
    print("Rows sent to ChartHop:")
    for row in sent_rows:
        print("  " + " | ".join(row))
    print(f"Elapsed: {elapsed:.1f} s. Warehouse: {warehouse}. Airflow log: {airflow_log}")
    print("Try:")
    print(f"  sqlite3 {warehouse} \"SELECT department_name, COUNT(*) FROM {CURRENT_VIEW} "
          "WHERE open = 'filled' GROUP BY 1 ORDER BY 2 DESC\"")  # fmt: skip
    print()
    print("To run the same DAG against a real ChartHop org, set the connection charthop_default, for example:")
    print("  export AIRFLOW_CONN_CHARTHOP_DEFAULT='{\"conn_type\": \"charthop\", \"password\": \"<app API token>\", "
          "\"extra\": {\"org_id\": \"<org id or slug>\"}}'")  # fmt: skip
    if loaded != expected:
        sys.exit(f"The warehouse holds {loaded} jobs for {date} but the emulator reports {expected}.")


if __name__ == "__main__":
    main()
