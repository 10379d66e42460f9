"""Parser and evaluator for the subset of ChartHop's Carrot query language that ``q`` accepts.

Supported: ``field:value`` (case-insensitive "contains"; ``a,b,"c d"`` = any of them),
``field:*`` (has a value), ``field:`` (has no value), ``=`` and ``!=`` (exact; strings compare
case-insensitively; a list equals a value when any element does), ``<`` ``<=`` ``>`` ``>=`` (numbers,
and dates written as quoted ``'YYYY-MM-DD'`` literals), ``!``, ``&&``, ``||``, parentheses,
whitespace between clauses (AND) and ``is:<filter>``.

Precedence from high to low: ``!``, comparisons, ``:`` ``=`` ``!=``, ``&&`` (and whitespace), ``||``.
``!`` negates the whole clause after it, so ``!department:sales`` means "not in sales".
Anything else (functions, arithmetic, ternaries, unknown fields) raises CarrotError naming the
token and its 1-based character position, never silently matching nothing.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?$")
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_WORD_CHARS = re.compile(r"[A-Za-z0-9_.\-]")
_UNSUPPORTED_OPERATORS = set("?+-*/%[]{}~^@#$;`\\&|")


class CarrotError(ValueError):
    """An expression the emulator cannot evaluate; the message names the token and position."""


class Row(Protocol):
    """Interface of a job or person row that the evaluator reads."""

    def value(self, code: str) -> Any:
        """Return the scalar value of a field, by lower-case field code."""

    def keyword(self, name: str) -> bool:
        """Return whether the ``is:<name>`` filter matches, by lower-case name."""


@dataclass(slots=True)
class Token:
    kind: str
    text: str
    pos: int  # 1-based character position in the query
    values: list[str] | None = None  # for COLON: the value list; None = "*" (any value); [] = no value


_SYMBOLS = (
    ("&&", "AND"), ("||", "OR"), ("!=", "NE"), ("==", "EQ"), ("<=", "LE"), (">=", "GE"),
    ("=", "EQ"), ("<", "LT"), (">", "GT"), ("!", "NOT"), ("(", "LPAREN"), (")", "RPAREN"),
)


def _read_quoted(query: str, index: int) -> tuple[str, int]:
    """Read a quoted string starting at ``index``; return its text and the index after it."""
    quote = query[index]
    chars: list[str] = []
    cursor = index + 1
    while cursor < len(query):
        char = query[cursor]
        if char == "\\" and cursor + 1 < len(query):
            chars.append(query[cursor + 1])
            cursor += 2
            continue
        if char == quote:
            return "".join(chars), cursor + 1
        chars.append(char)
        cursor += 1
    raise CarrotError(f"unterminated string starting at position {index + 1}")


def _read_values(query: str, index: int, colon_pos: int) -> tuple[list[str] | None, int]:
    """Read the value list after ``:``; return (values, index after them)."""
    length = len(query)
    if index >= length or query[index].isspace() or query[index] == ")" or query.startswith(("&&", "||"), index):
        return [], index
    if query[index] == "*":
        return None, index + 1
    values: list[str] = []
    while True:
        if index < length and query[index] in "\"'":
            text, index = _read_quoted(query, index)
        else:
            start = index
            while index < length and not query[index].isspace() and query[index] not in ",()\"'":
                if query.startswith(("&&", "||"), index):
                    break
                index += 1
            text = query[start:index]
            if not text:
                found = query[index] if index < length else "end of query"
                raise CarrotError(f"expected a value after ':' at position {colon_pos}, found '{found}'")
        values.append(text)
        if index < length and query[index] == ",":
            index += 1
            if index >= length or query[index].isspace():
                raise CarrotError(f"expected a value after ',' at position {index}")
            continue
        return values, index


def tokenize(query: str) -> list[Token]:
    """Split a query into tokens; the value list after ``:`` becomes part of the COLON token."""
    tokens: list[Token] = []
    index = 0
    length = len(query)
    while index < length:
        char = query[index]
        pos = index + 1
        if char.isspace():
            index += 1
            continue
        if char == ":":
            values, index = _read_values(query, index + 1, pos)
            tokens.append(Token("COLON", ":", pos, values))
            continue
        if char in "\"'":
            text, index = _read_quoted(query, index)
            tokens.append(Token("STRING", text, pos))
            continue
        symbol = next(((text, kind) for text, kind in _SYMBOLS if query.startswith(text, index)), None)
        if symbol is not None:
            tokens.append(Token(symbol[1], symbol[0], pos))
            index += len(symbol[0])
            continue
        negative_number = char == "-" and index + 1 < length and query[index + 1].isdigit()
        if _WORD_CHARS.match(char) and char not in ".-" or negative_number:
            start = index
            index += 1
            while index < length and _WORD_CHARS.match(query[index]):
                index += 1
            tokens.append(_classify_word(query[start:index], pos))
            continue
        if char in _UNSUPPORTED_OPERATORS:
            raise CarrotError(f"unsupported operator '{char}' at position {pos}")
        raise CarrotError(f"unexpected character '{char}' at position {pos}")
    tokens.append(Token("EOF", "", length + 1))
    return tokens


def _classify_word(text: str, pos: int) -> Token:
    if _NUMBER_RE.match(text):
        return Token("NUMBER", text, pos)
    if _DATE_RE.match(text):
        raise CarrotError(f"unquoted date '{text}' at position {pos}: write date literals in quotes, e.g. '{text}'")
    if _IDENT_RE.match(text):
        return Token("WORD", text, pos)
    return Token("BAREWORD", text, pos)


# Expression nodes. Each has ``evaluate(row)``; clause nodes return bool.


@dataclass(slots=True)
class Literal:
    value: Any

    def evaluate(self, row: Row) -> Any:
        return self.value


@dataclass(slots=True)
class FieldRef:
    code: str  # lower-case field code

    def evaluate(self, row: Row) -> Any:
        return row.value(self.code)


@dataclass(slots=True)
class HasValue:
    operand: FieldRef
    expected: bool = True

    def evaluate(self, row: Row) -> bool:
        return _has_value(self.operand.evaluate(row)) == self.expected


@dataclass(slots=True)
class Contains:
    operand: FieldRef
    needles: list[str]

    def evaluate(self, row: Row) -> bool:
        value = self.operand.evaluate(row)
        return any(_contains(value, needle.casefold()) for needle in self.needles)


@dataclass(slots=True)
class IsFilter:
    names: list[str]

    def evaluate(self, row: Row) -> bool:
        return any(row.keyword(name) for name in self.names)


@dataclass(slots=True)
class Equals:
    left: Any
    right: Any
    negate: bool

    def evaluate(self, row: Row) -> bool:
        return _equal(self.left.evaluate(row), self.right.evaluate(row)) != self.negate


@dataclass(slots=True)
class Compare:
    left: Any
    op: str
    right: Any

    def evaluate(self, row: Row) -> bool:
        return _compare(self.left.evaluate(row), self.op, self.right.evaluate(row))


@dataclass(slots=True)
class Not:
    operand: Any

    def evaluate(self, row: Row) -> bool:
        return not self.operand.evaluate(row)


@dataclass(slots=True)
class And:
    operands: list[Any]

    def evaluate(self, row: Row) -> bool:
        return all(operand.evaluate(row) for operand in self.operands)


@dataclass(slots=True)
class Or:
    operands: list[Any]

    def evaluate(self, row: Row) -> bool:
        return any(operand.evaluate(row) for operand in self.operands)


def _scalar(value: Any) -> Any:
    """Reduce a Money object to its amount; other values are returned unchanged."""
    # NOTE: Carrot converts currencies in money comparisons; the emulator compares raw amounts.
    if isinstance(value, dict) and "amount" in value:
        return value["amount"]
    return value


def _has_value(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _text(value: Any) -> str:
    value = _scalar(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return str(value.get("name", ""))
    return str(value)


def _contains(value: Any, needle: str) -> bool:
    if value is None:
        return False
    if isinstance(value, list):
        return any(_contains(item, needle) for item in value)
    return needle in _text(value).casefold()


def _number(value: Any) -> float | None:
    value = _scalar(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _NUMBER_RE.match(value):
        return float(value)
    return None


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, list):
        return any(_equal(item, right) for item in left)
    if isinstance(right, list):
        return any(_equal(left, item) for item in right)
    if left is None or right is None:
        return left is None and right is None
    left_number, right_number = _number(left), _number(right)
    if left_number is not None and right_number is not None:
        return left_number == right_number
    return _text(left).casefold() == _text(right).casefold()


def _compare(left: Any, op: str, right: Any) -> bool:
    if left is None or right is None:
        return False
    left_number, right_number = _number(left), _number(right)
    if left_number is not None and right_number is not None:
        pair: tuple[Any, Any] = (left_number, right_number)
    elif isinstance(left, str) and isinstance(right, str):
        # ISO dates order correctly as strings; other strings compare case-insensitively.
        pair = (left.casefold(), right.casefold())
    else:
        return False
    if op == "LT":
        return pair[0] < pair[1]
    if op == "LE":
        return pair[0] <= pair[1]
    if op == "GT":
        return pair[0] > pair[1]
    return pair[0] >= pair[1]


_CLAUSE_START = {"NOT", "LPAREN", "WORD", "BAREWORD", "STRING", "NUMBER"}
_COMPARISONS = {"LT", "LE", "GT", "GE"}


class _Parser:
    """Recursive-descent parser; field codes are checked against ``fields`` while parsing."""

    def __init__(self, query: str, fields: Mapping[str, str], keywords: Collection[str]) -> None:
        self.tokens = tokenize(query)
        self.index = 0
        self.fields = fields
        self.keywords = keywords

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail_here(self, expected: str) -> CarrotError:
        token = self.token
        if token.kind == "EOF":
            return CarrotError(f"unexpected end of query at position {token.pos}: expected {expected}")
        return CarrotError(f"unexpected '{token.text}' at position {token.pos}: expected {expected}")

    def parse(self) -> Any:
        if self.token.kind == "EOF":
            raise CarrotError("empty query")
        node = self.parse_or()
        if self.token.kind != "EOF":
            raise self.fail_here("'&&', '||' or the end of the query")
        return node

    def parse_or(self) -> Any:
        operands = [self.parse_and()]
        while self.token.kind == "OR":
            self.advance()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(operands)

    def parse_and(self) -> Any:
        operands = [self.parse_unary()]
        while True:
            if self.token.kind == "AND":
                self.advance()
            elif self.token.kind not in _CLAUSE_START:
                break
            operands.append(self.parse_unary())
        return operands[0] if len(operands) == 1 else And(operands)

    def parse_unary(self) -> Any:
        if self.token.kind == "NOT":
            self.advance()
            return Not(self.parse_unary())
        return self.parse_clause()

    def parse_clause(self) -> Any:
        start = self.token
        left = self.parse_comparison()
        token = self.token
        if token.kind == "COLON":
            self.advance()
            return self.make_match(start, left, token)
        if token.kind in ("EQ", "NE"):
            self.advance()
            right_start = self.token
            right = self.parse_comparison()
            return Equals(self.resolve(left, start), self.resolve(right, right_start, bare_is_text=True),
                          token.kind == "NE")
        if isinstance(left, (Compare, Group)):
            return left.node if isinstance(left, Group) else left
        if isinstance(left, Unresolved):
            return HasValue(self.resolve(left, start))
        raise CarrotError(f"expected a condition at position {start.pos}, found '{start.text}'")

    def make_match(self, start: Token, left: Any, colon: Token) -> Any:
        if isinstance(left, Unresolved) and left.name.lower() == "is":
            if not colon.values:
                raise CarrotError(f"expected a filter name after 'is:' at position {colon.pos}")
            names = [name.lower() for name in colon.values]
            for name in names:
                if name not in self.keywords:
                    raise CarrotError(f"unknown filter 'is:{name}' at position {start.pos}")
            return IsFilter(names)
        if not isinstance(left, Unresolved):
            raise CarrotError(f"expected a field name before ':' at position {colon.pos}, found '{start.text}'")
        field_ref = self.resolve(left, start)
        if colon.values is None:
            return HasValue(field_ref)
        if not colon.values:
            return HasValue(field_ref, expected=False)
        return Contains(field_ref, colon.values)

    def parse_comparison(self) -> Any:
        left_start = self.token
        left = self.parse_primary()
        if self.token.kind not in _COMPARISONS:
            return left
        op = self.advance()
        right_start = self.token
        right = self.parse_primary()
        if self.token.kind in _COMPARISONS:
            raise CarrotError(f"chained comparison at position {self.token.pos} is not supported; use '&&'")
        return Compare(self.resolve(left, left_start), op.kind, self.resolve(right, right_start))

    def parse_primary(self) -> Any:
        token = self.token
        if token.kind == "LPAREN":
            self.advance()
            node = self.parse_or()
            if self.token.kind != "RPAREN":
                raise CarrotError(f"missing ')' for '(' at position {token.pos}")
            self.advance()
            return Group(node)
        if token.kind == "WORD":
            self.advance()
            if self.token.kind == "LPAREN" and self.token.pos == token.pos + len(token.text):
                raise CarrotError(f"unsupported function '{token.text}' at position {token.pos}")
            return Unresolved(token.text)
        if token.kind == "BAREWORD":
            self.advance()
            return Unresolved(token.text)
        if token.kind == "STRING":
            self.advance()
            return Literal(token.text)
        if token.kind == "NUMBER":
            self.advance()
            number = float(token.text)
            return Literal(int(number) if number.is_integer() else number)
        raise self.fail_here("a field, a value or '('")

    def resolve(self, node: Any, start: Token, bare_is_text: bool = False) -> Any:
        """Turn an unresolved name into a field reference, or a bare word into text where allowed."""
        if isinstance(node, Group):
            raise CarrotError(f"unsupported use of a parenthesised condition as a value at position {start.pos}")
        if not isinstance(node, Unresolved):
            return node
        code = node.name.lower()
        if code in self.fields:
            return FieldRef(code)
        if bare_is_text:
            # Right-hand side of = or != (for example jobId=5f3a... or open=filled): a bare value.
            return Literal(node.name)
        raise CarrotError(f"unknown field '{node.name}' at position {start.pos}")


@dataclass(slots=True)
class Unresolved:
    """A bare name that is a field or a value, depending on its position."""

    name: str


@dataclass(slots=True)
class Group:
    """A parenthesised sub-expression."""

    node: Any

    def evaluate(self, row: Row) -> Any:
        return self.node.evaluate(row)


def parse(query: str, fields: Mapping[str, str], keywords: Collection[str]) -> Any:
    """Parse ``query`` into a node with ``evaluate(row) -> bool``.

    :param fields: known field codes, keyed by lower-case code.
    :param keywords: known ``is:`` filter names, lower-case.
    :raises CarrotError: on anything outside the supported subset.
    """
    return _Parser(query, fields, keywords).parse()
