"""HTTP tests of the emulator's ChartHop endpoints: auth, org lookup, findJobs, formats, counts, persons, users."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from tests.plugins.emulator_fixtures import EmulatorProcess

JOBS = "/v2/org/{org}/job"
COUNT = "/v2/org/{org}/job/count"
PERSONS = "/v2/org/{org}/person"
PERSON_COUNT = "/v2/org/{org}/person/count"
USERS = "/v1/user"
HEX24 = re.compile(r"^[0-9a-f]{24}$")


def _past(emulator: EmulatorProcess, years: int) -> str:
    return (date.fromisoformat(emulator.today) - timedelta(days=365 * years)).isoformat()


def _all_rows(emulator: EmulatorProcess, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [row for page in emulator.page_through(path, params) for row in page["data"]]


class TestAuth:
    def test_missing_header_rejected(self, emulator: EmulatorProcess) -> None:
        response = emulator.get(JOBS, headers={"Authorization": ""})
        assert response.status_code == 401

    def test_missing_header_body(self, emulator: EmulatorProcess) -> None:
        response = emulator.get(JOBS, headers={"Authorization": ""})
        assert response.json() == {"code": 401, "message": "not authorized"}

    def test_unknown_token_rejected(self, emulator: EmulatorProcess) -> None:
        assert emulator.get(JOBS, token="not-a-token").status_code == 401

    def test_basic_scheme_rejected(self, emulator: EmulatorProcess) -> None:
        response = emulator.get(JOBS, headers={"Authorization": f"Basic {emulator.token}"})
        assert response.status_code == 401

    def test_lowercase_bearer_accepted(self, emulator: EmulatorProcess) -> None:
        response = emulator.get(JOBS, headers={"Authorization": f"bearer {emulator.token}"})
        assert response.status_code == 200

    def test_unknown_path_not_found(self, emulator: EmulatorProcess) -> None:
        response = emulator.get("/v2/org/{org}/nothing")
        assert response.json()["code"] == 404

    def test_post_not_allowed(self, emulator: EmulatorProcess) -> None:
        response = emulator.session.post(
            f"{emulator.url}/v2/org/{emulator.org_id}/job", json={},
            headers={"Authorization": f"Bearer {emulator.token}"}, timeout=30,
        )
        assert response.status_code == 405


class TestOrgLookup:
    def test_slug_equals_id(self, emulator: EmulatorProcess) -> None:
        by_id = emulator.get(JOBS, {"limit": 5}).json()
        by_slug = emulator.get(f"/v2/org/{emulator.org_slug}/job", {"limit": 5}).json()
        assert by_slug == by_id

    def test_unknown_org_status(self, emulator: EmulatorProcess) -> None:
        assert emulator.get("/v2/org/nope/job").status_code == 404

    def test_unknown_org_body(self, emulator: EmulatorProcess) -> None:
        assert emulator.get("/v2/org/nope/job").json() == {"code": 404, "message": "org not found: nope"}


class TestFindJobs:
    def test_default_page_size(self, emulator: EmulatorProcess) -> None:
        assert len(emulator.get(JOBS).json()["data"]) == 100

    def test_default_fields(self, emulator: EmulatorProcess) -> None:
        row = emulator.get(JOBS, {"limit": 1}).json()["data"][0]
        assert set(row) == {"jobId", "title", "open", "personId"}

    def test_rows_in_id_order(self, emulator: EmulatorProcess) -> None:
        ids = [row["jobId"] for row in emulator.get(JOBS, {"limit": 300}).json()["data"]]
        assert ids == sorted(ids)

    def test_from_is_inclusive(self, emulator: EmulatorProcess) -> None:
        first = emulator.get(JOBS, {"limit": 10}).json()
        second = emulator.get(JOBS, {"limit": 10, "from": first["next"]}).json()
        assert second["data"][0]["jobId"] == first["next"]

    def test_pages_do_not_overlap(self, emulator: EmulatorProcess) -> None:
        first = emulator.get(JOBS, {"limit": 10}).json()
        second = emulator.get(JOBS, {"limit": 10, "from": first["next"]}).json()
        assert not {row["jobId"] for row in first["data"]} & {row["jobId"] for row in second["data"]}

    def test_paging_covers_roster(self, emulator: EmulatorProcess) -> None:
        ids = [row["jobId"] for row in _all_rows(emulator, JOBS, {"limit": 170})]
        assert len(ids) == emulator.jobs_today

    def test_paging_has_no_duplicates(self, emulator: EmulatorProcess) -> None:
        ids = [row["jobId"] for row in _all_rows(emulator, JOBS, {"limit": 170})]
        assert len(set(ids)) == len(ids)

    def test_last_page_has_no_next(self, emulator: EmulatorProcess) -> None:
        pages = emulator.page_through(JOBS, {"limit": 700})
        assert "next" not in pages[-1]

    def test_page_count(self, emulator: EmulatorProcess) -> None:
        assert len(emulator.page_through(JOBS, {"limit": 700})) == 3

    def test_ids_filter(self, emulator: EmulatorProcess) -> None:
        ids = [row["jobId"] for row in emulator.get(JOBS, {"limit": 5}).json()["data"]]
        chosen = [ids[3], ids[1]]
        rows = emulator.get(JOBS, {"ids": ",".join(chosen)}).json()["data"]
        assert [row["jobId"] for row in rows] == sorted(chosen)

    def test_past_date_fewer_jobs(self, emulator: EmulatorProcess) -> None:
        rows = _all_rows(emulator, JOBS, {"limit": 5000, "date": _past(emulator, 3)})
        assert len(rows) < emulator.jobs_today

    def test_past_date_other_people(self, emulator: EmulatorProcess) -> None:
        now = {row["personId"] for row in _all_rows(emulator, JOBS, {"limit": 5000})}
        then = {row["personId"] for row in _all_rows(emulator, JOBS, {"limit": 5000, "date": _past(emulator, 3)})}
        assert then - now

    def test_past_date_matches_count(self, emulator: EmulatorProcess) -> None:
        past = _past(emulator, 2)
        rows = _all_rows(emulator, JOBS, {"limit": 5000, "date": past})
        assert len(rows) == emulator.count_jobs(date=past)["jobCount"]

    def test_before_history_empty(self, emulator: EmulatorProcess) -> None:
        assert emulator.get(JOBS, {"date": "2000-01-01"}).json() == {"data": []}

    @pytest.mark.parametrize("value", ["abc", "2024-13-01", "2024/01/01", "20240101"],
                             ids=["word", "month-13", "slashes", "no-dashes"])
    def test_invalid_date_rejected(self, emulator: EmulatorProcess, value: str) -> None:
        response = emulator.get(JOBS, {"date": value})
        assert response.status_code == 400
        assert "date" in response.json()["message"]

    @pytest.mark.parametrize("value", ["abc", "0", "-5", "1.5"], ids=["word", "zero", "negative", "fraction"])
    def test_invalid_limit_rejected(self, emulator: EmulatorProcess, value: str) -> None:
        response = emulator.get(JOBS, {"limit": value})
        assert response.status_code == 400
        assert "limit" in response.json()["message"]

    def test_unknown_field_rejected(self, emulator: EmulatorProcess) -> None:
        response = emulator.get(JOBS, {"fields": "jobId,naem.first"})
        assert response.json() == {"code": 400, "message": "unknown field: naem.first"}

    def test_field_codes_case_insensitive(self, emulator: EmulatorProcess) -> None:
        row = emulator.get(JOBS, {"fields": "JOBID,Title", "limit": 1}).json()["data"][0]
        assert set(row) == {"JOBID", "Title"}

    def test_fields_list_param(self, emulator: EmulatorProcess) -> None:
        response = emulator.get(JOBS, [("fieldsList", "jobId"), ("fieldsList", "title"), ("limit", "1")])
        assert set(response.json()["data"][0]) == {"jobId", "title"}

    def test_unsupported_param_rejected(self, emulator: EmulatorProcess) -> None:
        response = emulator.get(JOBS, {"scenarioId": "abc"})
        assert response.json() == {"code": 400, "message": "query parameter scenarioId is not supported by the emulator"}

    def test_unknown_param_ignored(self, emulator: EmulatorProcess) -> None:
        first = emulator.get(JOBS, {"limit": 3}).json()
        assert emulator.get(JOBS, {"limit": 3, "offset": 3}).json() == first

    def test_sort_by_job_id_accepted(self, emulator: EmulatorProcess) -> None:
        assert emulator.get(JOBS, {"sort": "jobId"}).status_code == 200

    def test_other_sort_rejected(self, emulator: EmulatorProcess) -> None:
        response = emulator.get(JOBS, {"sort": "-title"})
        assert response.status_code == 400
        assert "sort" in response.json()["message"]

    def test_invalid_format_rejected(self, emulator: EmulatorProcess) -> None:
        response = emulator.get(JOBS, {"format": "csv"})
        assert response.status_code == 400
        assert "format" in response.json()["message"]


ALL_JOB_FIELDS = (
    "jobId,title,open,personId,name,name.first,name.last,name.pref,contact.workEmail,contact.employee,"
    "contact.workPhone,department,department.name,location.name,location.address.country,location.address.city,"
    "workAddress.country,workAddress.city,manager,managerIds,employment,startDate,startDateOrg,endDateOrg,tenure,"
    "baseComp,baseComp.annualized,baseComp.interval,baseComp.pay,currency,costCenter,perfRating,"
    "esquemaDeContratacin,daysOpen"
)


@pytest.fixture(scope="module")
def minimal_rows(emulator_process: EmulatorProcess) -> list[dict[str, Any]]:
    """Every job today with every supported field, format=minimal."""
    pages = emulator_process.page_through(JOBS, {"fields": ALL_JOB_FIELDS, "format": "minimal", "limit": 1000})
    return [row for page in pages for row in page["data"]]


class TestMinimalFormat:
    def test_keys_are_requested_expressions(self, minimal_rows: list[dict[str, Any]]) -> None:
        assert list(minimal_rows[0]) == ALL_JOB_FIELDS.split(",")

    def test_name_is_full_name(self, minimal_rows: list[dict[str, Any]]) -> None:
        row = next(row for row in minimal_rows if row["open"] == "filled" and not row["name.pref"])
        assert row["name"] == f"{row['name.first']} {row['name.last']}"

    def test_department_is_name(self, minimal_rows: list[dict[str, Any]]) -> None:
        assert all(row["department"] == row["department.name"] for row in minimal_rows)

    def test_open_job_person_fields_null(self, minimal_rows: list[dict[str, Any]]) -> None:
        row = next(row for row in minimal_rows if row["open"] == "open")
        person_fields = ("personId", "name", "contact.workEmail", "contact.employee", "startDateOrg", "tenure",
                         "baseComp", "perfRating")
        assert [row[code] for code in person_fields] == [None] * len(person_fields)

    def test_open_share(self, minimal_rows: list[dict[str, Any]]) -> None:
        open_count = sum(1 for row in minimal_rows if row["open"] == "open")
        assert 0.08 <= open_count / len(minimal_rows) <= 0.12

    def test_open_job_days_open(self, minimal_rows: list[dict[str, Any]]) -> None:
        assert all(row["daysOpen"] >= 0 for row in minimal_rows if row["open"] == "open")

    def test_filled_job_days_open_null(self, minimal_rows: list[dict[str, Any]]) -> None:
        assert all(row["daysOpen"] is None for row in minimal_rows if row["open"] == "filled")

    def test_manager_is_existing_job(self, minimal_rows: list[dict[str, Any]]) -> None:
        ids = {row["jobId"] for row in minimal_rows}
        assert all(row["manager"] in ids for row in minimal_rows if row["manager"] is not None)

    def test_single_root(self, minimal_rows: list[dict[str, Any]]) -> None:
        assert sum(1 for row in minimal_rows if row["manager"] is None) == 1

    def test_manager_ids_start_with_manager(self, minimal_rows: list[dict[str, Any]]) -> None:
        assert all(row["managerIds"][:1] == ([row["manager"]] if row["manager"] else []) for row in minimal_rows)

    def test_employee_ids_are_strings(self, minimal_rows: list[dict[str, Any]]) -> None:
        employees = [row["contact.employee"] for row in minimal_rows if row["contact.employee"] is not None]
        assert all(isinstance(value, str) and re.match(r"^\d{6}$", value) for value in employees)

    def test_employee_id_leading_zero(self, minimal_rows: list[dict[str, Any]]) -> None:
        assert any((row["contact.employee"] or "").startswith("0") for row in minimal_rows)

    def test_pay_is_money(self, minimal_rows: list[dict[str, Any]]) -> None:
        pay = next(row["baseComp.pay"] for row in minimal_rows if row["open"] == "filled")
        assert set(pay) == {"amount", "currency", "places"}

    def test_base_comp_shape(self, minimal_rows: list[dict[str, Any]]) -> None:
        comp = next(row["baseComp"] for row in minimal_rows if row["open"] == "filled")
        assert set(comp) == {"interval", "pay"}

    def test_currency_matches_pay(self, minimal_rows: list[dict[str, Any]]) -> None:
        filled = [row for row in minimal_rows if row["open"] == "filled"]
        assert all(row["currency"] == row["baseComp.pay"]["currency"] for row in filled)

    def test_several_currencies(self, minimal_rows: list[dict[str, Any]]) -> None:
        currencies = {row["currency"] for row in minimal_rows if row["currency"]}
        assert {"USD", "EUR", "GBP", "JPY", "INR", "MXN"} <= currencies

    def test_hourly_pay_has_cents(self, minimal_rows: list[dict[str, Any]]) -> None:
        hourly = [row["baseComp.pay"] for row in minimal_rows
                  if row["baseComp.interval"] == "HOURLY" and row["currency"] != "JPY"]
        assert any(pay["places"] == 2 for pay in hourly)

    def test_perf_rating_null_present(self, minimal_rows: list[dict[str, Any]]) -> None:
        assert any(row["perfRating"] is None for row in minimal_rows if row["open"] == "filled")

    def test_multi_select_is_list(self, minimal_rows: list[dict[str, Any]]) -> None:
        filled = [row for row in minimal_rows if row["open"] == "filled"]
        assert all(isinstance(row["esquemaDeContratacin"], list) for row in filled)

    def test_contractor_scheme_present(self, minimal_rows: list[dict[str, Any]]) -> None:
        assert any(row["esquemaDeContratacin"] == ["Contractor"] for row in minimal_rows)

    def test_tenure_whole_months(self, minimal_rows: list[dict[str, Any]]) -> None:
        filled = [row for row in minimal_rows if row["open"] == "filled"]
        assert all(isinstance(row["tenure"], int) and row["tenure"] >= 0 for row in filled)

    def test_start_date_is_org_start(self, minimal_rows: list[dict[str, Any]]) -> None:
        filled = [row for row in minimal_rows if row["open"] == "filled"]
        assert all(row["startDate"] == row["startDateOrg"] for row in filled)

    def test_open_job_planned_start(self, minimal_rows: list[dict[str, Any]], emulator_process: EmulatorProcess) -> None:
        planned = [row["startDate"] for row in minimal_rows if row["open"] == "open" and row["startDate"]]
        assert planned and all(value > emulator_process.today for value in planned)

    def test_work_emails_unique(self, minimal_rows: list[dict[str, Any]]) -> None:
        emails = [row["contact.workEmail"] for row in minimal_rows if row["contact.workEmail"]]
        assert len(emails) == len(set(emails))

    def test_country_is_iso(self, minimal_rows: list[dict[str, Any]]) -> None:
        assert all(re.match(r"^[A-Z]{2}$", row["workAddress.country"]) for row in minimal_rows)

    @pytest.mark.parametrize("text", ["José", "Ñúñez", "王", "山田", "O'Brien", "Smith, Jr."],
                             ids=["accent", "tilde", "chinese", "japanese", "apostrophe", "comma"])
    def test_awkward_names_round_trip(self, minimal_rows: list[dict[str, Any]], text: str) -> None:
        assert any(text in (row["name"] or "") for row in minimal_rows)


class TestJsonFormat:
    def test_name_nested(self, emulator: EmulatorProcess) -> None:
        rows = emulator.get(JOBS, {"fields": "jobId,name.first,name.last", "q": "open:filled", "limit": 1}).json()
        assert set(rows["data"][0]["name"]) == {"first", "last"}

    def test_name_object(self, emulator: EmulatorProcess) -> None:
        row = emulator.get(JOBS, {"fields": "name", "q": "open:filled", "limit": 1}).json()["data"][0]
        assert {"first", "last"} <= set(row["name"])

    def test_department_object(self, emulator: EmulatorProcess) -> None:
        row = emulator.get(JOBS, {"fields": "department", "limit": 1}).json()["data"][0]
        assert set(row["department"]) == {"id", "name"}

    def test_nested_paths_merge(self, emulator: EmulatorProcess) -> None:
        row = emulator.get(JOBS, {"fields": "location.name,location.address.country", "limit": 1}).json()["data"][0]
        assert set(row["location"]) == {"name", "address"}

    def test_open_job_nested_null(self, emulator: EmulatorProcess) -> None:
        row = emulator.get(JOBS, {"fields": "name.first", "q": "is:open", "limit": 1}).json()["data"][0]
        assert row == {"name": {"first": None}}

    @pytest.mark.parametrize("fmt", ["json-extended", "json-readable"], ids=["extended", "readable"])
    def test_other_json_formats_like_json(self, emulator: EmulatorProcess, fmt: str) -> None:
        params = {"fields": "jobId,name.first,department", "limit": 20}
        assert emulator.get(JOBS, {**params, "format": fmt}).json() == emulator.get(JOBS, params).json()

    def test_minimal_differs_from_json(self, emulator: EmulatorProcess) -> None:
        params = {"fields": "name.first", "limit": 1}
        assert "name.first" in emulator.get(JOBS, {**params, "format": "minimal"}).json()["data"][0]


class TestSyncGuideExamples:
    """The requests from ChartHop's sync guide and its own sync tool, sent verbatim."""

    def test_minimal_fields_example(self, emulator: EmulatorProcess) -> None:
        fields = "name.first,name.last,title,contact.workEmail,workAddress.country"
        rows = emulator.get(JOBS, {"fields": fields, "format": "minimal"}).json()["data"]
        assert all(list(row) == fields.split(",") for row in rows)

    def test_tenure_example_filters(self, emulator: EmulatorProcess) -> None:
        rows = _all_rows(emulator, JOBS, {"q": "tenure>=12", "fields": "jobId,tenure", "limit": 1000})
        assert rows and all(row["tenure"] >= 12 for row in rows)

    def test_tenure_example_count(self, emulator: EmulatorProcess) -> None:
        rows = _all_rows(emulator, JOBS, {"q": "tenure>=12", "limit": 1000})
        assert len(rows) == emulator.count_jobs(q="tenure>=12")["jobCount"]

    def test_open_filled_example(self, emulator: EmulatorProcess) -> None:
        rows = _all_rows(emulator, JOBS, {"q": "open:filled", "limit": 1000})
        assert all(row["open"] == "filled" for row in rows)

    def test_open_filled_is_people(self, emulator: EmulatorProcess) -> None:
        rows = _all_rows(emulator, JOBS, {"q": "open:filled", "limit": 1000})
        assert len(rows) == emulator.count_jobs()["personCount"]

    def test_job_id_example(self, emulator: EmulatorProcess) -> None:
        job_id = emulator.get(JOBS, {"limit": 50}).json()["data"][42]["jobId"]
        rows = emulator.get(JOBS, {"q": f"jobId:{job_id}"}).json()["data"]
        assert [row["jobId"] for row in rows] == [job_id]

    def test_sync_tool_single_call(self, emulator: EmulatorProcess) -> None:
        response = emulator.get(JOBS, {"limit": 10000, "format": "minimal", "q": "open:filled",
                                       "fields": "jobId,name,contact.workEmail,manager"})
        body = response.json()
        assert "next" not in body
        assert len(body["data"]) == emulator.count_jobs(q="open:filled")["jobCount"]


