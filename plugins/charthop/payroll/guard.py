"""A guard against importing a payroll file that would change an unexpected share of the roster."""

from __future__ import annotations

from charthop.exceptions import ChartHopConfigError, PayrollChangeShareError

DEFAULT_MAX_SHARE = 0.2


def check_change_share(
    changed_count: int, roster_count: int, max_share: float = DEFAULT_MAX_SHARE, allow: bool = False
) -> float:
    """Raise when the import would create or change more than ``max_share`` of the roster.

    A wrong mapping or a truncated export tends to touch most of the roster at once, so a large change
    set is stopped for a person to confirm.

    :param changed_count: people the import would create or change, such as ``RosterDiff.change_count``.
    :param roster_count: people in the current roster, such as ``RosterDiff.roster_count``. With an empty
        roster any change exceeds the share, so a first import needs ``allow=True``.
    :param max_share: the largest allowed share, from 0 to 1; 0.2 (20 %) by default. Equal passes.
    :param allow: skip the check, after a person has confirmed the change set.
    :return: the share, ``changed_count / roster_count`` (``inf`` for changes to an empty roster).
    :raises PayrollChangeShareError: the share exceeds ``max_share`` and ``allow`` is false.
    :raises ChartHopConfigError: a count is negative or ``max_share`` is outside 0 to 1.
    """
    if changed_count < 0 or roster_count < 0:
        raise ChartHopConfigError(f"Counts must not be negative: changed_count={changed_count}, roster_count={roster_count}.")
    if not 0 <= max_share <= 1:
        raise ChartHopConfigError(f"Invalid max_share {max_share!r}: use a fraction from 0 to 1, such as 0.2 for 20 %.")
    if roster_count:
        share = changed_count / roster_count
    else:
        share = float("inf") if changed_count else 0.0
    if share > max_share and not allow:
        of_roster = f"{share:.1%} of the {roster_count} people" if roster_count else "an empty roster"
        raise PayrollChangeShareError(
            f"The payroll import would create or change {changed_count} people, {of_roster} in the roster, "
            f"more than the allowed {max_share:.1%}. Check the payroll file and the mapping. If the change is "
            "expected, run again with allow=True or a higher max_share.",
            changed_count=changed_count,
            roster_count=roster_count,
            max_share=max_share,
        )
    return share
