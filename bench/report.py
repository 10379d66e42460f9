"""Render BENCHMARKS.md from the results that ``run_bench.py`` collects."""

from __future__ import annotations

import statistics
from typing import Any

from bench.targets import MIB, median_of


def render(results: dict[str, Any]) -> str:
    """Return the whole BENCHMARKS.md text for one run's results."""
    sections = [
        _header(results),
        _targets(results),
        _causes(results),
        _medians(results),
        _profiles(results),
        _imports(results),
        _method(results),
        _machine(results),
    ]
    return "\n\n".join(section.rstrip() for section in sections if section) + "\n"


def _header(results: dict[str, Any]) -> str:
    settings = results["settings"]
    quick = "\nThis is a `--quick` smoke run: its sizes are too small for the targets to mean much." if settings["quick"] else ""
    return f"""# Benchmarks

Written by `make bench` (`bench/run_bench.py`) on {results["date"]}, in {results["duration_seconds"]:.0f} s.
The raw numbers of every run are in `bench/results.json`.{quick}
The machine is shared and noisy, so only ratios of medians measured in the same run are compared, never
absolute times. Load average (1, 5, 15 min) was {_load(results["load_average_before"])} at the start and
{_load(results["load_average_after"])} at the end."""


def _load(values: list[float]) -> str:
    return " / ".join(f"{value:.2f}" for value in values)


def _targets(results: dict[str, Any]) -> str:
    ratios = results["ratios"]
    met = sum(ratio["met"] for ratio in ratios)
    lines = [
        "## Targets",
        "",
        f"{met} of {len(ratios)} ratios meet their target. Each ratio divides the median of the first measurement by the median",
        "of the second (time, or peak RSS where it says so).",
        "",
        "| Comparison | Ratio | Target | Met |",
        "|---|---:|---|---|",
    ]
    for ratio in ratios:
        lines.append(f"| {ratio['name']} | {ratio['value']:.2f}× | {ratio['target']} | {'yes' if ratio['met'] else '**no**'} |")
    return "\n".join(lines)


def _causes(results: dict[str, Any]) -> str:
    missed: dict[str, list[str]] = {}
    for ratio in results["ratios"]:
        if not ratio["met"]:
            missed.setdefault(ratio["evidence"], []).append(ratio["name"])
    if not missed:
        return "## Causes of missed targets\n\nEvery target is met."
    lines = ["## Causes of missed targets", "", "What this run measured about each missed target:", ""]
    for evidence, names in missed.items():
        lines.append(f"- {'; '.join(names)}: {_explain(evidence, results)}")
    return "\n".join(lines)


def _explain(evidence: str, results: dict[str, Any]) -> str:
    found = results["evidence"].get(evidence)
    if evidence == "memory":
        return _explain_memory(results)
    if found is None:
        return "no evidence run was made (`--no-profile`)."
    if evidence.startswith("profile:"):
        return _explain_profile(evidence.removeprefix("profile:"), found)
    if evidence == "inserts":
        pipeline = (
            f"psycopg {found['psycopg']} with libpq {found['libpq']} runs executemany in pipeline mode, so the "
            "row-by-row INSERTs do not wait for one round trip per row"
            if found["pipeline_mode"]
            else f"libpq {found['libpq']} has no pipeline mode, so executemany waits for one round trip per row"
        )
        return (
            f"executemany inserted {found['executemany_rows_per_second']:,} rows/s and COPY "
            f"{found['copy_rows_per_second']:,} rows/s (best runs); {pipeline}."
        )
    if evidence.startswith("imports:"):
        empty = results["evidence"].get("imports:empty", {"modules": 0, "outermost_ms": 0.0})
        slowest = ", ".join(f"`{item['module']}` {item['cumulative_ms']:.0f} ms" for item in found["outermost"][:5])
        return (
            f"the parse imported {found['modules']} modules that were not loaded yet ({found['outermost_ms']:.0f} ms in the "
            f"outermost imports, by `-X importtime`), against {empty['modules']} modules ({empty['outermost_ms']:.0f} ms) for "
            f"the empty DAG. Slowest outermost imports: {slowest}."
        )
    return str(found)


def _explain_profile(key: str, profile: dict[str, Any]) -> str:
    top_level = [part for part in profile["breakdown"] if not part["part"].startswith(" ") and part["seconds"] > 0]
    nested = sorted(
        (part for part in profile["breakdown"] if part["part"].startswith(" ") and part["seconds"] > 0),
        key=lambda part: part["seconds"],
        reverse=True,
    )[:4]
    shares = ", ".join(f"{part['part'].split(' (')[0]} {part['share']:.0%}" for part in top_level)
    inside = ", ".join(f"{part['part'].strip()} {part['share']:.0%}" for part in nested)
    return (
        f"in the cProfile run of `{key}` ({profile['total_seconds']:.1f} s under the profiler) the time splits into "
        f"{shares}; the largest parts inside them are {inside}. The function table under Profiles lists the rest."
    )


