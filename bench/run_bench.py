"""Benchmark the ChartHop provider against its baselines; write BENCHMARKS.md and bench/results.json.

Every measurement runs in a fresh worker process (``bench.worker``), so its peak RSS is its own. The
ChartHop emulator runs in another process, so its CPU and memory are not counted. Repetitions run
round-robin over the contenders, so a burst of load on a shared machine hits them alike, and the report
gives medians and ratios of medians measured in the same run. ``make bench`` runs this script.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shlex
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench import report  # noqa: E402
from bench.data import PAYROLL_MAPPING, write_payroll_export  # noqa: E402
from bench.profiles import EXTRACT_PARTS, PAYROLL_PARTS, summarise_importtime, summarise_profile  # noqa: E402
from bench.targets import define_ratios, evaluate  # noqa: E402
from bench.worker import TIMED_MARKER  # noqa: E402

EMULATOR_TOKEN = "bench-emulator-token"
EMULATOR_SEED = 1
#: Rows per ``insert_rows`` call in the insert comparison: the operator's default page size.
INSERT_BATCH = 1000
FULL_DEFAULTS = {"sizes": [10_000, 100_000], "payroll_rows": 100_000, "insert_rows": 100_000, "parse_repeat": 5}
QUICK_DEFAULTS = {"sizes": [2_000, 10_000], "payroll_rows": 10_000, "insert_rows": 10_000}
VERSIONED_PACKAGES = (
    "apache-airflow",
    "apache-airflow-providers-http",
    "apache-airflow-providers-common-sql",
    "apache-airflow-providers-sqlite",
    "apache-airflow-providers-postgres",
    "requests",
    "pandas",
    "numpy",
    "psycopg",
)


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid sizes {text!r}: use a comma list of job counts, such as 10000,100000")
    if len(sizes) < 2 or sizes[0] < 1:
        raise argparse.ArgumentTypeError(f"invalid sizes {text!r}: give at least two different positive job counts")
    return sizes


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=parse_sizes, help="org sizes in jobs, a comma list (default 10000,100000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the report takes the median (default 3)")
    parser.add_argument("--parse-repeat", type=int,
                        help="runs of each DAG file's parse (default 5, or --repeat with --quick)")
    parser.add_argument("--payroll-rows", type=int, help="rows of the generated payroll export (default 100000)")
    parser.add_argument("--insert-rows", type=int, help="rows of the COPY / INSERT comparison (default 100000)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: sizes 2000,10000 and 10000 payroll and insert rows unless given, and "
                             "no -X importtime runs of the DAG files")
    parser.add_argument("--out-dir", type=Path, default=REPO_ROOT,
                        help="folder that receives BENCHMARKS.md and bench/results.json (default: the repository)")
    parser.add_argument("--work-dir", type=Path,
                        help="folder for databases, generated files and worker logs (default: a temporary folder, removed)")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile and -X importtime evidence runs")
    parser.add_argument("--pg-host", default="127.0.0.1", help="PostgreSQL host (default 127.0.0.1)")
    parser.add_argument("--pg-port", type=int, default=5432, help="PostgreSQL port (default 5432)")
    parser.add_argument("--pg-user", default="postgres", help="PostgreSQL user with CREATEDB, trust auth (default postgres)")
    options = parser.parse_args(argv)
    defaults = {**FULL_DEFAULTS, **(QUICK_DEFAULTS if options.quick else {}), "parse_repeat": options.repeat}
    if not options.quick:
        defaults["parse_repeat"] = FULL_DEFAULTS["parse_repeat"]
    for name, value in defaults.items():
        if getattr(options, name) is None:
            setattr(options, name, value)
    if options.repeat < 1 or options.parse_repeat < 1:
        parser.error("--repeat and --parse-repeat must be at least 1")
    return options


class Emulator:
    """The ChartHop emulator in its own process, serving a generated org on a free loopback port."""

    def __init__(self, jobs: int, log_path: Path) -> None:
        self.jobs = jobs
        self.log_path = log_path
        self.process: subprocess.Popen[str] | None = None
        self.ready: dict[str, Any] = {}

    def __enter__(self) -> Emulator:
        command = [
            sys.executable, "-m", "charthop_emulator", "--host", "127.0.0.1", "--port", "0",
            "--jobs", str(self.jobs), "--seed", str(EMULATOR_SEED), "--token", EMULATOR_TOKEN, "--log-level", "WARNING",
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "include")}
        with self.log_path.open("w") as log_file:
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log_file, text=True, env=env)
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line:
            self.process.wait(timeout=10)
            raise RuntimeError(f"The ChartHop emulator did not start; its log is {self.log_path}:\n{self.log_path.read_text()[-2000:]}")
        self.ready = json.loads(line)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=30)


def postgres_conninfo(options: argparse.Namespace, database: str) -> str:
    return f"host={options.pg_host} port={options.pg_port} user={options.pg_user} dbname={database}"


@contextmanager
def postgres_database(options: argparse.Namespace) -> Iterator[str]:
    """Create a database for this run and drop it afterwards; yield its name."""
    import psycopg

    try:
        with socket.create_connection((options.pg_host, options.pg_port), timeout=3):
            pass
    except OSError as error:
        sys.exit(
            f"No PostgreSQL server answers on {options.pg_host}:{options.pg_port} ({error}). The extract and insert "
            "benchmarks need one: start it (pg_ctlcluster 15 main start) or pass --pg-host and --pg-port."
        )
    database = f"charthop_bench_{os.getpid()}"
    admin = postgres_conninfo(options, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
        conn.execute(f'CREATE DATABASE "{database}"')
    try:
        yield database
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


class Bench:
    """Runs workers and collects their measurements, profiles and logs."""

    def __init__(self, options: argparse.Namespace, work_dir: Path) -> None:
        self.options = options
        self.work_dir = work_dir
        self.logs = work_dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.measurements: dict[str, dict[str, Any]] = {}
        self.evidence: dict[str, Any] = {}
        self.worker_count = 0
        airflow_home = work_dir / "airflow"
        airflow_home.mkdir(exist_ok=True)
        # Inherited AIRFLOW_* variables (a test's connections, another DAGs folder) would change what the
        # workers load, so the workers get none but these.
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
        self.env.update(
            {
                "AIRFLOW_HOME": str(airflow_home),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_FOLDER": str(work_dir / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(airflow_home / "plugins"),
                # The provider's own tree first, so the workers measure this checkout even when the venv's
                # editable install points at another one.
                "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "plugins")]),
            }
        )

    def run_worker(
        self,
        workload: str,
        params: dict[str, Any],
        *,
        profile: Path | None = None,
        importtime: bool = False,
        trace: Path | None = None,
    ) -> tuple[dict[str, Any], str]:
        """Run one workload in a fresh process; return its measurements and its stderr and stdout text."""
        self.worker_count += 1
        log_path = self.logs / f"{self.worker_count:04d}-{workload}.log"
        result_path = self.work_dir / "result.json"
        result_path.unlink(missing_ok=True)
        command = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "bench.worker",
                   "--workload", workload, "--params", json.dumps(params), "--result", str(result_path)]  # fmt: skip
        if profile:
            command += ["--profile", str(profile)]
        if trace:
            command += ["--tracemalloc", str(trace)]
        with log_path.open("w") as log_file:
            completed = subprocess.run(command, cwd=REPO_ROOT, env=self.env, stdout=log_file, stderr=subprocess.STDOUT)
        output = log_path.read_text(errors="replace")
        if completed.returncode != 0 or not result_path.exists():
            raise RuntimeError(
                f"Workload {workload} failed with exit code {completed.returncode}; its log is {log_path}:\n{output[-3000:]}"
            )
        return json.loads(result_path.read_text()), output

    def measure(self, key: str, workload: str, params: dict[str, Any], description: str, size: int | None = None) -> None:
        """Run a workload once and add the run to the measurement ``key``."""
        result, _ = self.run_worker(workload, params)
        entry = self.measurements.setdefault(
            key, {"workload": workload, "description": description, "size": size, "runs": []}
        )
        entry["runs"].append(result)
        print(f"  {key:<40} {result['seconds']:8.3f} s  peak {result['peak_rss_kib'] / 1024:7.1f} MiB  "
              f"{result['items']} items", flush=True)  # fmt: skip

    def profile(self, key: str, workload: str, params: dict[str, Any], parts: tuple[tuple[str, str, str], ...]) -> None:
        """Run a workload once under cProfile and keep the summary as evidence ``profile:<key>``."""
        path = self.work_dir / f"{key.replace('@', '-')}.pstats"
        self.run_worker(workload, params, profile=path)
        self.evidence[f"profile:{key}"] = summarise_profile(path, parts)
        print(f"  profiled {key}", flush=True)

    def trace_memory(self, key: str, workload: str, params: dict[str, Any]) -> None:
        """Run a workload once under tracemalloc and keep the lines holding most memory as ``tracemalloc:<key>``."""
        path = self.work_dir / f"{key.replace('@', '-')}.tracemalloc.json"
        self.run_worker(workload, params, trace=path)
        self.evidence[f"tracemalloc:{key}"] = json.loads(path.read_text())
        print(f"  traced the memory of {key}", flush=True)


def read_operator_defaults(env: dict[str, str]) -> dict[str, Any]:
    """Return the operator's default fields, page size and response format, read from the installed package."""
    code = (
        "import inspect, json\n"
        "from charthop.hooks.charthop import normalise_fields\n"
        "from charthop.operators.jobs import DEFAULT_ROSTER_FIELDS, ChartHopFindJobsOperator\n"
        "defaults = inspect.signature(ChartHopFindJobsOperator.__init__).parameters\n"
        "print(json.dumps({'fields': normalise_fields(list(DEFAULT_ROSTER_FIELDS)),\n"
        "    'page_size': defaults['page_size'].default, 'response_format': defaults['response_format'].default}))\n"
    )
    output = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def measure_extracts(bench: Bench, size: int, database: str, defaults: dict[str, Any], profile: bool) -> None:
    """Measure (a) to (d) against one emulator of ``size`` jobs."""
    options = bench.options
    print(f"Org of {size:,} jobs: starting the emulator ...", flush=True)
    with Emulator(size, bench.logs / f"emulator-{size}.log") as emulator:
        base = {"url": emulator.ready["url"], "org": emulator.ready["org_slug"], "token": EMULATOR_TOKEN,
                "date": emulator.ready["today"], **defaults}  # fmt: skip
        postgres = {"pg_host": options.pg_host, "pg_port": options.pg_port, "pg_user": options.pg_user,
                    "pg_database": database, "pg_conninfo": postgres_conninfo(options, database)}  # fmt: skip
        sqlite_path = str(bench.work_dir / "warehouse.db")
        cases = [
            ("fetch", "fetch", base, "(a) requests loop over findJobs, pages decoded and dropped"),
            ("extract_sqlite", "extract", {**base, "warehouse": "sqlite", "sqlite_path": sqlite_path},
             "(b) ChartHopFindJobsOperator.execute into SQLite"),
            ("extract_postgres", "extract", {**base, **postgres, "warehouse": "postgres"},
             "(b) ChartHopFindJobsOperator.execute into PostgreSQL"),
            ("http_operator", "http_operator", base, "(c) HttpOperator with pagination_function, pages collected"),
            ("pandas_script", "pandas_script", {**base, "sqlite_path": sqlite_path},
             "(d) requests loop, pandas.json_normalize, DataFrame.to_sql into SQLite"),
        ]  # fmt: skip
        for _ in range(options.repeat):
            for name, workload, params, description in cases:
                bench.measure(f"{name}@{size}", workload, params, description, size)
        if profile:
            for name, workload, params, _ in cases[1:3]:
                bench.profile(f"{name}@{size}", workload, params, EXTRACT_PARTS)
                bench.trace_memory(f"{name}@{size}", workload, params)
        Path(sqlite_path).unlink(missing_ok=True)


