"""Unit tests of the generated org: determinism, size, history, manager tree and awkward names."""

from __future__ import annotations

import re
from datetime import date

import pytest

from charthop_emulator.fields import JobView, annualized_pay, money, whole_months
from charthop_emulator.org import Org, generate_org

TODAY = date(2026, 3, 15)
HEX24 = re.compile(r"^[0-9a-f]{24}$")


@pytest.fixture(scope="module")
def org() -> Org:
    return generate_org(jobs_today=1500, seed=11, today=TODAY)


def _roster(org: Org, day: int) -> list[tuple[str, str | None]]:
    rows = []
    for job in org.jobs_alive_on(day):
        occupancy = job.occupancy_on(day)
        rows.append((job.id, occupancy.person.id if occupancy else None))
    return rows


class TestDeterminism:
    def test_same_seed_same_org(self, org: Org) -> None:
        again = generate_org(jobs_today=1500, seed=11, today=TODAY)
        assert _roster(again, again.today) == _roster(org, org.today)

    def test_same_seed_same_names(self, org: Org) -> None:
        again = generate_org(jobs_today=1500, seed=11, today=TODAY)
        assert [(p.first, p.last, p.work_email) for p in again.persons] == [
            (p.first, p.last, p.work_email) for p in org.persons
        ]

    def test_other_seed_other_org(self, org: Org) -> None:
        other = generate_org(jobs_today=1500, seed=12, today=TODAY)
        assert _roster(other, other.today) != _roster(org, org.today)

    def test_org_id_derived_from_seed(self, org: Org) -> None:
        assert HEX24.match(org.id)


class TestRosterSize:
    def test_job_count_today(self, org: Org) -> None:
        assert len(org.jobs_alive_on(org.today)) == 1500

    def test_filled_share_today(self, org: Org) -> None:
        alive = org.jobs_alive_on(org.today)
        filled = sum(1 for job in alive if job.occupancy_on(org.today))
        assert 0.88 <= filled / len(alive) <= 0.92

    def test_past_roster_smaller(self, org: Org) -> None:
        assert len(org.jobs_alive_on(org.today - 3 * 365)) < 1500

    def test_past_roster_other_people(self, org: Org) -> None:
        people_now = {person for _, person in _roster(org, org.today) if person}
        people_then = {person for _, person in _roster(org, org.today - 3 * 365) if person}
        assert people_then - people_now

    def test_history_has_deleted_jobs(self, org: Org) -> None:
        assert any(job.delete is not None for job in org.jobs)

    def test_jobs_sorted_by_id(self, org: Org) -> None:
        ids = [job.id for job in org.jobs]
        assert ids == sorted(ids)

    def test_ids_are_24_hex(self, org: Org) -> None:
        assert all(HEX24.match(job.id) for job in org.jobs)

    def test_small_org_generates(self) -> None:
        small = generate_org(jobs_today=1, seed=3, today=TODAY)
        assert len(small.jobs_alive_on(small.today)) == 1

    def test_zero_jobs_rejected(self) -> None:
        with pytest.raises(ValueError, match="jobs_today"):
            generate_org(jobs_today=0, seed=3, today=TODAY)


class TestManagerTree:
    def test_single_root(self, org: Org) -> None:
        roots = [job for job in org.jobs if job.manager is None]
        assert len(roots) == 1

    def test_no_cycles(self, org: Org) -> None:
        for job in org.jobs:
            seen = set()
            current = job
            while current is not None:
                assert current.id not in seen
                seen.add(current.id)
                current = current.manager

    def test_manager_outlives_report(self, org: Org) -> None:
        for job in org.jobs:
            if job.manager is None:
                continue
            assert job.manager.create <= job.create
            assert job.manager.delete is None

    def test_manager_ids_start_with_manager(self, org: Org) -> None:
        for job in org.jobs:
            if job.manager is not None:
                assert job.manager_ids[0] == job.manager.id

    def test_manager_ids_end_at_root(self, org: Org) -> None:
        root = next(job for job in org.jobs if job.manager is None)
        for job in org.jobs:
            if job.manager is not None:
                assert job.manager_ids[-1] == root.id


class TestOccupancies:
    def test_no_overlap_in_job(self, org: Org) -> None:
        for job in org.jobs:
            previous_end = job.create - 1
            for occupancy in job.occupancies:
                assert occupancy.start > previous_end
                previous_end = occupancy.end if occupancy.end is not None else 10**9

    def test_occupancies_within_job_life(self, org: Org) -> None:
        for job in org.jobs:
            for occupancy in job.occupancies:
                assert occupancy.start >= job.create
                if job.delete is not None:
                    assert occupancy.end is not None and occupancy.end < job.delete

    def test_departures_exist(self, org: Org) -> None:
        assert any(occupancy.end is not None for job in org.jobs for occupancy in job.occupancies)

    def test_unplaced_people_exist(self, org: Org) -> None:
        assert any(person.occupancy is None for person in org.persons)