class TestQueryParameter:
    @pytest.mark.parametrize(
        ("query", "token"),
        [("salary>5", "'salary'"), ("date('+1y')>startDate", "'date'"), ('title:"vp', "unterminated"),
         ("title:vp ? 1 : 0", "'?'"), ("is:grandmanager", "is:grandmanager")],
        ids=["unknown-field", "function", "unterminated", "ternary", "unknown-filter"],
    )
    def test_unsupported_q_rejected(self, emulator: EmulatorProcess, query: str, token: str) -> None:
        response = emulator.get(JOBS, {"q": query})
        assert response.status_code == 400
        assert token in response.json()["message"]

    def test_error_names_parameter(self, emulator: EmulatorProcess) -> None:
        assert emulator.get(JOBS, {"q": "salary>5"}).json()["message"].startswith("invalid query parameter q")

    def test_is_open_rows_open(self, emulator: EmulatorProcess) -> None:
        rows = _all_rows(emulator, JOBS, {"q": "is:open", "limit": 1000})
        assert rows and all(row["open"] == "open" and row["personId"] is None for row in rows)

    def test_is_manager_has_reports(self, emulator: EmulatorProcess) -> None:
        managers = {row["jobId"] for row in _all_rows(emulator, JOBS, {"q": "is:manager", "limit": 1000})}
        reports = _all_rows(emulator, JOBS, {"fields": "manager", "limit": 1000})
        assert managers == {row["manager"] for row in reports if row["manager"]}

    def test_department_filter(self, emulator: EmulatorProcess) -> None:
        rows = _all_rows(emulator, JOBS, {"q": 'department:"engineering",sales', "fields": "department.name",
                                          "format": "minimal", "limit": 1000})
        assert {row["department.name"] for row in rows} <= {"Engineering", "Sales"}

    def test_negated_filter_complements(self, emulator: EmulatorProcess) -> None:
        filled = emulator.count_jobs(q="open:filled")["jobCount"]
        not_filled = emulator.count_jobs(q="!open:filled")["jobCount"]
        assert filled + not_filled == emulator.jobs_today

    def test_date_comparison(self, emulator: EmulatorProcess) -> None:
        rows = _all_rows(emulator, JOBS, {"q": "startDateOrg<'2022-01-01'", "fields": "startDateOrg",
                                          "format": "minimal", "limit": 1000})
        assert rows and all(row["startDateOrg"] < "2022-01-01" for row in rows)