def measure_payroll(bench: Bench, profile: bool) -> None:
    rows = bench.options.payroll_rows
    export = bench.work_dir / "payroll_export.csv"
    write_payroll_export(export, rows)
    print(f"Payroll export of {rows:,} rows ({export.stat().st_size / 1024 / 1024:.1f} MiB):", flush=True)
    prepare = {"payroll_path": str(export), "mapping_path": str(PAYROLL_MAPPING), "out_path": str(bench.work_dir / "import.csv")}
    for _ in range(bench.options.repeat):
        bench.measure("payroll_prepare", "payroll", prepare,
                      "prepare_payroll_csv + diff_against_roster (empty roster) + write_import_csv")  # fmt: skip
        bench.measure("payroll_read_csv", "read_csv", {"payroll_path": str(export)}, "pandas.read_csv of the same file")
    if profile:
        bench.profile("payroll_prepare", "payroll", prepare, PAYROLL_PARTS)


def measure_inserts(bench: Bench, database: str) -> None:
    import psycopg

    rows = bench.options.insert_rows
    print(f"PostgreSQL inserts of {rows:,} rows:", flush=True)
    params = {"pg_conninfo": postgres_conninfo(bench.options, database), "rows": rows, "batch": INSERT_BATCH,
              "table": "bench_insert"}  # fmt: skip
    for _ in range(bench.options.repeat):
        bench.measure("insert_copy", "insert", {**params, "method": "copy"},
                      f"PostgresDialect.insert_rows (COPY FROM STDIN), batches of {INSERT_BATCH}")  # fmt: skip
        bench.measure("insert_executemany", "insert", {**params, "method": "executemany"},
                      f"Dialect.insert_rows (executemany INSERT), batches of {INSERT_BATCH}")  # fmt: skip
    executemany = bench.measurements["insert_executemany"]["runs"]
    copy = bench.measurements["insert_copy"]["runs"]
    bench.evidence["inserts"] = {
        "executemany_rows_per_second": round(rows / min(run["seconds"] for run in executemany)),
        "copy_rows_per_second": round(rows / min(run["seconds"] for run in copy)),
        "psycopg": psycopg.__version__,
        "libpq": f"{psycopg.pq.version() // 10000}.{psycopg.pq.version() % 10000}",
        # psycopg 3.1 and later send executemany's statements in one pipeline when libpq supports it.
        "pipeline_mode": psycopg.Pipeline.is_supported(),
    }


