"""Problems found in payroll data, collected over a whole file and raised together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from charthop.exceptions import PayrollValidationError

#: Problems listed in a ``PayrollValidationError`` message by default; the total is always given.
DEFAULT_MAX_PROBLEMS = 50
_MAX_VALUE_CHARS = 80


@dataclass(frozen=True)
class PayrollProblem:
    """One problem in the payroll data.

    :param row_number: 1-based data row (the header is not counted), or ``None`` for a header problem.
    :param line_number: 1-based line of the file where the row starts; ``None`` for rows given by a caller.
    :param column: the payroll column, or ``None`` when the problem concerns the whole row.
    :param value: the value found, or ``None``.
    :param message: what is wrong and what is expected.
    """

    row_number: int | None
    line_number: int | None
    column: str | None
    value: Any
    message: str

    def describe(self) -> str:
        """Return the problem as one line: where it is, the value and what is wrong."""
        if self.row_number is None:
            where = "header" if self.line_number is None else f"header (line {self.line_number})"
        else:
            where = f"row {self.row_number}"
            if self.line_number is not None:
                where += f" (line {self.line_number})"
        parts = [where]
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        if self.value is not None:
            parts.append(f"value {_shorten(self.value)}")
        return f"{', '.join(parts)}: {self.message}"


def _shorten(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else repr(str(value))
    return text if len(text) <= _MAX_VALUE_CHARS else f"{text[: _MAX_VALUE_CHARS - 4]}...'"


class ProblemCollector:
    """Counts every problem and keeps the first ``max_problems`` for the error message.

    :param source: the payroll file or a name for rows given by the caller, used in the message.
    :param max_problems: problems to keep and list; 50 by default.
    """

    def __init__(self, source: str, max_problems: int = DEFAULT_MAX_PROBLEMS) -> None:
        if max_problems < 1:
            raise ValueError(f"max_problems must be at least 1, not {max_problems}")
        self.source = source
        self.max_problems = max_problems
        self.problems: list[PayrollProblem] = []
        self.total = 0

    def add(
        self,
        message: str,
        *,
        row_number: int | None = None,
        line_number: int | None = None,
        column: str | None = None,
        value: Any = None,
    ) -> None:
        """Record a problem; past ``max_problems`` only the count grows."""
        self.total += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(PayrollProblem(row_number, line_number, column, value, message))

    def raise_if_any(self) -> None:
        """Raise ``PayrollValidationError`` listing the kept problems and the total, when there are any."""
        if not self.total:
            return
        noun = "problem" if self.total == 1 else "problems"
        lines = [
            f"Payroll data {self.source} has {self.total} {noun}, so nothing was prepared for ChartHop. "
            "Correct the payroll export (or the mapping file, when a column name or format is wrong) and run again."
        ]
        lines += [f"  {problem.describe()}" for problem in self.problems]
        if self.total > len(self.problems):
            lines.append(
                f"  ...and {self.total - len(self.problems)} more: {len(self.problems)} of {self.total} problems are listed."
            )
        raise PayrollValidationError("\n".join(lines), problems=self.problems, total=self.total)
