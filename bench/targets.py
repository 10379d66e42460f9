"""The benchmark targets: which medians each ratio divides, the target it is held against, and the evidence
the report gives when a target is missed. Nothing here asserts: a missed target is reported, not raised."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MIB = 1024.0


def median_of(measurement: dict[str, Any], metric: str) -> float:
    """Return the median of one metric (``seconds``, ``peak_rss_kib``, ...) over a measurement's runs."""
    return float(statistics.median(run[metric] for run in measurement["runs"]))


@dataclass(frozen=True)
class Ratio:
    """One compared pair: ``numerator / denominator`` of the medians of ``metric``.

    :param name: what the ratio compares, as the report's table shows it.
    :param numerator: measurement key of the package's side.
    :param denominator: measurement key of the baseline.
    :param metric: ``seconds`` or ``peak_rss_kib``.
    :param target: the target, as text.
    :param is_met: whether a ratio value meets the target.
    :param evidence: key of the profile or measurements that explain a miss.
    """

    name: str
    numerator: str
    denominator: str
    metric: str
    target: str
    is_met: Callable[[float], bool]
    evidence: str


def at_most(limit: float) -> Callable[[float], bool]:
    return lambda value: value <= limit


def at_least(limit: float) -> Callable[[float], bool]:
    return lambda value: value >= limit


def below(limit: float) -> Callable[[float], bool]:
    return lambda value: value < limit


def define_ratios(sizes: list[int], dag_files: list[str]) -> list[Ratio]:
    """Return every ratio the report lists, for the measured job counts and DAG files."""
    small, large = min(sizes), max(sizes)
    ratios: list[Ratio] = []
    for size in sizes:
        for warehouse in ("sqlite", "postgres"):
            extract = f"extract_{warehouse}@{size}"
            evidence = f"profile:extract_{warehouse}@{large}"
            ratios += [
                Ratio(f"extract into {warehouse} / pure fetch, {size:,} jobs", extract, f"fetch@{size}",
                      "seconds", "≤ 1.3", at_most(1.3), evidence),
                Ratio(f"extract into {warehouse} / HttpOperator with pagination, {size:,} jobs", extract,
                      f"http_operator@{size}", "seconds", "< 1", below(1.0), evidence),
                Ratio(f"extract into {warehouse} / requests + pandas script, {size:,} jobs", extract,
                      f"pandas_script@{size}", "seconds", "< 1", below(1.0), evidence),
            ]  # fmt: skip
    for warehouse in ("sqlite", "postgres"):
        extract = f"extract_{warehouse}"
        ratios += [
            Ratio(f"peak RSS of the extract into {warehouse}, {large:,} / {small:,} jobs", f"{extract}@{large}",
                  f"{extract}@{small}", "peak_rss_kib", "≤ 1.25", at_most(1.25), "memory"),
            Ratio(f"peak RSS of the extract into {warehouse} / requests + pandas script, {large:,} jobs",
                  f"{extract}@{large}", f"pandas_script@{large}", "peak_rss_kib", "≤ 0.3", at_most(0.3), "memory"),
        ]  # fmt: skip
    ratios += [
        Ratio("row-by-row INSERT (executemany) / PostgreSQL COPY", "insert_executemany", "insert_copy",
              "seconds", "≥ 5", at_least(5.0), "inserts"),
        Ratio("payroll preparation / bare pandas.read_csv", "payroll_prepare", "payroll_read_csv",
              "seconds", "≤ 2", at_most(2.0), "profile:payroll_prepare"),
    ]  # fmt: skip
    for dag_file in dag_files:
        ratios.append(
            Ratio(f"parse of dags/{dag_file} / an empty DAG", f"parse:{dag_file}", "parse:empty", "seconds",
                  "≤ 1.5", at_most(1.5), f"imports:{dag_file}")
        )  # fmt: skip
    return ratios


def evaluate(ratios: list[Ratio], measurements: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Return each ratio's value and whether it meets its target, as plain dicts for the JSON and the report."""
    rows = []
    for ratio in ratios:
        numerator = median_of(measurements[ratio.numerator], ratio.metric)
        denominator = median_of(measurements[ratio.denominator], ratio.metric)
        value = numerator / denominator
        rows.append(
            {
                "name": ratio.name,
                "numerator": ratio.numerator,
                "denominator": ratio.denominator,
                "metric": ratio.metric,
                "numerator_median": numerator,
                "denominator_median": denominator,
                "value": round(value, 3),
                "target": ratio.target,
                "met": ratio.is_met(value),
                "evidence": ratio.evidence,
            }
        )
    return rows
