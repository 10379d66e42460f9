"""HTTP tests of importDataCsv: parameters, CSV format, row errors, dry runs, failure modes and upload log."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from datetime import date, timedelta
from typing import Any

import pytest

from tests.plugins.emulator_fixtures import EmulatorProcess

JOBS = "/v2/org/{org}/job"
HEX24 = re.compile(r"^[0-9a-f]{24}$")
SPEC_PARAMS = {
    "scenarioId": "s1", "skipErrors": "true", "upsert": "true", "createGroups": "true",
    "disableSyncHireDate": "false", "useTitleManagerMatcher": "false", "updateTypes": "title,comp",
    "notifyUserIds": "5f3a9c0e1d2b4a5c6d7e8f90", "notifyAppName": "airflow", "defaultChangeDate": "2025-01-01",
    "disableOverwritePerson": "false", "importDryRun": "true", "importAfterDryRun": "false",
    "parentProcessId": "5f3a9c0e1d2b4a5c6d7e8f90", "importSource": "airflow-test",
    "ignoreResumeParentProcess": "false", "adjustCreateDate": "false", "createJobsWithMissingManager": "false",
    "reassignDirectReportsOnMove": "false", "adjustDeleteOnDepartDate": "false", "overwriteGroupTypes": "department",
    "postProcessor": "none",
}
REQUIRED_BOOLEANS = ("skipErrors", "upsert", "createGroups", "disableSyncHireDate", "disableOverwritePerson",
                     "importDryRun")
WRONG_NAMES = ("creategroups", "dryRun", "date", "SkipErrors")


def _flags(**overrides: str) -> dict[str, str]:
    """All six required booleans, false unless overridden."""
    return {**{name: "false" for name in REQUIRED_BOOLEANS}, **overrides}


def _filled_jobs(emulator: EmulatorProcess, count: int = 3) -> list[dict[str, Any]]:
    """Return filled jobs below the top of the tree, with work email, employee id, title and department."""
    fields = "jobId,personId,contact.workEmail,contact.employee,title,department,startDateOrg"
    rows = emulator.get(JOBS, {"q": "open:filled", "fields": fields, "format": "minimal", "limit": 50}).json()["data"]
    return [row for row in rows if row["title"] != "Chief Executive Officer"][:count]


def _job(emulator: EmulatorProcess, job_id: str, day: str | None = None) -> dict[str, Any]:
    params = {"fields": "jobId,title,department,baseComp,open,personId", "format": "minimal"}
    if day is not None:
        params["date"] = day
    return emulator.get(f"{JOBS}/{job_id}", params).json()


def _day(emulator: EmulatorProcess, offset: int) -> str:
    return (date.fromisoformat(emulator.today) + timedelta(days=offset)).isoformat()


@pytest.fixture
def quick(emulator: EmulatorProcess) -> EmulatorProcess:
    """The session emulator with imports that finish on the first read."""
    emulator.set_import_settings(seconds=0, mode="normal")
    return emulator


class TestImportHappyPath:
    def test_response_pending(self, emulator: EmulatorProcess) -> None:
        response = emulator.import_csv("Work Email,Title\nnobody@example.com,X\n", _flags())
        assert response.status_code == 200
        assert response.json()["status"] == "PENDING"

    def test_response_progress_zero(self, emulator: EmulatorProcess) -> None:
        process = emulator.import_csv("Work Email,Title\nnobody@example.com,X\n", _flags()).json()
        assert process["progress"] == 0

    def test_response_ids(self, emulator: EmulatorProcess) -> None:
        process = emulator.import_csv("Work Email,Title\nnobody@example.com,X\n", _flags()).json()
        assert HEX24.match(process["id"])
        assert process["orgId"] == emulator.org_id

    def test_run_user_is_app(self, emulator: EmulatorProcess) -> None:
        process = emulator.import_csv("Work Email,Title\nnobody@example.com,X\n", _flags()).json()
        users = emulator.get("/v1/user", {"orgId": emulator.org_id}).json()["data"]
        app_ids = [user["id"] for user in users if user["type"] == "APP"]
        assert process["runUserId"] in app_ids
        assert process["createId"] == process["runUserId"]

    def test_type_and_label(self, emulator: EmulatorProcess) -> None:
        process = emulator.import_csv("Work Email\nnobody@example.com\n", _flags(), filename="pay.csv").json()
        assert process["type"] == "CSV Data Org Engine Import"
        assert process["label"] == "CSV import pay.csv"

    def test_hire_in_find_jobs(self, quick: EmulatorProcess) -> None:
        csv = "Work Email,First Name,Last Name,Title,Department\nada.new@acme.example.com,Ada,Nú,Analyst,Finance\n"
        process = quick.import_and_wait(csv, _flags(upsert="true", createGroups="true"))
        assert process["status"] == "DONE"
        rows = quick.get(JOBS, {"q": "contact.workEmail:ada.new", "fields": "title,name.first,name.last,open",
                                "format": "minimal"}).json()["data"]
        assert rows == [{"title": "Analyst", "name.first": "Ada", "name.last": "Nú", "open": "filled"}]

    def test_hire_counted(self, quick: EmulatorProcess) -> None:
        before = quick.count_jobs()["jobCount"]
        quick.import_and_wait("Work Email\nnew.one@acme.example.com\n", _flags(upsert="true"))
        assert quick.count_jobs()["jobCount"] == before + 1

    def test_title_change_in_get_job(self, quick: EmulatorProcess) -> None:
        job = _filled_jobs(quick, 1)[0]
        quick.import_and_wait(f"Work Email,Title\n{job['contact.workEmail']},Chief Tester\n", _flags())
        assert _job(quick, job["jobId"])["title"] == "Chief Tester"

    def test_change_dated_by_column(self, quick: EmulatorProcess) -> None:
        job = _filled_jobs(quick, 1)[0]
        future = _day(quick, 10)
        quick.import_and_wait(f"Work Email,Title,Date\n{job['contact.workEmail']},Later Title,{future}\n", _flags())
        assert _job(quick, job["jobId"])["title"] == job["title"]
        assert _job(quick, job["jobId"], future)["title"] == "Later Title"

    def test_change_dated_by_default(self, quick: EmulatorProcess) -> None:
        job = _filled_jobs(quick, 1)[0]
        future = _day(quick, 5)
        quick.import_and_wait(f"Work Email,Title\n{job['contact.workEmail']},Default Dated\n",
                              _flags() | {"defaultChangeDate": future})
        assert _job(quick, job["jobId"], _day(quick, 4))["title"] == job["title"]
        assert _job(quick, job["jobId"], future)["title"] == "Default Dated"

    def test_department_move(self, quick: EmulatorProcess) -> None:
        job = _filled_jobs(quick, 1)[0]
        target = "Finance" if job["department"] != "Finance" else "Sales"
        quick.import_and_wait(f"Work Email,Department\n{job['contact.workEmail']},{target}\n",
                              _flags(createGroups="true"))
        assert _job(quick, job["jobId"])["department"] == target

    def test_pay_change(self, quick: EmulatorProcess) -> None:
        job = _filled_jobs(quick, 1)[0]
        quick.import_and_wait(f'Work Email,Base Comp,Currency\n{job["contact.workEmail"]},"$123,456",EUR\n', _flags())
        assert _job(quick, job["jobId"])["baseComp"] == {"interval": "YEARLY",
                                                         "pay": {"amount": 123456, "currency": "EUR", "places": 0}}

    def test_departure_opens_job(self, quick: EmulatorProcess) -> None:
        job = _filled_jobs(quick, 1)[0]
        last_day = _day(quick, 3)
        quick.import_and_wait(f"Work Email,End Date\n{job['contact.workEmail']},{last_day}\n", _flags())
        assert _job(quick, job["jobId"], last_day)["open"] == "filled"
        assert _job(quick, job["jobId"], _day(quick, 4))["open"] == "open"

    def test_match_by_employee_id(self, quick: EmulatorProcess) -> None:
        job = _filled_jobs(quick, 1)[0]
        quick.import_and_wait(f"Employee ID,Title\n{job['contact.employee']},By Employee\n", _flags())
        assert _job(quick, job["jobId"])["title"] == "By Employee"

    def test_match_ignores_email_case(self, quick: EmulatorProcess) -> None:
        job = _filled_jobs(quick, 1)[0]
        quick.import_and_wait(f"Work Email,Title\n{job['contact.workEmail'].upper()},Upper Match\n", _flags())
        assert _job(quick, job["jobId"])["title"] == "Upper Match"

    def test_results_counts(self, quick: EmulatorProcess) -> None:
        first, second = _filled_jobs(quick, 2)
        csv = (f"Work Email,Title\n{first['contact.workEmail']},Changed\n{second['contact.workEmail']},"
               f"{second['title']}\nbrand.new@acme.example.com,New\n,\n")
        process = quick.import_and_wait(csv, _flags(upsert="true"))
        assert process["results"] == {"rowCount": 4, "createCount": 1, "updateCount": 1, "unchangedCount": 1,
                                      "errorCount": 0, "skippedCount": 1}


class TestImportParameters:
    @pytest.mark.parametrize("name", sorted(SPEC_PARAMS), ids=sorted(SPEC_PARAMS))
    def test_spec_name_accepted(self, emulator: EmulatorProcess, name: str) -> None:
        process = emulator.import_csv("Work Email\nnobody@example.com\n", {name: SPEC_PARAMS[name]}).json()
        assert name in process["options"]

    @pytest.mark.parametrize("name", sorted(SPEC_PARAMS), ids=sorted(SPEC_PARAMS))
    def test_spec_name_not_ignored(self, emulator: EmulatorProcess, name: str) -> None:
        emulator.import_csv("Work Email\nnobody@example.com\n", {name: SPEC_PARAMS[name]})
        assert emulator.imports()[-1]["ignored_params"] == []

    def test_boolean_typed_in_options(self, emulator: EmulatorProcess) -> None:
        process = emulator.import_csv("Work Email\nnobody@example.com\n", _flags(upsert="true")).json()
        assert process["options"]["upsert"] is True
        assert process["options"]["skipErrors"] is False

    @pytest.mark.parametrize("name", WRONG_NAMES, ids=WRONG_NAMES)
    def test_wrong_name_not_an_option(self, emulator: EmulatorProcess, name: str) -> None:
        process = emulator.import_csv("Work Email\nnobody@example.com\n", {name: "true"}).json()
        assert name not in process["options"]

    @pytest.mark.parametrize("name", WRONG_NAMES, ids=WRONG_NAMES)
    def test_wrong_name_recorded(self, emulator: EmulatorProcess, name: str) -> None:
        emulator.import_csv("Work Email\nnobody@example.com\n", {name: "true"})
        assert emulator.imports()[-1]["ignored_params"] == [name]
        assert emulator.requests_log()[-1]["ignored_params"] == [name]

    def test_wrong_case_has_no_effect(self, quick: EmulatorProcess) -> None:
        job = _filled_jobs(quick, 1)[0]
        process = quick.import_and_wait(f"Work Email,Department\n{job['contact.workEmail']},Brand New Dept\n",
                                        {"creategroups": "true"})
        assert process["status"] == "ERROR"
        assert "unknown department" in process["message"]

    def test_missing_booleans_false(self, emulator: EmulatorProcess) -> None:
        emulator.import_csv("Work Email\nnobody@example.com\n")
        flags = emulator.imports()[-1]["flags"]
        assert {name: flags[name] for name in REQUIRED_BOOLEANS} == {name: False for name in REQUIRED_BOOLEANS}

    def test_missing_upsert_rejects_new(self, quick: EmulatorProcess) -> None:
        process = quick.import_and_wait("Work Email\nnot.there@acme.example.com\n")
        assert process["status"] == "ERROR"
        assert "no person matches not.there@acme.example.com" in process["message"]

    def test_query_recorded_verbatim(self, emulator: EmulatorProcess) -> None:
        emulator.import_csv("Work Email\nnobody@example.com\n", [("upsert", "TRUE"), ("importSource", "a b")])
        assert emulator.imports()[-1]["query"] == {"upsert": ["TRUE"], "importSource": ["a b"]}

    @pytest.mark.parametrize(("name", "value"), [("upsert", "yes"), ("skipErrors", ""),
                                                 ("defaultChangeDate", "12/31/2025")],
                             ids=["boolean-yes", "boolean-empty", "us-default-date"])
    def test_invalid_value_400(self, emulator: EmulatorProcess, name: str, value: str) -> None:
        response = emulator.import_csv("Work Email\nnobody@example.com\n", {name: value})
        assert response.status_code == 400
        assert name in response.json()["message"]


# (id, CSV row after the identifier, header, expected column, expected message part)
ROW_ERRORS = [
    ("invalid-date", "Start Date", "2025-13-40", "Start Date", "invalid date"),
    ("invalid-row-date", "Date", "yesterday", "Date", "invalid date"),
    ("amount", "Base Comp", "lots", "Base Comp", "invalid amount"),
    ("currency", "Currency", "DOLLARS", "Currency", "unknown currency code"),
    ("department", "Department", "Nowhere Dept", "Department", "unknown department"),
]


class TestRowErrors:
    @pytest.mark.parametrize(("header", "value", "column", "text"), [case[1:] for case in ROW_ERRORS],
                             ids=[case[0] for case in ROW_ERRORS])
    def test_whole_import_fails(self, quick: EmulatorProcess, header: str, value: str, column: str,
                                text: str) -> None:
        job = _filled_jobs(quick, 1)[0]
        process = quick.import_and_wait(f"Work Email,{header}\n{job['contact.workEmail']},{value}\n", _flags())
        assert process["status"] == "ERROR"
        assert f"row 1, column {column}: {text}" in process["message"]

    def test_empty_identifier(self, quick: EmulatorProcess) -> None:
        process = quick.import_and_wait("Work Email,Title\n,Lost\n", _flags(upsert="true"))
        assert "row 1, column Work Email: the identifier is empty" in process["message"]

    def test_skip_off_applies_nothing(self, quick: EmulatorProcess) -> None:
        good = _filled_jobs(quick, 1)[0]
        csv = f"Work Email,Title,Currency\n{good['contact.workEmail']},Should Not Apply,USD\nx@y.z,Bad,ZZZ\n"
        process = quick.import_and_wait(csv, _flags(skipErrors="false"))
        assert process["status"] == "ERROR"
        assert "row 2" in process["message"]
        assert _job(quick, good["jobId"])["title"] == good["title"]

    def test_skip_on_applies_good_rows(self, quick: EmulatorProcess) -> None:
        good = _filled_jobs(quick, 1)[0]
        csv = f"Work Email,Title,Currency\n{good['contact.workEmail']},Applied,USD\nx@y.z,Bad,ZZZ\n"
        process = quick.import_and_wait(csv, _flags(skipErrors="true"))
        assert process["status"] == "DONE"
        assert _job(quick, good["jobId"])["title"] == "Applied"

    def test_skip_on_logs_row_error(self, quick: EmulatorProcess) -> None:
        good = _filled_jobs(quick, 1)[0]
        csv = f"Work Email,Title,Currency\n{good['contact.workEmail']},Applied,USD\nx@y.z,Bad,ZZZ\n"
        process = quick.import_and_wait(csv, _flags(skipErrors="true"))
        errors = [entry for entry in process["logDataList"] if entry["level"] == "ERROR"]
        assert [entry["data"] for entry in errors] == [{"row": 2, "column": "Currency"}]

    def test_skip_on_counts_errors(self, quick: EmulatorProcess) -> None:
        good = _filled_jobs(quick, 1)[0]
        csv = f"Work Email,Title,Currency\n{good['contact.workEmail']},Applied,USD\nx@y.z,Bad,ZZZ\n"
        process = quick.import_and_wait(csv, _flags(skipErrors="true"))
        assert process["results"]["errorCount"] == 1
        assert process["results"]["updateCount"] == 1

    def test_done_with_errors_filter(self, quick: EmulatorProcess) -> None:
        process = quick.import_and_wait("Work Email,Currency\nx@y.z,ZZZ\n", _flags(skipErrors="true"))
        found = quick.api("GET", "/v1/org/{org}/process", params={"statuses": "DONE_WITH_ERRORS"}).json()["data"]
        assert [item["id"] for item in found] == [process["id"]]


class TestDryRun:
    def test_applies_nothing(self, quick: EmulatorProcess) -> None:
        job = _filled_jobs(quick, 1)[0]
        before = quick.count_jobs()["jobCount"]
        csv = f"Work Email,Title\n{job['contact.workEmail']},Dry Title\ndry.new@acme.example.com,New\n"
        process = quick.import_and_wait(csv, _flags(importDryRun="true", upsert="true"))
        assert process["status"] == "DONE"
        assert _job(quick, job["jobId"])["title"] == job["title"]
        assert quick.count_jobs()["jobCount"] == before

    def test_reports_counts(self, quick: EmulatorProcess) -> None:
        job = _filled_jobs(quick, 1)[0]
        csv = f"Work Email,Title\n{job['contact.workEmail']},Dry Title\ndry.new@acme.example.com,New\n"
        process = quick.import_and_wait(csv, _flags(importDryRun="true", upsert="true"))
        assert process["results"]["createCount"] == 1
        assert process["results"]["updateCount"] == 1

    def test_import_after_dry_run(self, quick: EmulatorProcess) -> None:
        job = _filled_jobs(quick, 1)[0]
        quick.import_and_wait(f"Work Email,Title\n{job['contact.workEmail']},After Dry\n",
                              _flags(importDryRun="true") | {"importAfterDryRun": "true"})
        assert _job(quick, job["jobId"])["title"] == "After Dry"


class TestCsvFormat:
    def test_bom_tolerated(self, quick: EmulatorProcess) -> None:
        job = _filled_jobs(quick, 1)[0]
        data = b"\xef\xbb\xbf" + f"Work Email,Title\n{job['contact.workEmail']},With BOM\n".encode()
        process = quick.import_and_wait(data, _flags())
        assert process["status"] == "DONE"
        assert _job(quick, job["jobId"])["title"] == "With BOM"

    def test_latin1_rejected(self, quick: EmulatorProcess) -> None:
        process = quick.import_and_wait("Work Email,Title\nx@y.z,Café\n".encode("latin-1"), _flags())
        assert process["status"] == "ERROR"
        assert "not valid UTF-8" in process["message"]

    def test_unknown_column_rejected(self, quick: EmulatorProcess) -> None:
        process = quick.import_and_wait("Work Email,Shoe Size\nx@y.z,44\n", _flags())
        assert "unknown column 'Shoe Size'" in process["message"]

    def test_identifier_must_lead(self, quick: EmulatorProcess) -> None:
        process = quick.import_and_wait("Title,Work Email\nX,x@y.z\n", _flags())
        assert "leftmost column" in process["message"]

    def test_header_case_and_spaces(self, quick: EmulatorProcess) -> None:
        job = _filled_jobs(quick, 1)[0]
        process = quick.import_and_wait(f"contact.workemail,T I T L E\n{job['contact.workEmail']},Spaced\n", _flags())
        assert process["status"] == "DONE"
        assert _job(quick, job["jobId"])["title"] == "Spaced"

    def test_us_date_accepted(self, quick: EmulatorProcess) -> None:
        job = _filled_jobs(quick, 1)[0]
        future = date.fromisoformat(_day(quick, 7))
        us_date = f"{future.month}/{future.day}/{future.year}"
        quick.import_and_wait(f"Work Email,Title,Date\n{job['contact.workEmail']},US Dated,{us_date}\n", _flags())
        assert _job(quick, job["jobId"], future.isoformat())["title"] == "US Dated"

    def test_new_department_created(self, quick: EmulatorProcess) -> None:
        quick.import_and_wait("Work Email,Department\nnew.dept@acme.example.com,Quantum Lab\n",
                              _flags(upsert="true", createGroups="true"))
        assert quick.count_jobs(q='department:"Quantum Lab"')["jobCount"] == 1


class TestRequestErrors:
    def test_missing_file_part(self, emulator: EmulatorProcess) -> None:
        response = emulator.import_csv("Work Email\nx@y.z\n", _flags(), part_name="upload")
        assert response.status_code == 400
        assert response.json()["message"] == "missing multipart part \"file\" with the CSV data"

    def test_not_multipart(self, emulator: EmulatorProcess) -> None:
        response = emulator.api("POST", "/v1/org/{org}/import/csv/data", data=b"Work Email\n",
                                headers={"Content-Type": "text/csv"})
        assert response.status_code == 400

    def test_get_not_allowed(self, emulator: EmulatorProcess) -> None:
        response = emulator.api("GET", "/v1/org/{org}/import/csv/data")
        assert response.status_code == 405
        assert response.headers["Allow"] == "POST"


class TestPermission:
    def test_forbidden_without_editor(self, emulator: EmulatorProcess) -> None:
        emulator.add_token("reader", ["job.read", "person.read", "user.read"])
        response = emulator.import_csv("Work Email\nx@y.z\n", _flags(), token="reader")
        assert response.status_code == 403
        assert response.json() == {"code": 403,
                                   "message": "permission denied: the app needs the Primary Editor permission"}

    def test_editor_token_allowed(self, emulator: EmulatorProcess) -> None:
        emulator.add_token("editor", ["primary.editor"])
        assert emulator.import_csv("Work Email\nx@y.z\n", _flags(), token="editor").status_code == 200

    def test_forbidden_records_nothing(self, emulator: EmulatorProcess) -> None:
        emulator.add_token("reader", ["job.read"])
        emulator.import_csv("Work Email\nx@y.z\n", _flags(), token="reader")
        assert emulator.imports() == []


MODES = [("reject_file", "ERROR"), ("bad_row", "ERROR"), ("normal", "DONE")]


class TestImportModes:
    @pytest.mark.parametrize(("mode", "status"), MODES, ids=[mode for mode, _ in MODES])
    def test_final_status(self, emulator: EmulatorProcess, mode: str, status: str) -> None:
        emulator.set_import_settings(seconds=0, mode=mode)
        first, second = _filled_jobs(emulator, 2)
        csv = f"Work Email,Title\n{first['contact.workEmail']},A\n{second['contact.workEmail']},B\n"
        assert emulator.import_and_wait(csv, _flags())["status"] == status

    def test_reject_file_applies_nothing(self, emulator: EmulatorProcess) -> None:
        emulator.set_import_settings(seconds=0, mode="reject_file")
        job = _filled_jobs(emulator, 1)[0]
        process = emulator.import_and_wait(f"Work Email,Title\n{job['contact.workEmail']},Rejected\n", _flags())
        assert process["message"].startswith("invalid file")
        assert _job(emulator, job["jobId"])["title"] == job["title"]

    def test_bad_row_names_row_two(self, emulator: EmulatorProcess) -> None:
        emulator.set_import_settings(seconds=0, mode="bad_row")
        first, second = _filled_jobs(emulator, 2)
        csv = f"Work Email,Title\n{first['contact.workEmail']},A\n{second['contact.workEmail']},B\n"
        assert "row 2" in emulator.import_and_wait(csv, _flags())["message"]

    def test_bad_row_skipped(self, emulator: EmulatorProcess) -> None:
        emulator.set_import_settings(seconds=0, mode="bad_row")
        first, second = _filled_jobs(emulator, 2)
        csv = f"Work Email,Title\n{first['contact.workEmail']},Kept\n{second['contact.workEmail']},Lost\n"
        process = emulator.import_and_wait(csv, _flags(skipErrors="true"))
        assert process["status"] == "DONE"
        assert _job(emulator, first["jobId"])["title"] == "Kept"
        assert _job(emulator, second["jobId"])["title"] == second["title"]

    def test_never_finish_stays_running(self, emulator: EmulatorProcess) -> None:
        emulator.set_import_settings(seconds=0.2, mode="never_finish")
        process_id = emulator.import_csv("Work Email\nx@y.z\n", _flags()).json()["id"]
        time.sleep(0.4)
        process = emulator.get_process(process_id)
        assert process["status"] == "RUNNING"
        assert process["progress"] < 1

    def test_invalid_mode_rejected(self, emulator: EmulatorProcess) -> None:
        response = emulator.session.post(f"{emulator.url}/_emulator/imports/settings", json={"mode": "explode"},
                                         timeout=10)
        assert response.status_code == 400

    def test_reset_restores_settings(self, emulator: EmulatorProcess) -> None:
        emulator.set_import_settings(seconds=0, mode="bad_row")
        emulator.reset()
        assert emulator.session.get(f"{emulator.url}/_emulator/imports/settings", timeout=10).json() == {
            "seconds": 2.0, "mode": "normal"}


class TestLifecycle:
    def test_pending_running_done(self, emulator: EmulatorProcess) -> None:
        emulator.set_import_settings(seconds=1.0)
        started = time.monotonic()
        process_id = emulator.import_csv("Work Email\nx@y.z\n", _flags(upsert="true")).json()["id"]
        seen = []
        while time.monotonic() - started < 5:
            status = emulator.get_process(process_id)["status"]
            if not seen or seen[-1] != status:
                seen.append(status)
            if status in ("DONE", "ERROR"):
                break
            time.sleep(0.05)
        assert seen == ["PENDING", "RUNNING", "DONE"]

    def test_not_done_early(self, emulator: EmulatorProcess) -> None:
        emulator.set_import_settings(seconds=1.0)
        process_id = emulator.import_csv("Work Email\nx@y.z\n", _flags(upsert="true")).json()["id"]
        time.sleep(0.5)
        process = emulator.get_process(process_id)
        assert process["status"] == "RUNNING"
        assert 0 < process["progress"] < 1

    def test_progress_never_falls(self, emulator: EmulatorProcess) -> None:
        emulator.set_import_settings(seconds=0.6)
        process_id = emulator.import_csv("Work Email\nx@y.z\n", _flags(upsert="true")).json()["id"]
        emulator.wait_process(process_id, interval=0.03)
        progress = [entry["progress"] for entry in emulator.process_history(process_id)]
        assert progress == sorted(progress)
        assert progress[-1] == 1

    def test_timestamps_set(self, quick: EmulatorProcess) -> None:
        process = quick.import_and_wait("Work Email\nx@y.z\n", _flags(upsert="true"))
        assert process["startAt"] >= process["createAt"]
        assert process["endAt"] >= process["startAt"]

    def test_find_jobs_advances_import(self, quick: EmulatorProcess) -> None:
        quick.import_csv("Work Email\nquiet.hire@acme.example.com\n", _flags(upsert="true"))
        assert quick.count_jobs(q="contact.workEmail:quiet.hire")["jobCount"] == 1


class TestUploadLog:
    def test_counts_uploads(self, emulator: EmulatorProcess) -> None:
        for _ in range(3):
            emulator.import_csv("Work Email\nx@y.z\n", _flags())
        assert len(emulator.imports()) == 3

    def test_records_process_id(self, emulator: EmulatorProcess) -> None:
        process = emulator.import_csv("Work Email\nx@y.z\n", _flags()).json()
        assert emulator.imports()[0]["process_id"] == process["id"]

    def test_records_text_and_hash(self, emulator: EmulatorProcess) -> None:
        text = "Work Email,Title\nx@y.z,Ünïcode\n"
        emulator.import_csv(text, _flags())
        record = emulator.imports()[0]
        assert record["text"] == text
        assert record["sha256"] == hashlib.sha256(text.encode()).hexdigest()

    def test_records_header_and_rows(self, emulator: EmulatorProcess) -> None:
        emulator.import_csv("Work Email,Title\na@b.c,X\nd@e.f,Y\n", _flags())
        record = emulator.imports()[0]
        assert record["header"] == ["Work Email", "Title"]
        assert record["row_count"] == 2

    def test_non_utf8_as_base64(self, emulator: EmulatorProcess) -> None:
        data = "Work Email\nzoë@y.z\n".encode("latin-1")
        emulator.import_csv(data, _flags())
        record = emulator.imports()[0]
        assert record["text"] is None
        assert base64.b64decode(record["base64"]) == data

    def test_records_outcome(self, quick: EmulatorProcess) -> None:
        process = quick.import_and_wait("Work Email\nx@y.z\n", _flags())
        assert quick.imports()[0]["outcome"]["status"] == process["status"]

    def test_delete_clears(self, emulator: EmulatorProcess) -> None:
        emulator.import_csv("Work Email\nx@y.z\n", _flags())
        emulator.clear_imports()
        assert emulator.imports() == []

    def test_reset_clears(self, emulator: EmulatorProcess) -> None:
        emulator.import_csv("Work Email\nx@y.z\n", _flags())
        emulator.reset()
        assert emulator.imports() == []

    def test_reset_restores_org(self, quick: EmulatorProcess) -> None:
        before = quick.count_jobs()
        quick.import_and_wait("Work Email\nrestored@acme.example.com\n", _flags(upsert="true"))
        quick.reset()
        assert quick.count_jobs() == before
