"""docker-compose.yaml checked offline: interpolation, the Compose specification, and cross-references.

No Docker engine is needed. The file is loaded with PyYAML (which resolves anchors and ``<<`` merge
keys), interpolated as ``docker compose`` does, parsed by the ``compose-spec`` package (bindings of the
Rust ``compose_spec`` parser, which rejects unknown keys and invalid values), and cross-checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from compose_spec import ComposeSpecification, PyCompose

from tests.conftest import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yaml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
CONSTRAINTS = REPO_ROOT / "constraints.txt"

AIRFLOW_SERVICES = (
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-worker",
    "airflow-triggerer",
)
AIRFLOW_COMMANDS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-worker": "celery worker",
    "airflow-triggerer": "triggerer",
}
DOCUMENTED_VARIABLES = (
    "CHARTHOP_API_TOKEN",
    "CHARTHOP_ORG_ID",
    "CHARTHOP_API_HOST",
    "CHARTHOP_WEBHOOK_SECRET",
)

# $$ (a literal $), ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error},
# ${NAME:+replacement}, ${NAME+replacement}, and $NAME.
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<operator>:?[-?+])(?P<argument>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class InterpolationError(ValueError):
    """A required variable (``${NAME:?error}``) is missing, or a ``$`` starts no valid expression."""


def interpolate_text(text: str, env: Mapping[str, str]) -> str:
    """Replace the variables in one string as ``docker compose`` does (nested defaults are not supported)."""

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        operator, argument = match["operator"], match["argument"] or ""
        value = env.get(name)
        is_set = value is not None
        is_filled = bool(value)
        if operator in (":-", "-"):
            return value if (is_filled if operator == ":-" else is_set) else argument
        if operator in (":?", "?"):
            if not (is_filled if operator == ":?" else is_set):
                raise InterpolationError(f"required variable {name} is missing: {argument}")
            return value
        if operator in (":+", "+"):
            return argument if (is_filled if operator == ":+" else is_set) else ""
        return value or ""

    result = _VARIABLE.sub(replace, text)
    if "$" in _VARIABLE.sub("", text):
        raise InterpolationError(f"invalid interpolation in {text!r}")
    return result


def interpolate(node: Any, env: Mapping[str, str]) -> Any:
    """Interpolate every string value of a loaded compose file, as ``docker compose config`` does."""
    if isinstance(node, str):
        return interpolate_text(node, env)
    if isinstance(node, list):
        return [interpolate(item, env) for item in node]
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    return node


def load_compose(env: Mapping[str, str]) -> dict[str, Any]:
    """Load docker-compose.yaml with anchors merged and variables taken from ``env``."""
    return interpolate(yaml.safe_load(COMPOSE_FILE.read_text()), env)


def depends_on_targets(service: Mapping[str, Any]) -> list[str]:
    """Return the services a service depends on, from the short (list) or long (map) form."""
    depends_on = service.get("depends_on") or []
    return list(depends_on)


def named_volumes(service: Mapping[str, Any]) -> list[str]:
    """Return the named volumes a service mounts (not bind mounts of host paths)."""
    names = []
    for volume in service.get("volumes") or []:
        source = volume.get("source") if isinstance(volume, dict) else volume.split(":", 1)[0]
        kind = volume.get("type", "volume") if isinstance(volume, dict) else None
        is_path = source.startswith((".", "/", "~"))
        if source and not is_path and kind in (None, "volume"):
            names.append(source)
    return names


def bind_sources(service: Mapping[str, Any]) -> list[str]:
    """Return the host paths a service bind-mounts."""
    sources = []
    for volume in service.get("volumes") or []:
        source = volume.get("source", "") if isinstance(volume, dict) else volume.split(":", 1)[0]
        if source.startswith((".", "/", "~")):
            sources.append(source)
    return sources


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """docker-compose.yaml interpolated with no variables set, as in a first ``docker compose up``."""
    return load_compose({})


@pytest.fixture(scope="module")
def raw_text() -> str:
    return COMPOSE_FILE.read_text()


class TestInterpolation:
    @pytest.mark.parametrize(
        ("text", "env", "expected"),
        [
            ("${A:-x}", {}, "x"),
            ("${A:-x}", {"A": ""}, "x"),
            ("${A-x}", {"A": ""}, ""),
            ("${A}", {"A": "1"}, "1"),
            ("$A/b", {"A": "1"}, "1/b"),
            ("${A}", {}, ""),
            ("${A:+y}", {"A": "1"}, "y"),
            ("$${HOSTNAME}", {"HOSTNAME": "h"}, "${HOSTNAME}"),
        ],
    )
    def test_expression_replaced(self, text, env, expected):
        assert interpolate_text(text, env) == expected

    def test_required_variable_missing(self):
        with pytest.raises(InterpolationError, match="required variable A is missing"):
            interpolate_text("${A:?set A}", {})

    def test_lone_dollar_rejected(self):
        with pytest.raises(InterpolationError, match="invalid interpolation"):
            interpolate_text("a $ b", {})

    def test_compose_file_interpolates(self, compose):
        assert "services" in compose


class TestComposeSpecification:
    @pytest.mark.parametrize(
        "env",
        [
            {},
            {
                "CHARTHOP_API_TOKEN": "token",
                "CHARTHOP_ORG_ID": "acme",
                "CHARTHOP_API_HOST": "http://charthop-emulator:8377",
                "CHARTHOP_WEBHOOK_SECRET": "secret",
                "AIRFLOW_PORT": "18080",
            },
        ],
        ids=["defaults", "variables-set"],
    )
    def test_file_parses(self, env):
        PyCompose.from_json(json.dumps(load_compose(env))).validate()

    def test_model_validates(self, compose):
        spec = PyCompose.from_json(json.dumps(compose)).to_spec()
        assert isinstance(spec, ComposeSpecification)

    def test_parser_rejects_unknown_key(self, compose):
        broken = json.loads(json.dumps(compose))
        broken["services"]["redis"]["imagee"] = "redis"
        with pytest.raises(ValueError, match="imagee"):
            PyCompose.from_json(json.dumps(broken))


class TestCrossReferences:
    def test_depends_on_targets_exist(self, compose):
        services = compose["services"]
        missing = {
            (name, target)
            for name, service in services.items()
            for target in depends_on_targets(service)
            if target not in services
        }
        assert missing == set()

    def test_named_volumes_declared(self, compose):
        declared = set(compose.get("volumes") or {})
        used = {volume for service in compose["services"].values() for volume in named_volumes(service)}
        assert used - declared == set()

    def test_mounted_folders_exist(self, compose):
        sources = {source for service in compose["services"].values() for source in bind_sources(service)}
        missing = {source for source in sources if not (REPO_ROOT / source).is_dir()}
        assert missing == set()

    def test_dags_and_include_mounted(self, compose):
        mounts = set(compose["services"]["airflow-scheduler"]["volumes"])
        assert {"./dags:/opt/airflow/dags", "./include:/opt/airflow/include"} <= mounts

    def test_build_context_has_dockerfile(self, compose):
        context = compose["services"]["airflow-apiserver"]["build"]
        assert (REPO_ROOT / context / "Dockerfile").is_file()


class TestAirflowServices:
    def test_every_service_present(self, compose):
        assert set(AIRFLOW_SERVICES) <= set(compose["services"])

    @pytest.mark.parametrize("name", AIRFLOW_SERVICES)
    def test_service_uses_common_image(self, compose, name):
        assert compose["services"][name]["image"] == compose["x-airflow-common"]["image"]

    @pytest.mark.parametrize("name", AIRFLOW_SERVICES)
    def test_service_built_from_dockerfile(self, compose, name):
        assert compose["services"][name]["build"] == "."

    @pytest.mark.parametrize("name", AIRFLOW_SERVICES)
    def test_service_has_common_environment(self, compose, name):
        common = compose["x-airflow-common"]["environment"]
        environment = compose["services"][name]["environment"]
        assert {key: environment.get(key) for key in common} == common

    @pytest.mark.parametrize("name", AIRFLOW_SERVICES)
    def test_service_merges_common_anchor(self, raw_text, name):
        block = re.search(rf"^  {re.escape(name)}:\n((?:    .*\n|\n)*)", raw_text, re.MULTILINE)
        assert block is not None
        assert "<<: *airflow-common\n" in block.group(1)

    @pytest.mark.parametrize(("name", "command"), sorted(AIRFLOW_COMMANDS.items()))
    def test_service_command(self, compose, name, command):
        assert compose["services"][name]["command"] == command

    def test_celery_executor(self, compose):
        assert compose["x-airflow-common"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"

    def test_init_runs_db_migrate(self, compose):
        script = "\n".join(compose["services"]["airflow-init"]["command"])
        assert re.search(r"^airflow db migrate$", script, re.MULTILINE)

    @pytest.mark.parametrize("name", sorted(AIRFLOW_COMMANDS))
    def test_service_waits_for_init(self, compose, name):
        condition = compose["services"][name]["depends_on"]["airflow-init"]["condition"]
        assert condition == "service_completed_successfully"

    def test_image_matches_pinned_airflow(self):
        pinned = re.search(r"^apache-airflow==(\S+)$", CONSTRAINTS.read_text(), re.MULTILINE)
        base = re.search(r"^FROM apache/airflow:([^-\s]+)", DOCKERFILE.read_text(), re.MULTILINE)
        assert pinned is not None
        assert base is not None
        assert base.group(1) == pinned.group(1)


class TestChartHopSettings:
    def test_connection_uses_variables(self):
        compose = load_compose({"CHARTHOP_API_TOKEN": "t0k", "CHARTHOP_ORG_ID": "acme", "CHARTHOP_API_HOST": "h"})
        connection = json.loads(compose["x-airflow-common"]["environment"]["AIRFLOW_CONN_CHARTHOP_DEFAULT"])
        assert connection == {"conn_type": "charthop", "host": "h", "password": "t0k", "extra": {"org_id": "acme"}}

    def test_default_host_is_charthop(self, compose):
        connection = json.loads(compose["x-airflow-common"]["environment"]["AIRFLOW_CONN_CHARTHOP_DEFAULT"])
        assert connection["host"] == "api.charthop.com"

    def test_webhook_secret_passed(self):
        compose = load_compose({"CHARTHOP_WEBHOOK_SECRET": "s3cret"})
        assert compose["services"]["airflow-apiserver"]["environment"]["AIRFLOW__CHARTHOP__WEBHOOK_SECRET"] == "s3cret"

    @pytest.mark.parametrize("variable", DOCUMENTED_VARIABLES)
    def test_variable_documented(self, raw_text, variable):
        assert re.search(rf"^#\s+{variable}\s", raw_text, re.MULTILINE)


class TestEmulatorProfile:
    def test_only_in_emulator_profile(self, compose):
        assert compose["services"]["charthop-emulator"]["profiles"] == ["emulator"]

    def test_runs_emulator_module(self, compose):
        assert compose["services"]["charthop-emulator"]["entrypoint"][:3] == ["python", "-m", "charthop_emulator"]

    def test_pythonpath_is_mounted_include(self, compose):
        service = compose["services"]["charthop-emulator"]
        assert f"./include:{service['environment']['PYTHONPATH']}" in service["volumes"]

    def test_emulator_package_in_include(self):
        assert (REPO_ROOT / "include" / "charthop_emulator" / "__main__.py").is_file()

    def test_documented_host_names_service(self, raw_text, compose):
        documented = re.search(r"CHARTHOP_API_HOST=http://([a-z-]+):(\d+)", raw_text)
        entrypoint = compose["services"]["charthop-emulator"]["entrypoint"]
        assert documented is not None
        assert documented.group(1) in compose["services"]
        assert entrypoint[entrypoint.index("--port") + 1] == documented.group(2)
