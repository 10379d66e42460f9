"""Contract tests: live emulator responses validated against ChartHop's published OpenAPI files.

The files declare ``openapi: 3.2.0``; they validate as OpenAPI 3.1, so the version string is set to
3.1.0 in memory before openapi-core reads them. Two more in-memory changes, both explained where
they are made: the server list points at the emulator, and the row maps of ResultsData accept any
JSON value.

Deliberate differences that these tests work around rather than check:

* Error bodies ``{"code", "message"}`` are not described by the spec (its 4xx responses have no
  content), so only the status code is checked against the declared responses.
* ``format=minimal`` is not among the formats the spec's description lists (the parameter itself is a
  free string), yet ChartHop's own sync tool uses it, so the emulator implements it.
* The spec does not declare 401 on getJob and findUsers, 403 on any of these operations, or 400 on
  countPersons. The emulator returns them anyway, and they are only checked in the emulator's own tests.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from charthop_emulator.server import OPERATIONS, match_route
from tests.plugins.emulator_fixtures import EmulatorProcess

SPEC_FILES = {"job": "charthop-job-api-openapi.yml", "person": "charthop-person-api-openapi.yml",
              "user": "charthop-user-api-openapi.yml", "import": "charthop-import-api-openapi.yml",
              "process": "charthop-process-api-openapi.yml"}
SPEC_OF_OPERATION = {"findJobs": "job", "countJobs": "job", "getJob": "job", "findPersons": "person",
                     "countPersons": "person", "findUsers": "user", "importDataCsv": "import",
                     "getProcess": "process", "updateProcess": "process", "findProcesses": "process",
                     "getProcessLogFile": "process"}


def _load_spec(folder: Path, name: str) -> dict[str, Any]:
    with open(folder / SPEC_FILES[name], encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)
    spec["openapi"] = "3.1.0"
    return spec


def _operations(spec: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Map operationId to (path template, operation object)."""
    found = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                found[operation["operationId"]] = (path, {**operation, "method": method})
    return found


@pytest.fixture(scope="module")
def raw_specs(openapi_dir: Path) -> dict[str, dict[str, Any]]:
    return {name: _load_spec(openapi_dir, name) for name in SPEC_FILES}


@pytest.fixture(scope="module")
def apis(raw_specs: dict[str, dict[str, Any]], emulator_process: EmulatorProcess) -> dict[str, OpenAPI]:
    """openapi-core validators, one per spec file, pointed at the emulator."""
    validators = {}
    for name, original in raw_specs.items():
        spec = copy.deepcopy(original)
        # The files list only placeholder servers (https://localhost); request paths are matched against these.
        spec["servers"] = [{"url": emulator_process.url}]
        results_data = spec["components"]["schemas"].get("ResultsData")
        if results_data is not None:
            # The spec gives row values as `additionalProperties: {type: object}`, the Swagger rendering of
            # Java's Map<String, Object>. Real rows carry strings, numbers, lists and nulls (ChartHop's own
            # sync tool reads string values from them), so any JSON value is accepted here.
            results_data["properties"]["data"]["items"]["additionalProperties"] = {}
            results_data["properties"]["totalRow"]["additionalProperties"] = {}
        validators[name] = OpenAPI.from_dict(spec)
    return validators