class TestCountJobs:
    def test_count_keys(self, emulator: EmulatorProcess) -> None:
        assert set(emulator.count_jobs()) == {"jobCount", "personCount", "startingCount", "departingCount"}

    def test_job_count_today(self, emulator: EmulatorProcess) -> None:
        assert emulator.count_jobs()["jobCount"] == emulator.jobs_today

    def test_person_count_filled(self, emulator: EmulatorProcess) -> None:
        counts = emulator.count_jobs()
        assert counts["personCount"] == emulator.count_jobs(q="open:filled")["jobCount"]

    def test_starting_count_matches_filter(self, emulator: EmulatorProcess) -> None:
        assert emulator.count_jobs()["startingCount"] == emulator.count_jobs(q="is:starting")["jobCount"]

    def test_departing_count_matches_filter(self, emulator: EmulatorProcess) -> None:
        assert emulator.count_jobs()["departingCount"] == emulator.count_jobs(q="is:departing")["jobCount"]

    def test_bad_q_rejected(self, emulator: EmulatorProcess) -> None:
        assert emulator.get(COUNT, {"q": "nope:1"}).status_code == 400


class TestGetJob:
    def test_returns_row(self, emulator: EmulatorProcess) -> None:
        job_id = emulator.get(JOBS, {"limit": 1}).json()["data"][0]["jobId"]
        row = emulator.get(f"{JOBS}/{job_id}", {"fields": "jobId,title"}).json()
        assert row["jobId"] == job_id

    def test_same_as_find_row(self, emulator: EmulatorProcess) -> None:
        params = {"fields": "jobId,name,department,baseComp", "format": "minimal"}
        found = emulator.get(JOBS, {**params, "limit": 7}).json()["data"][6]
        assert emulator.get(f"{JOBS}/{found['jobId']}", params).json() == found

    def test_unknown_job_not_found(self, emulator: EmulatorProcess) -> None:
        assert emulator.get(f"{JOBS}/000000000000000000000000").status_code == 404

    def test_job_absent_on_date(self, emulator: EmulatorProcess) -> None:
        past = _past(emulator, 6)
        then = {row["jobId"] for row in _all_rows(emulator, JOBS, {"limit": 5000, "date": past})}
        job_id = next(row["jobId"] for row in _all_rows(emulator, JOBS, {"limit": 5000})
                      if row["jobId"] not in then)
        assert emulator.get(f"{JOBS}/{job_id}", {"date": past}).status_code == 404