def _explain_memory(results: dict[str, Any]) -> str:
    measurements = results["measurements"]
    sizes = results["settings"]["sizes"]
    small, large = min(sizes), max(sizes)
    parts = []
    for warehouse in ("sqlite", "postgres"):
        before_small = median_of(measurements[f"extract_{warehouse}@{small}"], "rss_before_kib") / MIB
        peak_small = median_of(measurements[f"extract_{warehouse}@{small}"], "peak_rss_kib") / MIB
        before_large = median_of(measurements[f"extract_{warehouse}@{large}"], "rss_before_kib") / MIB
        peak_large = median_of(measurements[f"extract_{warehouse}@{large}"], "peak_rss_kib") / MIB
        parts.append(
            f"the extract into {warehouse} reaches {before_small:.0f} MiB ({small:,} jobs) and {before_large:.0f} MiB "
            f"({large:,}) with imports and set-up alone, and peaks at {peak_small:.0f} and {peak_large:.0f} MiB, so the "
            f"run adds {peak_small - before_small:.0f} and {peak_large - before_large:.0f} MiB"
        )

    pandas = measurements[f"pandas_script@{large}"]
    pandas_peak = median_of(pandas, "peak_rss_kib") / MIB
    smallest_before = min(
        median_of(measurements[f"extract_{warehouse}@{large}"], "rss_before_kib") / MIB for warehouse in ("sqlite", "postgres")
    )
    parts.append(
        f"the pandas script peaks at {pandas_peak:.0f} MiB at {large:,} jobs, {median_of(pandas, 'rss_before_kib') / MIB:.0f} "
        f"MiB of it after its imports, so the extract's imports and set-up alone are {smallest_before / pandas_peak:.2f}× "
        "the pandas script's whole peak"
    )
    text = "; ".join(parts) + " (medians of peak RSS, `ru_maxrss`)."

    for warehouse in ("sqlite", "postgres"):
        traced = results["evidence"].get(f"tracemalloc:extract_{warehouse}@{large}")
        if traced:
            lines = ", ".join(f"`{_short_path(item['line'])}` {item['mib']:.1f} MiB" for item in traced["top_lines"][:4])
            text += (
                f" Under tracemalloc the extract into {warehouse} at {large:,} jobs held at most {traced['traced_peak_mib']:.0f} "
                f"MiB of Python objects; the lines holding most at the highest snapshot ({traced['snapshot_mib']:.0f} MiB): {lines}."
            )
    return text


def _short_path(location: str) -> str:
    for marker in ("site-packages/", "plugins/", "lib/python3.11/"):
        if marker in location:
            return location.split(marker, 1)[1]
    return location


