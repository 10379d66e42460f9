"""A corpus of broken payroll exports, one defect each, with the message each one must produce."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from charthop.exceptions import PayrollError
from charthop.payroll import load_mapping, prepare_payroll_csv
from tests.conftest import REPO_ROOT

CORPUS = Path(__file__).parent / "bad_files"
EXPECTED: dict[str, str] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))


class TestBadFileCorpus:
    def test_corpus_is_complete(self):
        assert sorted(EXPECTED) == sorted(path.name for path in CORPUS.glob("*.csv"))

    def test_corpus_has_twenty_files(self):
        assert len(EXPECTED) >= 20

    @pytest.mark.parametrize("name", sorted(EXPECTED), ids=lambda name: name.removesuffix(".csv"))
    def test_message_names_the_problem(self, name):
        mapping = load_mapping(REPO_ROOT / "include" / "payroll" / "mapping.yaml")
        with pytest.raises(PayrollError) as error:
            prepare_payroll_csv(CORPUS / name, mapping)
        assert EXPECTED[name] in str(error.value)
        assert name in str(error.value)