class TestFindPersons:
    def test_default_fields(self, emulator: EmulatorProcess) -> None:
        row = emulator.get(PERSONS, {"limit": 1}).json()["data"][0]
        assert set(row) == {"id", "jobId", "name"}

    def test_people_match_filled_jobs(self, emulator: EmulatorProcess) -> None:
        persons = _all_rows(emulator, PERSONS, {"fields": "id,jobId", "limit": 1000})
        jobs = _all_rows(emulator, JOBS, {"fields": "personId,jobId", "q": "open:filled", "limit": 1000})
        assert {(row["id"], row["jobId"]) for row in persons} == {(row["personId"], row["jobId"]) for row in jobs}

    def test_include_all_adds_people(self, emulator: EmulatorProcess) -> None:
        current = emulator.get(PERSON_COUNT).json()["personCount"]
        everyone = emulator.get(PERSON_COUNT, {"includeAll": "true"}).json()["personCount"]
        assert everyone > current

    def test_departed_only_with_include_all(self, emulator: EmulatorProcess) -> None:
        rows = _all_rows(emulator, PERSONS, {"includeAll": "true", "fields": "id,jobId,endDateOrg", "limit": 2000})
        departed = [row for row in rows if row["jobId"] is None and row["endDateOrg"]]
        current = {row["id"] for row in _all_rows(emulator, PERSONS, {"limit": 2000})}
        assert departed and not {row["id"] for row in departed} & current

    def test_never_placed_person_listed(self, emulator: EmulatorProcess) -> None:
        rows = _all_rows(emulator, PERSONS, {"includeAll": "true", "fields": "id,startDateOrg", "limit": 2000})
        assert any(row["startDateOrg"] is None for row in rows)

    def test_q_filter(self, emulator: EmulatorProcess) -> None:
        rows = _all_rows(emulator, PERSONS, {"q": "title:director", "fields": "title", "limit": 1000})
        assert rows and all("director" in row["title"].lower() for row in rows)

    def test_person_fields(self, emulator: EmulatorProcess) -> None:
        fields = "id,jobId,name,name.first,name.last,contact.workEmail,contact.employee,startDateOrg,endDateOrg," \
                 "title,department.name"
        row = emulator.get(PERSONS, {"fields": fields, "format": "minimal", "limit": 1}).json()["data"][0]
        assert list(row) == fields.split(",")

    def test_invalid_include_all(self, emulator: EmulatorProcess) -> None:
        response = emulator.get(PERSONS, {"includeAll": "yes"})
        assert response.status_code == 400
        assert "includeAll" in response.json()["message"]

    def test_job_field_rejected(self, emulator: EmulatorProcess) -> None:
        assert emulator.get(PERSONS, {"fields": "baseComp"}).json()["message"] == "unknown field: baseComp"


