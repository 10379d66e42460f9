"""Manager link checks of one snapshot."""

from __future__ import annotations

import pytest

from charthop.warehouse.checks import check_managers


class TestCheckManagers:
    def test_clean_tree_has_no_problems(self):
        report = check_managers([("a", None), ("b", "a"), ("c", "b")])
        assert report.describe() == []

    def test_unresolved_manager_named(self):
        report = check_managers([("a", None), ("b", "zz")])
        assert report.unresolved == [("b", "zz")]

    def test_self_managed_named(self):
        report = check_managers([("a", "a"), ("b", "a")])
        assert report.self_managed == ["a"]

    def test_self_managed_is_not_a_cycle(self):
        assert check_managers([("a", "a")]).cycles == []

    @pytest.mark.parametrize(
        ("links", "expected"),
        [
            ([("a", "b"), ("b", "a")], [["a", "b"]]),
            ([("c", "a"), ("a", "b"), ("b", "c"), ("d", "c")], [["a", "b", "c"]]),
            ([("x", "y"), ("y", "x"), ("p", "q"), ("q", "p")], [["p", "q"], ["x", "y"]]),
        ],
        ids=["pair", "triangle-with-tail", "two-cycles"],
    )
    def test_cycles_listed_from_smallest_id(self, links, expected):
        assert check_managers(links).cycles == expected

    def test_long_chain_needs_no_recursion(self):
        links = [(f"j{i:06d}", f"j{i - 1:06d}" if i else None) for i in range(200_000)]
        assert check_managers(links).describe() == []

    def test_describe_caps_listed_ids(self):
        report = check_managers([(f"j{i}", "gone") for i in range(50)])
        assert report.describe()[0].count("→") == 20