def _medians(results: dict[str, Any]) -> str:
    lines = [
        "## Medians",
        "",
        "| Measurement | What runs | Rows / DAGs | Median s | Min–max s | CPU s | Peak RSS MiB | RSS after set-up MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, measurement in results["measurements"].items():
        runs = measurement["runs"]
        seconds = [run["seconds"] for run in runs]
        items = sorted({run["items"] for run in runs})
        lines.append(
            f"| `{key}` | {measurement['description']} | {', '.join(f'{item:,}' for item in items)} | "
            f"{statistics.median(seconds):.3f} | {min(seconds):.3f}–{max(seconds):.3f} | "
            f"{median_of(measurement, 'cpu_seconds'):.2f} | {median_of(measurement, 'peak_rss_kib') / MIB:.0f} | "
            f"{median_of(measurement, 'rss_before_kib') / MIB:.0f} |"
        )
    lines += [
        "",
        "CPU s is the worker's own CPU time (user and system) in the timed part; the emulator's is not included.",
    ]
    return "\n".join(lines)


def _profiles(results: dict[str, Any]) -> str:
    profiles = {key: value for key, value in results["evidence"].items() if key.startswith("profile:")}
    if not profiles:
        return ""
    lines = [
        "## Profiles",
        "",
        "One extra run of each, under cProfile, which slows Python code more than C code, so the shares are",
        "indicative. Cumulative seconds; an indented part is inside the part above it.",
    ]
    for key, profile in profiles.items():
        lines += ["", f"### `{key.removeprefix('profile:')}` ({profile['total_seconds']:.2f} s under the profiler)", ""]
        lines += ["| Part | Seconds | Share |", "|---|---:|---:|"]
        for part in profile["breakdown"]:
            label = part["part"].replace("  ", "&nbsp;&nbsp;")
            lines.append(f"| {label} | {part['seconds']:.2f} | {part['share']:.0%} |")
        lines += ["", "| Function (most own time first) | Calls | Own s | Cumulative s |", "|---|---:|---:|---:|"]
        for function in profile["top_own_time"]:
            lines.append(
                f"| `{function['function']}` | {function['calls']:,} | {function['own_seconds']:.2f} | "
                f"{function['cumulative_seconds']:.2f} |"
            )
    return "\n".join(lines)


def _imports(results: dict[str, Any]) -> str:
    imports = {key: value for key, value in results["evidence"].items() if key.startswith("imports:")}
    if not imports:
        return ""
    lines = [
        "## Imports during each DAG parse",
        "",
        "From one run of each parse under `python -X importtime`: the modules first loaded while `DagBag` parsed",
        "the file, and the outermost of them, slowest first.",
        "",
        "| DAG file | Modules loaded | Outermost imports, ms | Slowest outermost imports |",
        "|---|---:|---:|---|",
    ]
    for key, found in imports.items():
        name = "empty DAG" if key == "imports:empty" else f"dags/{key.removeprefix('imports:')}"
        slowest = ", ".join(f"`{item['module']}` {item['cumulative_ms']:.0f}" for item in found["outermost"][:4])
        lines.append(f"| {name} | {found['modules']} | {found['outermost_ms']:.0f} | {slowest} |")
    return "\n".join(lines)


def _method(results: dict[str, Any]) -> str:
    settings = results["settings"]
    defaults = settings["operator_defaults"]
    sizes = " and ".join(f"{size:,}" for size in settings["sizes"])
    return f"""## What was measured and how

- Every run is a fresh Python process (`bench/worker.py`). Imports and set-up (connections, input files,
  dropping the roster tables) happen before the clock starts; the clock covers only the work. Peak RSS
  is that process's `ru_maxrss`, imports included; "RSS after set-up" is `ru_maxrss` just before the
  clock starts.
- The ChartHop emulator (`include/charthop_emulator`, seed {settings["emulator_seed"]}) runs in its own process with
  orgs of {sizes} jobs on the current date, on a free loopback port. Every extract reads the same
  roster: the operator's default fields ({len(defaults["fields"])} field codes), `limit={defaults["page_size"]}`,
  `format={defaults["response_format"]}`, `date=` the emulator's today.
- (a) pure fetch: a `requests.Session` loop over findJobs following `next`, decoding each page and
  dropping it. It is the floor for any extract over HTTP.
- (b) extract: `ChartHopFindJobsOperator.execute` with `AIRFLOW_CONN_CHARTHOP_DEFAULT` and
  `AIRFLOW_CONN_CHARTHOP_WAREHOUSE` pointing at the emulator and at a new SQLite file or a PostgreSQL
  database without the roster tables. It includes the countJobs check, the manager check, the
  history rebuild and the commit.
- (c) `HttpOperator` (HTTP provider) with a `pagination_function` that returns the `next` cursor and a
  `response_filter` that turns the collected responses into one list of rows, executed directly. It
  loads nothing into a database.
- (d) a plain script: a `requests` loop collecting every row, `pandas.json_normalize` and
  `DataFrame.to_sql` into a new SQLite file.
- Payroll: a {settings["payroll_rows"]:,}-row export generated from the rows of
  `include/payroll/payroll_clean.csv` (each copy with its own e-mail and employee number), prepared with
  `prepare_payroll_csv`, `diff_against_roster` against an empty roster (every row is new) and
  `write_import_csv`, against a bare `pandas.read_csv` of the same file.
- Inserts: {settings["insert_rows"]:,} generated rows with the snapshot table's columns and types, inserted into
  PostgreSQL in one transaction, {settings["insert_batch"]:,} rows per `insert_rows` call as the extract writes one
  page at a time: `PostgresDialect.insert_rows` (COPY FROM STDIN) against the generic
  `Dialect.insert_rows` (executemany of INSERT).
- DAG parse: `DagBag(dag_folder=...)` of a folder holding one file of `dags/`, or a DAG without tasks,
  one parse per process. Before the clock starts the worker imports `DagBag` and the `airflow.*` modules
  the file imports, as Airflow 3.3's DAG processor does before it starts a parsing process
  (`parsing_pre_import_modules`); the file's other imports are timed.
- Repetitions: {settings["repeat"]} of each measurement ({settings["parse_repeat"]} of each parse), round-robin over
  the contenders; the report takes medians."""


def _machine(results: dict[str, Any]) -> str:
    machine = results["machine"]
    versions = ", ".join(f"{name} {version}" for name, version in machine["versions"].items())
    return f"""## Machine and versions

- CPU: {machine["cpu_model"]}, {machine["logical_cpus"]} logical CPUs; memory {machine["memory_gib"]} GiB; {machine["os"]}.
- Versions: {versions}.

## Commands

```bash
make bench                                   # the full run: .venv/bin/python bench/run_bench.py
make bench BENCH_ARGS="--quick --repeat 1"   # smoke run with small sizes
```

This file came from `{results["command"]}`{_source(results.get("source", {}))}."""


def _source(source: dict[str, Any]) -> str:
    if not source.get("commit"):
        return " outside a git checkout"
    changed = source["changed_files"]
    if not changed:
        return f" at commit {source['commit'][:12]}"
    return f" at commit {source['commit'][:12]} with uncommitted changes to {', '.join(f'`{name}`' for name in changed)}"