class TestFindUsers:
    def test_lists_users(self, emulator: EmulatorProcess) -> None:
        users = emulator.get(USERS, {"orgId": emulator.org_id}).json()["data"]
        assert {user["type"] for user in users} == {"USER", "APP"}

    def test_slug_accepted(self, emulator: EmulatorProcess) -> None:
        by_slug = emulator.get(USERS, {"orgId": emulator.org_slug}).json()
        assert by_slug == emulator.get(USERS, {"orgId": emulator.org_id}).json()

    def test_users_linked_to_people(self, emulator: EmulatorProcess) -> None:
        users = emulator.get(USERS, {"orgId": emulator.org_id}).json()["data"]
        people = {row["id"] for row in _all_rows(emulator, PERSONS, {"limit": 2000})}
        linked = [user["orgs"][0]["personId"] for user in users if user["type"] == "USER"]
        assert linked and set(linked) <= people

    def test_q_substring(self, emulator: EmulatorProcess) -> None:
        users = emulator.get(USERS, {"orgId": emulator.org_id, "q": "emulator sync"}).json()["data"]
        assert [user["type"] for user in users] == ["APP"]

    def test_ids_filter(self, emulator: EmulatorProcess) -> None:
        users = emulator.get(USERS, {"orgId": emulator.org_id}).json()["data"]
        picked = emulator.get(USERS, {"orgId": emulator.org_id, "ids": users[1]["id"]}).json()["data"]
        assert picked == [users[1]]

    def test_paging(self, emulator: EmulatorProcess) -> None:
        everyone = emulator.get(USERS, {"orgId": emulator.org_id}).json()["data"]
        pages = emulator.page_through(USERS, {"orgId": emulator.org_id, "limit": 2})
        assert [user for page in pages for user in page["data"]] == everyone

    def test_missing_org_rejected(self, emulator: EmulatorProcess) -> None:
        assert emulator.get(USERS).json() == {"code": 400, "message": "missing query parameter orgId"}

    def test_unknown_org_not_found(self, emulator: EmulatorProcess) -> None:
        assert emulator.get(USERS, {"orgId": "nope"}).status_code == 404


