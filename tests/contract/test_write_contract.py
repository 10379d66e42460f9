"""Contract tests of the write side: importDataCsv and the process operations against ChartHop's OpenAPI files.

As for the read operations, the version string is set to 3.1.0 and the servers point at the emulator.
Four more in-memory changes, each explained where it is made:

* ``Process.results`` and ``LogData.data`` accept any JSON value, not only objects;
* the uploaded ``file`` part is described with the OpenAPI 3.1 ``contentMediaType``;
* updateProcess gets a 200 response with a Process, because the spec declares no success response;
* ``Event.payload`` accepts any JSON value (for the webhook events, checked with a JSON Schema validator).

Error bodies are not described by the spec, so error cases check only that their status is declared.
The spec declares no 404 on these operations, and the emulator's 404s are checked in its own tests.
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
from openapi_schema_validator import OAS31Validator

from tests.plugins.emulator_fixtures import EmulatorProcess

SPEC_FILES = {"import": "charthop-import-api-openapi.yml", "process": "charthop-process-api-openapi.yml",
              "event": "charthop-event-api-openapi.yml"}
FLAGS = {"skipErrors": "true", "upsert": "true", "createGroups": "true", "disableSyncHireDate": "false",
         "disableOverwritePerson": "false", "importDryRun": "false"}
CSV = "Work Email,Title,Currency\ncontract.hire@acme.example.com,Analyst,USD\nbad.row@acme.example.com,X,ZZZ\n"


def _load(folder: Path, name: str) -> dict[str, Any]:
    with open(folder / SPEC_FILES[name], encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)
    spec["openapi"] = "3.1.0"
    return spec


def _relax_maps(spec: dict[str, Any]) -> None:
    """Let the Map<String, Object> fields hold any JSON value.

    The spec renders them as ``additionalProperties: {type: object}``, the Swagger form of Java's
    Map<String, Object>. Counts in ``results`` and row numbers in ``LogData.data`` are numbers.
    """
    schemas = spec["components"]["schemas"]
    if "Process" in schemas:
        schemas["Process"]["properties"]["results"]["additionalProperties"] = {}
    if "UpdateProcess" in schemas:
        schemas["UpdateProcess"]["properties"]["results"]["additionalProperties"] = {}
    if "LogData" in schemas:
        schemas["LogData"]["properties"]["data"]["additionalProperties"] = {}


@pytest.fixture(scope="module")
def raw_specs(openapi_dir: Path) -> dict[str, dict[str, Any]]:
    return {name: _load(openapi_dir, name) for name in SPEC_FILES}


@pytest.fixture(scope="module")
def apis(raw_specs: dict[str, dict[str, Any]], emulator_process: EmulatorProcess) -> dict[str, OpenAPI]:
    validators = {}
    for name in ("import", "process"):
        spec = copy.deepcopy(raw_specs[name])
        spec["servers"] = [{"url": emulator_process.url}]
        _relax_maps(spec)
        if name == "import":
            # OpenAPI 3.1 describes raw file content with contentMediaType; the converted file keeps the
            # 3.0 form `type: string, format: binary`, which a 3.1 validator checks as text.
            upload = spec["paths"]["/v1/org/{orgId}/import/csv/data"]["post"]["requestBody"]["content"]
            upload["multipart/form-data"]["schema"]["properties"]["file"] = {
                "contentMediaType": "application/octet-stream"}
        if name == "process":
            # The spec declares no success response for updateProcess; the emulator returns 200 with the Process.
            patch = spec["paths"]["/v1/org/{orgId}/process/{processId}"]["patch"]
            patch["responses"]["200"] = {"description": "updated process", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Process"}}}}
        validators[name] = OpenAPI.from_dict(spec)
    return validators


@pytest.fixture
def finished_import(emulator: EmulatorProcess) -> dict[str, Any]:
    """A DONE import with one created row and one row error, so results and logDataList are filled."""
    emulator.set_import_settings(seconds=0)
    return emulator.import_and_wait(CSV, FLAGS | {"importSource": "contract"})


def _validate(api: OpenAPI, response: requests.Response) -> None:
    api.validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))


def _declared(spec: dict[str, Any], path: str, method: str) -> set[str]:
    return set(spec["paths"][path][method]["responses"])


class TestImportDataCsv:
    def test_pending_response_valid(self, emulator: EmulatorProcess, apis: dict[str, OpenAPI]) -> None:
        response = emulator.import_csv(CSV, FLAGS)
        assert response.status_code == 200
        _validate(apis["import"], response)

    def test_request_valid(self, emulator: EmulatorProcess, apis: dict[str, OpenAPI]) -> None:
        response = emulator.import_csv(CSV, FLAGS | {"importSource": "contract", "defaultChangeDate": "2025-01-01"})
        apis["import"].validate_request(RequestsOpenAPIRequest(response.request))

    @pytest.mark.parametrize(("case", "status"), [("missing-file", 400), ("no-token", 401), ("reader", 403)],
                             ids=["missing-file", "no-token", "reader"])
    def test_error_status_declared(self, emulator: EmulatorProcess, raw_specs: dict[str, dict[str, Any]],
                                   case: str, status: int) -> None:
        emulator.add_token("reader", ["job.read"])
        if case == "missing-file":
            response = emulator.import_csv(CSV, FLAGS, part_name="upload")
        elif case == "no-token":
            response = emulator.api("POST", "/v1/org/{org}/import/csv/data", headers={"Authorization": ""},
                                    files={"file": ("a.csv", CSV.encode())})
        else:
            response = emulator.import_csv(CSV, FLAGS, token="reader")
        assert response.status_code == status
        assert str(status) in _declared(raw_specs["import"], "/v1/org/{orgId}/import/csv/data", "post")


class TestProcessOperations:
    def test_get_finished_valid(self, emulator: EmulatorProcess, apis: dict[str, OpenAPI],
                                finished_import: dict[str, Any]) -> None:
        response = emulator.api("GET", f"/v1/org/{{org}}/process/{finished_import['id']}")
        assert response.status_code == 200
        _validate(apis["process"], response)

    def test_get_with_state_valid(self, emulator: EmulatorProcess, apis: dict[str, OpenAPI]) -> None:
        process = emulator.create_process(label="Sync", state={"cursor": "abc"})
        response = emulator.api("GET", f"/v1/org/{{org}}/process/{process['id']}", params={"showState": "true"})
        _validate(apis["process"], response)

    def test_update_valid(self, emulator: EmulatorProcess, apis: dict[str, OpenAPI]) -> None:
        process = emulator.sync_now()
        body = {"status": "DONE", "progress": 1.0, "message": "synced", "results": {"rows": 3},
                "logDataList": [{"level": "INFO", "at": "2026-01-01T00:00:00Z", "message": "ok", "data": {}}]}
        response = emulator.update_process(process["id"], body)
        assert response.status_code == 200
        _validate(apis["process"], response)
        apis["process"].validate_request(RequestsOpenAPIRequest(response.request))

    def test_update_400_declared(self, emulator: EmulatorProcess, raw_specs: dict[str, dict[str, Any]]) -> None:
        process = emulator.sync_now()
        response = emulator.update_process(process["id"], {"status": "FINISHED"})
        assert response.status_code == 400
        assert "400" in _declared(raw_specs["process"], "/v1/org/{orgId}/process/{processId}", "patch")

    def test_find_valid(self, emulator: EmulatorProcess, apis: dict[str, OpenAPI],
                        finished_import: dict[str, Any]) -> None:
        emulator.sync_now()
        response = emulator.api("GET", "/v1/org/{org}/process", params={"limit": 1})
        assert response.status_code == 200
        assert "next" in response.json()
        _validate(apis["process"], response)

    def test_find_filtered_valid(self, emulator: EmulatorProcess, apis: dict[str, OpenAPI],
                                 finished_import: dict[str, Any]) -> None:
        params = {"statuses": "DONE,DONE_WITH_ERRORS", "searchValue": "contract", "createAtFrom":
                  finished_import["createAt"], "processTypes": finished_import["type"]}
        response = emulator.api("GET", "/v1/org/{org}/process", params=params)
        assert [item["id"] for item in response.json()["data"]] == [finished_import["id"]]
        _validate(apis["process"], response)

    def test_find_400_declared(self, emulator: EmulatorProcess, raw_specs: dict[str, dict[str, Any]]) -> None:
        response = emulator.api("GET", "/v1/org/{org}/process", params={"statuses": "FINISHED"})
        assert response.status_code == 400
        assert "400" in _declared(raw_specs["process"], "/v1/org/{orgId}/process", "get")


class TestEvents:
    @pytest.fixture
    def event_schema(self, raw_specs: dict[str, dict[str, Any]]) -> dict[str, Any]:
        schema = copy.deepcopy(raw_specs["event"]["components"]["schemas"]["Event"])
        # Map<String, Object> again: payload values are strings, lists and nulls.
        schema["properties"]["payload"]["additionalProperties"] = {}
        return schema

    def test_change_event_valid(self, emulator: EmulatorProcess, event_schema: dict[str, Any],
                                finished_import: dict[str, Any]) -> None:
        events = emulator.webhooks()["events"]
        assert [event["code"] for event in events] == ["change.create.hire"]
        OAS31Validator(event_schema).validate(events[0])

    def test_sync_now_event_valid(self, emulator: EmulatorProcess, event_schema: dict[str, Any]) -> None:
        emulator.sync_now()
        OAS31Validator(event_schema).validate(emulator.webhooks()["events"][0])