class TestNames:
    @pytest.mark.parametrize(
        "text",
        ["José", "Zoë", "Ñúñez", "王", "山田", "O'Brien", "D'Angelo", "Smith, Jr."],
        ids=["accent-e", "diaeresis", "tilde-n", "chinese", "japanese", "apostrophe-o", "apostrophe-d", "comma"],
    )
    def test_name_present(self, org: Org, text: str) -> None:
        names = {person.first for person in org.persons} | {person.last for person in org.persons}
        assert text in names

    @pytest.mark.parametrize("block", [(0x0600, 0x06FF), (0x0590, 0x05FF)], ids=["arabic", "hebrew"])
    def test_right_to_left_name_present(self, org: Org, block: tuple[int, int]) -> None:
        low, high = block
        assert any(any(low <= ord(char) <= high for char in person.first + person.last) for person in org.persons)

    def test_tiny_org_has_showcase_names(self) -> None:
        tiny = generate_org(jobs_today=5, seed=2, today=TODAY)
        assert {"Ñúñez", "王", "Smith, Jr."} <= {person.last for person in tiny.persons}

    def test_employee_ids_leading_zeros(self, org: Org) -> None:
        assert all(re.match(r"^\d{6}$", person.employee) for person in org.persons)

    def test_some_employee_id_starts_zero(self, org: Org) -> None:
        assert any(person.employee.startswith("000") for person in org.persons)

    def test_work_emails_unique(self, org: Org) -> None:
        emails = [person.work_email for person in org.persons]
        assert len(emails) == len(set(emails))


class TestGroupsAndPay:
    def test_department_count(self, org: Org) -> None:
        assert 8 <= len(org.departments) <= 12

    def test_location_count(self, org: Org) -> None:
        assert 6 <= len(org.locations) <= 10

    def test_locations_have_iso_country(self, org: Org) -> None:
        assert all(re.match(r"^[A-Z]{2}$", location.country or "") for location in org.locations)

    def test_currencies_present(self, org: Org) -> None:
        currencies = {person.currency for person in org.persons if person.occupancy}
        assert {"USD", "EUR", "GBP", "JPY", "INR", "MXN"} <= currencies

    def test_intervals_present(self, org: Org) -> None:
        intervals = {person.interval for person in org.persons if person.occupancy}
        assert intervals == {"YEARLY", "MONTHLY", "HOURLY"}

    def test_employment_types_present(self, org: Org) -> None:
        assert {job.employment for job in org.jobs} == {"FULL", "PART", "TEMP", "CONTRACT", "INTERN", "EXPAT"}

    def test_null_perf_rating_present(self, org: Org) -> None:
        assert any(person.perf_rating is None for person in org.persons if person.occupancy)


class TestFieldHelpers:
    @pytest.mark.parametrize(
        ("start", "end", "months"),
        [(date(2020, 1, 31), date(2020, 2, 29), 0), (date(2020, 1, 15), date(2021, 1, 15), 12),
         (date(2020, 1, 15), date(2021, 1, 14), 11), (date(2021, 1, 1), date(2020, 1, 1), 0)],
        ids=["short-month", "one-year", "day-before", "before-start"],
    )
    def test_whole_months(self, start: date, end: date, months: int) -> None:
        assert whole_months(start.toordinal(), end.toordinal()) == months

    def test_money_whole_amount(self) -> None:
        assert money(90000.0, "MXN") == {"amount": 90000, "currency": "MXN", "places": 0}

    def test_money_cents(self) -> None:
        assert money(42.5, "USD") == {"amount": 42.5, "currency": "USD", "places": 2}

    def test_hourly_annualized(self, org: Org) -> None:
        person = next(p for p in org.persons if p.occupancy and p.interval == "HOURLY")
        assert annualized_pay(person)["amount"] == pytest.approx(person.pay * 2080, abs=0.01)

    def test_open_job_has_no_person(self, org: Org) -> None:
        job = next(job for job in org.jobs_alive_on(org.today) if job.occupancy_on(org.today) is None)
        view = JobView(job, org.today)
        assert view.value("personid") is None

    def test_open_job_days_open(self, org: Org) -> None:
        job = next(job for job in org.jobs_alive_on(org.today) if job.occupancy_on(org.today) is None)
        assert JobView(job, org.today).value("daysopen") >= 0
