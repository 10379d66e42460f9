"""Consistency checks of one roster snapshot: the manager links between its jobs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_IDS_IN_MESSAGE = 20


@dataclass
class ManagerReport:
    """Problems found in the job → manager links of one snapshot.

    :param unresolved: ``(job id, manager job id)`` pairs whose manager is not in the snapshot.
    :param self_managed: jobs that name themselves as their manager.
    :param cycles: chains of jobs that manage each other in a loop, each listed from its smallest id.
    """

    unresolved: list[tuple[str, str]] = field(default_factory=list)
    self_managed: list[str] = field(default_factory=list)
    cycles: list[list[str]] = field(default_factory=list)

    def describe(self) -> list[str]:
        """Return one sentence per kind of problem, listing up to ``MAX_IDS_IN_MESSAGE`` ids each."""
        lines = []
        if self.unresolved:
            shown = ", ".join(f"{job} → {manager}" for job, manager in self.unresolved[:MAX_IDS_IN_MESSAGE])
            lines.append(f"{len(self.unresolved)} jobs name a manager job missing from the snapshot: {shown}")
        if self.self_managed:
            shown = ", ".join(self.self_managed[:MAX_IDS_IN_MESSAGE])
            lines.append(f"{len(self.self_managed)} jobs name themselves as manager: {shown}")
        if self.cycles:
            shown = "; ".join(" → ".join(cycle) for cycle in self.cycles[:MAX_IDS_IN_MESSAGE])
            lines.append(f"{len(self.cycles)} manager cycles: {shown}")
        return lines


def check_managers(links: Iterable[tuple[str, str | None]]) -> ManagerReport:
    """Find unresolved manager references, self-managed jobs and manager cycles.

    Runs in time linear in the number of jobs, without recursion, so a long or looping chain cannot
    exhaust the stack.

    :param links: ``(job id, manager job id or None)`` for every job of the snapshot.
    """
    manager_of: dict[str, str | None] = dict(links)
    report = ManagerReport()
    for job, manager in manager_of.items():
        if manager is None:
            continue
        if manager == job:
            report.self_managed.append(job)
        elif manager not in manager_of:
            report.unresolved.append((job, manager))

    # 0 = not visited, 1 = on the chain being followed, 2 = finished.
    state: dict[str, int] = {}
    for start in manager_of:
        chain: list[str] = []
        node: str | None = start
        while node is not None and node in manager_of and state.get(node, 0) == 0:
            state[node] = 1
            chain.append(node)
            node = manager_of[node]
        if node is not None and state.get(node) == 1 and node != manager_of.get(node):
            cycle = chain[chain.index(node) :]
            smallest = cycle.index(min(cycle))
            report.cycles.append(cycle[smallest:] + cycle[:smallest])
        for visited in chain:
            state[visited] = 2
    report.self_managed.sort()
    report.unresolved.sort()
    report.cycles.sort()
    return report
