"""The guard on the share of the roster that one payroll import changes."""

from __future__ import annotations

import math

import pytest

from charthop.exceptions import ChartHopConfigError, PayrollChangeShareError
from charthop.payroll import check_change_share


class TestCheckChangeShare:
    @pytest.mark.parametrize(
        ("changed", "roster", "max_share", "share"),
        [
            pytest.param(0, 1000, 0.2, 0.0, id="nothing"),
            pytest.param(150, 1000, 0.2, 0.15, id="below"),
            pytest.param(200, 1000, 0.2, 0.2, id="equal-passes"),
            pytest.param(0, 0, 0.2, 0.0, id="empty-roster-no-change"),
            pytest.param(600, 1000, 0.75, 0.6, id="raised-limit"),
        ],
    )
    def test_passes(self, changed, roster, max_share, share):
        assert check_change_share(changed, roster, max_share) == pytest.approx(share)

    @pytest.mark.parametrize(
        ("changed", "roster", "max_share"),
        [
            pytest.param(201, 1000, 0.2, id="just-above"),
            pytest.param(1000, 1000, 0.2, id="everyone"),
            pytest.param(5, 0, 0.2, id="empty-roster"),
            pytest.param(1, 1000, 0.0, id="zero-limit"),
        ],
    )
    def test_raises(self, changed, roster, max_share):
        with pytest.raises(PayrollChangeShareError):
            check_change_share(changed, roster, max_share)

    def test_message_has_numbers(self):
        with pytest.raises(PayrollChangeShareError, match=r"change 300 people, 30\.0% of the 1000 people .* allowed 20\.0%"):
            check_change_share(300, 1000)

    def test_message_says_how_to_allow(self):
        with pytest.raises(PayrollChangeShareError, match="allow=True"):
            check_change_share(300, 1000)

    def test_error_attributes(self):
        with pytest.raises(PayrollChangeShareError) as caught:
            check_change_share(300, 1000, 0.25)
        assert (caught.value.changed_count, caught.value.roster_count, caught.value.max_share) == (300, 1000, 0.25)

    def test_allow_skips(self):
        assert check_change_share(300, 1000, allow=True) == pytest.approx(0.3)

    def test_allow_empty_roster(self):
        assert math.isinf(check_change_share(5, 0, allow=True))

    @pytest.mark.parametrize(
        ("changed", "roster", "max_share"),
        [
            pytest.param(-1, 10, 0.2, id="negative-changed"),
            pytest.param(1, -10, 0.2, id="negative-roster"),
            pytest.param(1, 10, 1.5, id="share-above-one"),
            pytest.param(1, 10, -0.1, id="share-negative"),
        ],
    )
    def test_invalid_arguments(self, changed, roster, max_share):
        with pytest.raises(ChartHopConfigError):
            check_change_share(changed, roster, max_share)