def _call(emulator: EmulatorProcess, path: str, params: Any, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {"Authorization": ""}
    return emulator.session.get(f"{emulator.url}{path.format(org=emulator.org_id)}", params=params,
                                headers=headers, timeout=30)


# (operation, path, query parameters, token, expected status); token "valid" means the emulator's token.
CASES = [
    ("findJobs", "/v2/org/{org}/job", {"limit": 5}, "valid", 200),
    ("findJobs", "/v2/org/{org}/job", {"limit": 5, "format": "minimal", "q": "open:filled",
                                       "fields": "name.first,name.last,title,contact.workEmail,workAddress.country"},
     "valid", 200),
    ("findJobs", "/v2/org/{org}/job", {"limit": 50, "fields": "jobId,name,department,baseComp,managerIds,perfRating,"
                                                             "esquemaDeContratacin,tenure,daysOpen"}, "valid", 200),
    ("findJobs", "/v2/org/{org}/job", [("fieldsList", "jobId"), ("fieldsList", "title"), ("limit", "3")], "valid",
     200),
    ("findJobs", "/v2/org/{org}/job", {"q": "salary>5"}, "valid", 400),
    ("findJobs", "/v2/org/{org}/job", {}, None, 401),
    ("findJobs", "/v2/org/nope/job", {}, "valid", 404),
    ("countJobs", "/v2/org/{org}/job/count", {"q": "tenure>=12", "date": "2024-01-31"}, "valid", 200),
    ("countJobs", "/v2/org/{org}/job/count", {"date": "31/01/2024"}, "valid", 400),
    ("countJobs", "/v2/org/{org}/job/count", {}, None, 401),
    ("countJobs", "/v2/org/nope/job/count", {}, "valid", 404),
    ("getJob", "/v2/org/{org}/job/{job}", {"fields": "jobId,name,baseComp"}, "valid", 200),
    ("getJob", "/v2/org/{org}/job/{job}", {"fields": "nope"}, "valid", 400),
    ("getJob", "/v2/org/{org}/job/000000000000000000000000", {}, "valid", 404),
    ("findPersons", "/v2/org/{org}/person", {"limit": 5}, "valid", 200),
    ("findPersons", "/v2/org/{org}/person", {"limit": 20, "includeAll": "true",
                                             "fields": "id,jobId,name,contact.employee,endDateOrg"}, "valid", 200),
    ("findPersons", "/v2/org/{org}/person", {"limit": "many"}, "valid", 400),
    ("findPersons", "/v2/org/{org}/person", {}, None, 401),
    ("findPersons", "/v2/org/nope/person", {}, "valid", 404),
    ("countPersons", "/v2/org/{org}/person/count", {"includeAll": "true"}, "valid", 200),
    ("countPersons", "/v2/org/{org}/person/count", {}, None, 401),
    ("countPersons", "/v2/org/nope/person/count", {}, "valid", 404),
    ("findUsers", "/v1/user", {"orgId": "{org}"}, "valid", 200),
    ("findUsers", "/v1/user", {"orgId": "{org}", "limit": 2, "q": "a"}, "valid", 200),
    ("findUsers", "/v1/user", {}, "valid", 400),
    ("findUsers", "/v1/user", {"orgId": "nope"}, "valid", 404),
]


def _case_id(case: tuple[Any, ...]) -> str:
    return f"{case[0]}-{case[4]}"


@pytest.fixture(scope="module")
def some_job_id(emulator_process: EmulatorProcess) -> str:
    return emulator_process.get("/v2/org/{org}/job", {"limit": 1}).json()["data"][0]["jobId"]


def _resolve(case: tuple[Any, ...], emulator: EmulatorProcess, job_id: str) -> tuple[str, Any, str | None]:
    _, path, params, token, _ = case
    path = path.replace("{job}", job_id)
    if isinstance(params, dict):
        params = {key: str(value).replace("{org}", emulator.org_id) for key, value in params.items()}
    return path, params, emulator.token if token == "valid" else None


class TestResponses:
    @pytest.mark.parametrize("case", CASES, ids=[_case_id(case) for case in CASES])
    def test_status_as_expected(self, emulator: EmulatorProcess, some_job_id: str, case: tuple[Any, ...]) -> None:
        response = _call(emulator, *_resolve(case, emulator, some_job_id))
        assert response.status_code == case[4], response.text

    @pytest.mark.parametrize("case", CASES, ids=[_case_id(case) for case in CASES])
    def test_status_declared(self, raw_specs: dict[str, dict[str, Any]], case: tuple[Any, ...]) -> None:
        operation = case[0]
        _, declared = _operations(raw_specs[SPEC_OF_OPERATION[operation]])[operation]
        assert str(case[4]) in declared["responses"]

    @pytest.mark.parametrize("case", CASES, ids=[_case_id(case) for case in CASES])
    def test_response_valid(self, emulator: EmulatorProcess, apis: dict[str, OpenAPI], some_job_id: str,
                            case: tuple[Any, ...]) -> None:
        response = _call(emulator, *_resolve(case, emulator, some_job_id))
        api = apis[SPEC_OF_OPERATION[case[0]]]
        api.validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))

    @pytest.mark.parametrize("case", [case for case in CASES if case[4] == 200],
                             ids=[_case_id(case) for case in CASES if case[4] == 200])
    def test_request_valid(self, emulator: EmulatorProcess, apis: dict[str, OpenAPI], some_job_id: str,
                           case: tuple[Any, ...]) -> None:
        response = _call(emulator, *_resolve(case, emulator, some_job_id))
        api = apis[SPEC_OF_OPERATION[case[0]]]
        api.validate_request(RequestsOpenAPIRequest(response.request))


SNAPSHOT_CASES = [("findJobs", "/v2/org/{org}/job"), ("countJobs", "/v2/org/{org}/job/count"),
                  ("findPersons", "/v2/org/{org}/person")]


class TestSnapshotBuilding:
    @pytest.mark.parametrize(("operation", "path"), SNAPSHOT_CASES, ids=[case[0] for case in SNAPSHOT_CASES])
    def test_202_valid(self, emulator: EmulatorProcess, apis: dict[str, OpenAPI], operation: str, path: str) -> None:
        emulator.set_faults([{"kind": "snapshot_building", "times": 1}])
        response = _call(emulator, path, {}, emulator.token)
        assert response.status_code == 202
        apis[SPEC_OF_OPERATION[operation]].validate_response(
            RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response)
        )


class TestDeclarations:
    @pytest.mark.parametrize("operation", sorted(OPERATIONS), ids=sorted(OPERATIONS))
    def test_operation_in_spec(self, raw_specs: dict[str, dict[str, Any]], operation: str) -> None:
        assert operation in _operations(raw_specs[SPEC_OF_OPERATION[operation]])

    @pytest.mark.parametrize("operation", sorted(OPERATIONS), ids=sorted(OPERATIONS))
    def test_method_as_declared(self, raw_specs: dict[str, dict[str, Any]], operation: str) -> None:
        _, declared = _operations(raw_specs[SPEC_OF_OPERATION[operation]])[operation]
        assert declared["method"] == OPERATIONS[operation].method.lower()

    @pytest.mark.parametrize("operation", sorted(OPERATIONS), ids=sorted(OPERATIONS))
    def test_spec_path_routes_here(self, raw_specs: dict[str, dict[str, Any]], operation: str) -> None:
        template, _ = _operations(raw_specs[SPEC_OF_OPERATION[operation]])[operation]
        path = template.replace("{orgId}", "acme")
        for name in ("{jobId}", "{processId}"):
            path = path.replace(name, "5f3a9c0e1d2b4a5c6d7e8f90")
        route = match_route(path, OPERATIONS[operation].method)
        assert route is not None
        assert route.operation.name == operation

    @pytest.mark.parametrize("operation", sorted(OPERATIONS), ids=sorted(OPERATIONS))
    def test_accepted_params_declared(self, raw_specs: dict[str, dict[str, Any]], operation: str) -> None:
        _, declared = _operations(raw_specs[SPEC_OF_OPERATION[operation]])[operation]
        declared_query = {parameter["name"] for parameter in declared.get("parameters", [])
                          if parameter["in"] == "query"}
        assert OPERATIONS[operation].params <= declared_query
