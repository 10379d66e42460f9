"""Describing payroll problems and raising them together."""

from __future__ import annotations

import pytest

from charthop.exceptions import PayrollValidationError
from charthop.payroll.validation import PayrollProblem, ProblemCollector


class TestDescribe:
    @pytest.mark.parametrize(
        ("problem", "text"),
        [
            pytest.param(PayrollProblem(3, 4, "Currency", "EURO", "bad"), "row 3 (line 4), column 'Currency', value 'EURO': bad", id="file-row"),
            pytest.param(PayrollProblem(3, None, "Currency", "EURO", "bad"), "row 3, column 'Currency', value 'EURO': bad", id="caller-row"),
            pytest.param(PayrollProblem(None, 1, "Currency", None, "bad"), "header (line 1), column 'Currency': bad", id="header"),
            pytest.param(PayrollProblem(2, 3, None, None, "bad"), "row 2 (line 3): bad", id="whole-row"),
            pytest.param(PayrollProblem(2, 3, "Pay Rate", 12, "bad"), "row 2 (line 3), column 'Pay Rate', value '12': bad", id="typed-value"),
        ],
    )
    def test_text(self, problem, text):
        assert problem.describe() == text

    def test_long_value_shortened(self):
        text = PayrollProblem(1, 2, "Job Title", "x" * 500, "bad").describe()
        assert len(text) < 150


class TestCollector:
    def test_no_problems_no_error(self):
        ProblemCollector("payroll.csv").raise_if_any()

    def test_singular_noun(self):
        collector = ProblemCollector("payroll.csv")
        collector.add("bad", row_number=1)
        with pytest.raises(PayrollValidationError, match="has 1 problem,"):
            collector.raise_if_any()

    def test_cap_must_be_positive(self):
        with pytest.raises(ValueError, match="at least 1"):
            ProblemCollector("payroll.csv", max_problems=0)