def measure_dag_parses(bench: Bench, dag_files: list[Path], profile: bool) -> None:
    print("DAG parse times:", flush=True)
    folder = str(bench.work_dir / "dags")
    cases = [("parse:empty", "")] + [(f"parse:{path.name}", str(path)) for path in dag_files]
    for _ in range(bench.options.parse_repeat):
        for key, dag_file in cases:
            label = "an empty DAG (no tasks)" if not dag_file else f"dags/{Path(dag_file).name}"
            bench.measure(key, "dag_parse", {"folder": folder, "dag_file": dag_file}, f"DagBag of a folder with {label}")
    if not profile or bench.options.quick:
        # Six more processes that each import Airflow would add about a quarter to a quick run.
        return
    for key, dag_file in cases:
        _, output = bench.run_worker("dag_parse", {"folder": folder, "dag_file": dag_file}, importtime=True)
        bench.evidence[key.replace("parse:", "imports:")] = summarise_importtime(output, TIMED_MARKER)


def describe_source() -> dict[str, Any]:
    """Return the commit measured and the files under plugins/, dags/ and include/ that differ from it."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
        status = subprocess.run(["git", "status", "--porcelain", "--", "plugins", "dags", "include"], cwd=REPO_ROOT,
                                capture_output=True, text=True, check=True)  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "changed_files": []}
    return {"commit": commit.stdout.strip(), "changed_files": [line[3:] for line in status.stdout.splitlines()]}


def describe_machine(options: argparse.Namespace, database: str | None = None) -> dict[str, Any]:
    """Return the CPU, memory, OS and versions of this run."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    models = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")]
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    mem_kib = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal:")), 0)
    versions = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    if database:
        import psycopg

        with psycopg.connect(postgres_conninfo(options, database)) as conn:
            versions["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
    return {
        "cpu_model": models[0] if models else platform.processor() or "unknown",
        "logical_cpus": len(models) or os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "os": f"{platform.system()} {platform.release()}",
        "versions": versions,
    }


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    started = time.monotonic()
    started_at = dt.datetime.now(dt.timezone.utc)
    load_before = os.getloadavg()
    work_dir = (options.work_dir or Path(tempfile.mkdtemp(prefix="charthop-bench-"))).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    out_dir = options.out_dir.resolve()
    dag_files = sorted((REPO_ROOT / "dags").glob("*.py"))
    profile = not options.no_profile
    bench = Bench(options, work_dir)
    try:
        defaults = read_operator_defaults(bench.env)
        with postgres_database(options) as database:
            machine = describe_machine(options, database)
            for size in options.sizes:
                measure_extracts(bench, size, database, defaults, profile and size == max(options.sizes))
            measure_payroll(bench, profile)
            measure_inserts(bench, database)
        measure_dag_parses(bench, dag_files, profile)
    finally:
        if options.work_dir is None:
            shutil.rmtree(work_dir, ignore_errors=True)

    ratios = evaluate(define_ratios(options.sizes, [path.name for path in dag_files]), bench.measurements)
    command = shlex.join(["python", "bench/run_bench.py", *(sys.argv[1:] if argv is None else argv)])
    results = {
        "date": started_at.isoformat(timespec="seconds"),
        "command": command,
        "duration_seconds": round(time.monotonic() - started, 1),
        "load_average_before": [round(value, 2) for value in load_before],
        "load_average_after": [round(value, 2) for value in os.getloadavg()],
        "settings": {
            "sizes": options.sizes,
            "repeat": options.repeat,
            "parse_repeat": options.parse_repeat,
            "payroll_rows": options.payroll_rows,
            "insert_rows": options.insert_rows,
            "insert_batch": INSERT_BATCH,
            "quick": options.quick,
            "operator_defaults": defaults,
            "emulator_seed": EMULATOR_SEED,
        },
        "machine": machine,
        "source": describe_source(),
        "measurements": bench.measurements,
        "ratios": ratios,
        "evidence": bench.evidence,
    }
    (out_dir / "bench").mkdir(parents=True, exist_ok=True)
    (out_dir / "bench" / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (out_dir / "BENCHMARKS.md").write_text(report.render(results))
    met = sum(ratio["met"] for ratio in ratios)
    print(f"{met} of {len(ratios)} targets met. Wrote {out_dir / 'BENCHMARKS.md'} and {out_dir / 'bench' / 'results.json'} "
          f"in {results['duration_seconds']:.0f} s.")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