class TestPermissions:
    @pytest.mark.parametrize(
        ("path", "permission"),
        [(JOBS, "job.read"), (COUNT, "job.read"), (PERSONS, "person.read"), (USERS, "user.read")],
        ids=["find-jobs", "count-jobs", "find-persons", "find-users"],
    )
    def test_missing_permission_forbidden(self, emulator: EmulatorProcess, path: str, permission: str) -> None:
        granted = [name for name in ("job.read", "person.read", "user.read", "comp.read") if name != permission]
        emulator.add_token("limited-token", granted)
        response = emulator.get(path, {"orgId": emulator.org_id}, token="limited-token")
        assert response.status_code == 403
        assert response.json() == {"code": 403, "message": f"permission denied: {permission}"}

    def test_no_comp_nulls_comp_fields(self, emulator: EmulatorProcess) -> None:
        emulator.add_token("no-comp-token", ["job.read"])
        fields = "baseComp,baseComp.annualized,baseComp.interval,baseComp.pay,currency"
        rows = emulator.get(JOBS, {"fields": fields, "q": "open:filled", "format": "minimal"},
                            token="no-comp-token").json()["data"]
        assert all(value is None for row in rows for value in row.values())

    def test_no_comp_keeps_other_fields(self, emulator: EmulatorProcess) -> None:
        emulator.add_token("no-comp-token", ["job.read"])
        rows = emulator.get(JOBS, {"fields": "jobId,title", "format": "minimal"}, token="no-comp-token").json()["data"]
        assert all(row["jobId"] and row["title"] for row in rows)

    def test_comp_read_shows_comp(self, emulator: EmulatorProcess) -> None:
        emulator.add_token("comp-token", ["job.read", "comp.read"])
        rows = emulator.get(JOBS, {"fields": "currency", "q": "open:filled"}, token="comp-token").json()["data"]
        assert all(row["currency"] for row in rows)

    def test_no_comp_filters_comp_as_null(self, emulator: EmulatorProcess) -> None:
        emulator.add_token("no-comp-token", ["job.read"])
        response = emulator.get(COUNT, {"q": "currency:*"}, token="no-comp-token")
        assert response.json()["jobCount"] == 0
