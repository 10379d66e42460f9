"""Unit tests of the Carrot subset: which rows an expression matches, and which expressions are rejected."""

from __future__ import annotations

from typing import Any

import pytest

from charthop_emulator import carrot
from charthop_emulator.carrot import CarrotError

FIELDS = {code.lower(): code for code in (
    "title", "department", "tenure", "startDate", "open", "jobId", "managerIds", "perfRating",
    "baseComp.annualized", "name", "esquemaDeContratacin", "workAddress.city",
)}
KEYWORDS = {"open", "person", "manager"}


class DictRow:
    """A row backed by a dict of field values and a set of true ``is:`` filters."""

    def __init__(self, values: dict[str, Any], keywords: set[str] = frozenset()) -> None:
        self.values = {key.lower(): value for key, value in values.items()}
        self.keywords = keywords

    def value(self, code: str) -> Any:
        return self.values.get(code)

    def keyword(self, name: str) -> bool:
        return name in self.keywords


ROW = DictRow(
    {
        "title": "Director of Engineering", "department": "Engineering", "tenure": 14, "startDate": "2019-06-01",
        "open": "filled", "jobId": "5f3a9c0e1d2b4a5c6d7e8f90", "managerIds": ["aaa111", "bbb222"],
        "perfRating": None, "baseComp.annualized": {"amount": 150000, "currency": "USD", "places": 0},
        "name": "José Ñúñez", "esquemaDeContratacin": ["Contractor"], "workAddress.city": "Oak Park",
    },
    keywords={"person", "manager"},
)

MATCHES = [
    ("title:director", True),
    ("title:DIRECTOR", True),
    ("title:sales", False),
    ("department:engineering,sales", True),
    ('department:sales,"customer success"', False),
    ('title:"of Engineering"', True),
    ('workAddress.city:"Oak Park"', True),
    ("perfRating:*", False),
    ("title:*", True),
    ("perfRating:", True),
    ("title:", False),
    ('title="Director of Engineering"', True),
    ('title="director of engineering"', True),
    ('title="Director"', False),
    ('department!="engineering"', False),
    ('department!="sales"', True),
    ("tenure=14", True),
    ("tenure>=12", True),
    ("tenure>14", False),
    ("tenure<=14", True),
    ("tenure<12", False),
    ("startDate<'2020-01-01'", True),
    ('startDate>"2020-01-01"', False),
    ("startDate>='2019-06-01'", True),
    ("baseComp.annualized>100000", True),
    ("managerIds=bbb222", True),
    ('managerIds="ccc333"', False),
    ('esquemaDeContratacin="contractor"', True),
    ("esquemaDeContratacin:contract", True),
    ("jobId:5f3a9c0e1d2b4a5c6d7e8f90", True),
    ("jobId=5f3a9c0e1d2b4a5c6d7e8f90", True),
    ("jobId=5f3a9c0e1d2b4a5c6d7e8f91", False),
    ("open:filled", True),
    ("open:open", False),
    ("open=filled", True),
    ("is:person", True),
    ("is:open", False),
    ("is:manager", True),
    ("name:josé", True),
    ("name:Ñúñez", True),
    ("!department:sales", True),
    ("!department:engineering", False),
    ("!is:open", True),
    ("title:director && tenure>=12", True),
    ("title:director && tenure>=24", False),
    ("title:director tenure>=12", True),
    ("title:director tenure>=24", False),
    ("title:sales || tenure>=12", True),
    ("title:sales || tenure>=24", False),
    ("(title:sales || title:director) && is:person", True),
    ("title:sales || title:director && is:open", False),
    ("!(title:sales || is:open)", True),
    ("perfRating>3", False),
    ("perfRating!=3", True),
    ("tenure", True),
    ("perfRating", False),
]


@pytest.mark.parametrize(("query", "expected"), MATCHES, ids=[query for query, _ in MATCHES])
def test_expression_matches_row(query: str, expected: bool) -> None:
    assert carrot.parse(query, FIELDS, KEYWORDS).evaluate(ROW) is expected


REJECTED = [
    ("foo:bar", "'foo'", "position 1"),
    ("title:director && salary>5", "'salary'", "position 19"),
    ("date('+1y') > startDate", "'date'", "position 1"),
    ("is:open (base+variable)>150000", "'+'", "position 14"),
    ("title:director ? 1 : 0", "'?'", "position 16"),
    ('title:"director', "unterminated string", "position 7"),
    ("title='director", "unterminated string", "position 7"),
    ("is:grandparent", "'is:grandparent'", "position 1"),
    ("(title:director", "missing ')'", "position 1"),
    ("title:director)", "')'", "position 15"),
    ("title:director &&", "end of query", "position 18"),
    ("startDate<2020-01-01", "unquoted date '2020-01-01'", "position 11"),
    ("tenure > 1 > 0", "chained comparison", "position 12"),
    ("'director'", "'director'", "position 1"),
    ("title:a,", "','", "position 8"),
    ("title & open", "'&'", "position 7"),
    ("grants[0].shares>1", "'['", "position 7"),
    ("title:director | open:open", "'|'", "position 16"),
    ("", "empty query", ""),
]


class TestRejected:
    @pytest.mark.parametrize(("query", "token", "position"), REJECTED, ids=[q or "empty" for q, _, _ in REJECTED])
    def test_error_names_token(self, query: str, token: str, position: str) -> None:
        with pytest.raises(CarrotError) as caught:
            carrot.parse(query, FIELDS, KEYWORDS)
        assert token in str(caught.value)

    @pytest.mark.parametrize(("query", "token", "position"), REJECTED, ids=[q or "empty" for q, _, _ in REJECTED])
    def test_error_names_position(self, query: str, token: str, position: str) -> None:
        with pytest.raises(CarrotError) as caught:
            carrot.parse(query, FIELDS, KEYWORDS)
        assert position in str(caught.value)


class TestTokenizer:
    def test_colon_carries_values(self) -> None:
        tokens = carrot.tokenize('department:engineering,"customer success"')
        assert tokens[1].values == ["engineering", "customer success"]

    def test_star_means_any_value(self) -> None:
        assert carrot.tokenize("title:*")[1].values is None

    def test_bare_colon_means_no_value(self) -> None:
        assert carrot.tokenize("title: open:open")[1].values == []

    def test_negative_number(self) -> None:
        assert carrot.tokenize("tenure>-1")[2].text == "-1"

    def test_escaped_quote(self) -> None:
        assert carrot.tokenize(r'"O\"Brien"')[0].text == 'O"Brien'

    def test_field_case_insensitive(self) -> None:
        assert carrot.parse("TITLE:director", FIELDS, KEYWORDS).evaluate(ROW) is True
