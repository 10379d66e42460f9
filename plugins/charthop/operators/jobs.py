"""Operator that extracts ChartHop jobs (the roster) into a warehouse table."""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.sdk import BaseOperator

from charthop.constants import DEFAULT_CHARTHOP_CONN_ID, MANAGER_POLICIES
from charthop.exceptions import ChartHopConfigError, ChartHopCountMismatchError
from charthop.links import ChartHopOrgLink
from charthop.warehouse.columns import is_empty

if TYPE_CHECKING:
    from airflow.sdk import Context

#: Roster fields requested when the caller names none: the examples of ChartHop's sync guide plus the
#: manager link, department, location, employment, start date and base pay (as paid and annualised).
DEFAULT_ROSTER_FIELDS: tuple[str, ...] = (
    "jobId",
    "title",
    "open",
    "personId",
    "name.first",
    "name.last",
    "contact.workEmail",
    "contact.employee",
    "manager",
    "department.name",
    "location.name",
    "workAddress.country",
    "employment",
    "startDate",
    "baseComp",
    "baseComp.annualized",
)

RESPONSE_FORMATS = ("minimal", "json")
_T = TypeVar("_T")
_END = object()


def prefetched(items: Iterator[_T], *, depth: int = 1) -> Iterator[_T]:
    """Yield from ``items`` while a background thread already produces the next ``depth`` items.

    The extract fetches page n + 1 from ChartHop while it writes page n to the warehouse; the profile
    showed the two taking turns. An error in the producer is raised in the consumer. When the consumer
    stops early, the producer stops after the item it is working on (at most one request).

    NOTE: on the 2-core benchmark machine this gained nothing measurable (BENCHMARKS.md): decoding a page
    and converting rows are both CPU work in Python and share the GIL, so overlap only helps when ChartHop
    itself is slow to respond.

    :param items: the iterator to read in the background, used by that thread only.
    :param depth: items produced ahead, 1 by default.
    """
    buffer: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[Any, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_END, None))
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, which raises it
            put((None, error))

    thread = threading.Thread(target=produce, name="charthop-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, error = buffer.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)
MAX_PAGE_SIZE = 10_000


class ChartHopFindJobsOperator(BaseOperator):
    """Extract the roster (findJobs) as of a date into a warehouse table, page by page.

    Each page is inserted as it arrives, so the roster is never held whole in memory nor pushed to
    XCom. The rows of the snapshot date are replaced in one transaction that also rebuilds the history
    table and the current view: a rerun of a date leaves one copy, and a failure part-way through
    leaves every table as it was. ``charthop.warehouse.roster`` describes the tables.

    :param charthop_conn_id: ChartHop connection id, ``charthop_default`` by default.
    :param warehouse_conn_id: common-sql connection of the warehouse, ``charthop_warehouse`` by default.
    :param table_prefix: prefix of the warehouse tables, ``charthop_roster`` by default, which gives
        ``charthop_roster_snapshot``, ``charthop_roster_history`` and ``charthop_roster_current``. (templated)
    :param fields: field codes to request, as a sequence or a comma list; ``jobId`` is always included.
        ``DEFAULT_ROSTER_FIELDS`` by default. (templated)
    :param q: Carrot filter such as ``open:filled``; ``None`` (the default) extracts every job. (templated)
    :param date: as-of date ``YYYY-MM-DD``; ``None`` (the default) uses the run's logical date, or the
        date the run was queued for when it has no logical date. (templated)
    :param ids: job ids to extract, as a sequence or comma list; ``None`` for all. (templated)
    :param page_size: rows per findJobs page, 1 to 10,000; 1,000 by default.
    :param response_format: ``minimal`` (flat dotted keys, the default) or ``json`` (nested objects).
    :param check_count: compare the rows fetched with countJobs for the same ``q`` and date before
        committing, and fail on a difference; ``True`` by default (skipped when ``ids`` is set).
    :param manager_policy: what a manager job missing from the snapshot does: ``fail``, ``warn`` or
        ``off``. ``None`` (the default) means ``fail`` for a full extract and ``warn`` when ``q`` or
        ``ids`` filter it. Self-managed jobs and manager cycles always fail the task.
    :return: a summary dict: ``snapshot_date``, ``rows``, ``pages``, ``duplicates_dropped``,
        ``empty_fields``, ``type_changes``, ``tables`` and ``seconds``.
    """

    operator_extra_links = (ChartHopOrgLink(),)
    template_fields: Sequence[str] = ("table_prefix", "fields", "q", "date", "ids")

    def __init__(
        self,
        *,
        charthop_conn_id: str = DEFAULT_CHARTHOP_CONN_ID,
        warehouse_conn_id: str = "charthop_warehouse",
        table_prefix: str = "charthop_roster",
        fields: str | Sequence[str] = DEFAULT_ROSTER_FIELDS,
        q: str | None = None,
        date: str | None = None,
        ids: str | Sequence[str] | None = None,
        page_size: int = 1000,
        response_format: str = "minimal",
        check_count: bool = True,
        manager_policy: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.charthop_conn_id = charthop_conn_id
        self.warehouse_conn_id = warehouse_conn_id
        self.table_prefix = table_prefix
        self.fields = fields
        self.q = q
        self.date = date
        self.ids = ids
        self.page_size = page_size
        self.response_format = response_format
        self.check_count = check_count
        self.manager_policy = manager_policy

    def _validate(self) -> None:
        if not isinstance(self.page_size, int) or not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ChartHopConfigError(
                f"Invalid page_size {self.page_size!r}: use a whole number from 1 to {MAX_PAGE_SIZE}."
            )
        if self.response_format not in RESPONSE_FORMATS:
            raise ChartHopConfigError(
                f"Invalid response_format {self.response_format!r}: use one of {', '.join(RESPONSE_FORMATS)}."
            )
        if self.manager_policy is not None and self.manager_policy not in MANAGER_POLICIES:
            raise ChartHopConfigError(
                f"Invalid manager_policy {self.manager_policy!r}: use one of {', '.join(MANAGER_POLICIES)}."
            )

    def _snapshot_date(self, context: Context) -> str:
        from charthop.hooks.charthop import format_date

        explicit = format_date(self.date, name="date") if self.date else None
        if explicit:
            return explicit
        when = context.get("logical_date") or context["dag_run"].run_after
        return when.astimezone(dt.timezone.utc).date().isoformat()

    def execute(self, context: Context) -> dict[str, Any]:
        # Imported here, not at module level, so that parsing a DAG file stays cheap.
        from charthop.hooks.charthop import ChartHopHook, normalise_fields
        from charthop.warehouse.roster import RosterWarehouse, field_value

        self._validate()
        snapshot_date = self._snapshot_date(context)
        fields = normalise_fields(self.fields)
        q = (self.q or "").strip() or None
        ids = self.ids or None
        run_id = context["run_id"]
        manager_policy = self.manager_policy or ("warn" if q or ids else "fail")
        hook = ChartHopHook(self.charthop_conn_id)
        ChartHopOrgLink.persist(context, hook.org_url())
        warehouse = RosterWarehouse(self.warehouse_conn_id, self.table_prefix)
        self.log.info(
            "Extracting ChartHop jobs as of %s (q=%s, %d fields, page size %d) into %s",
            snapshot_date,
            q,
            len(fields),
            self.page_size,
            warehouse.snapshot_table,
        )
        started = time.monotonic()
        filled_fields: set[str] = set()
        pages = 0
        dropped = 0
        # The total only sizes the progress lines ("page 3 of 12"); the check below counts again at the end.
        total = None if ids else hook.count_jobs(q=q, date=snapshot_date)
        expected_pages = "?" if total is None else str(max(1, -(-total // self.page_size)))
        with warehouse.load_snapshot(snapshot_date, run_id, fields, manager_policy=manager_policy) as writer:
            job_pages = hook.find_jobs(
                fields=fields,
                q=q,
                date=snapshot_date,
                ids=ids,
                page_size=self.page_size,
                response_format=self.response_format,
            )
            for page in prefetched(job_pages):
                writer.write(page.rows)
                pages = page.number
                dropped += page.duplicates_dropped
                for code in fields:
                    if code not in filled_fields and any(not is_empty(field_value(r, code)) for r in page.rows):
                        filled_fields.add(code)
                self.log.info(
                    "Page %d of %s: %d rows (%d of %s so far)",
                    page.number,
                    expected_pages,
                    len(page.rows),
                    writer.rows_written,
                    "?" if total is None else total,
                )
            if self.check_count and not ids:
                expected = hook.count_jobs(q=q, date=snapshot_date)
                if expected != writer.rows_written:
                    raise ChartHopCountMismatchError(
                        f"Fetched {writer.rows_written} jobs as of {snapshot_date} (q={q}) but ChartHop countJobs "
                        f"reports {expected}. Nothing was committed. The org may have changed during the "
                        "extract: run the task again, or set check_count=False to accept the difference."
                    )
            rows = writer.rows_written
        empty_fields = [code for code in fields if code not in filled_fields] if rows else []
        for code in empty_fields:
            self.log.warning(
                "Field %s came back empty in all %d rows. Its code may be misspelt, or the app's token may "
                "lack the permission to read it.",
                code,
                rows,
            )
        seconds = round(time.monotonic() - started, 3)
        self.log.info(
            "Loaded %d jobs as of %s into %s in %d pages (%.1f s, %d duplicates dropped)",
            rows,
            snapshot_date,
            warehouse.snapshot_table,
            pages,
            seconds,
            dropped,
        )
        return {
            "snapshot_date": snapshot_date,
            "rows": rows,
            "pages": pages,
            "duplicates_dropped": dropped,
            "empty_fields": empty_fields,
            "type_changes": writer.type_changes,
            "tables": [warehouse.snapshot_table, warehouse.history_table, warehouse.current_view],
            "seconds": seconds,
        }
