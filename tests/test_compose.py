"""The production deployment (docker-compose.yml, Dockerfile, deploy/) checked without a Docker engine.

The compose file is parsed as YAML and its `${VAR...}` interpolation is resolved here the way
`docker compose` does, so the checks also see the values the containers would get. Each check is a
function returning the problems it finds; the tests assert there are none, and a few tests break a copy
of the file on purpose to show that the checks notice.
"""

from __future__ import annotations

import copy
import re
import shlex
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import ValidationError

from core.codec import DEV_KEY, DEV_PAYLOAD_KEYS
from core.search_attributes import SEARCH_ATTRIBUTE_TYPES
from core.settings import DEV_AUDIT_HMAC_KEY, DEV_JWT_SECRET, REPO_ROOT, Settings

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
ENV_EXAMPLE = REPO_ROOT / "deploy" / "compose.env.example"

EXPECTED_SERVICES = {
    "postgres",
    "temporal-schema",
    "temporal",
    "temporal-setup",
    "temporal-ui",
    "prometheus",
    "doctor",
    "api",
    "worker",
}
ONE_SHOT_SERVICES = {"temporal-schema", "temporal-setup", "doctor"}
# A pinned image names its full version (PostgreSQL's are major.minor), never `latest` or a bare major.
PINNED_IMAGE = re.compile(r"^[a-z0-9./-]+:v?\d+\.\d+(?:\.\d+)?(?:-[A-Za-z0-9.-]+)?$")
APP_SERVICES = ("api", "worker")
SETTING_NAMES = {name.upper() for name in Settings.model_fields}
REQUIRED_PRODUCTION_SETTINGS = {
    "DATABASE_URL",
    "TEMPORAL_ADDRESS",
    "JWT_SECRET",
    "ENVIRONMENT",
    "OIDC_ISSUER",
    "OIDC_AUDIENCE",
    "OIDC_JWKS_URL",
    "PAYLOAD_KEYS",
    "AUDIT_HMAC_KEY",
}
# What api and worker wait for before they start (both apply migrations and need the attributes), and
# `complaints doctor` to have found every setting and server ready.
APP_DEPENDENCIES = {
    "postgres": "service_healthy",
    "temporal": "service_healthy",
    "temporal-setup": "service_completed_successfully",
    "doctor": "service_completed_successfully",
}
NAMESPACE = "default"
SEARCH_ATTRIBUTE_CREATE = re.compile(
    r"temporal operator search-attribute create --namespace (?P<namespace>\S+)"
    r" --name (?P<name>\S+) --type (?P<type>\S+)"
)
# Names of secrets (TEMPORAL_CODEC_PASS_ACCESS_TOKEN is the UI's on/off switch for passing one, not a secret).
SECRET_KEY = re.compile(r"PASSWORD|PWD|SECRET|(?<!PASS_ACCESS_)TOKEN|_KEYS?$", re.IGNORECASE)

Compose = dict[str, Any]

# --- reading the files ---------------------------------------------------------------------------


def load_compose(path: Path = COMPOSE_FILE) -> Compose:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name} is not a YAML mapping"
    return cast(Compose, data)


class MissingVariable(Exception):
    """A `${VAR:?message}` whose variable is unset: `docker compose` refuses to start."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*)|(?P<invalid>))"
)
_BRACED = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<colon>:?)(?P<op>[-?+])(?P<arg>.*))?", re.S)


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR:+x}."""

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"] is not None:
            return "$"
        if match["named"] is not None:
            return env.get(match["named"], "")
        braced = _BRACED.fullmatch(match["braced"] or "")
        if braced is None:
            raise ValueError(f"invalid interpolation {match[0]!r} in {text!r} (use $$ for a literal $)")
        name, op, arg = braced["name"], braced["op"], braced["arg"] or ""
        present = name in env and (env[name] != "" or not braced["colon"])
        if op == "-":
            return env[name] if present else arg
        if op == "?":
            if not present:
                raise MissingVariable(name, arg)
            return env[name]
        if op == "+":
            return arg if present else ""
        return env.get(name, "")

    return _INTERPOLATION.sub(substitute, text)


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _resolve(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, dict):
        return {key: _resolve(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(value, env) for value in node]
    return node


def required_variables(compose: Compose) -> set[str]:
    """Host variables the file requires (`${VAR:?...}` or `${VAR?...}`)."""
    found: set[str] = set()
    for text in _strings(compose):
        for match in _INTERPOLATION.finditer(text):
            braced = _BRACED.fullmatch(match["braced"] or "")
            if braced is not None and braced["op"] == "?":
                found.add(braced["name"])
    return found


def deploy_env(compose: Compose) -> dict[str, str]:
    """What an operator provides: every required variable set, everything else left to its default."""
    env = {name: f"{name.lower()}-0123456789abcdef0123456789abcdef" for name in required_variables(compose)}
    # The payload codec's keys have a format of their own (`id:base64key`, 32 bytes).
    return env | ({"PAYLOAD_KEYS": "k1:" + "A" * 43 + "="} if "PAYLOAD_KEYS" in env else {})


def resolved(compose: Compose) -> Compose:
    return cast(Compose, _resolve(compose, deploy_env(compose)))


def environment_of(service: Mapping[str, Any]) -> dict[str, str | None]:
    """A service's environment, from either the mapping or the `KEY=value` list form."""
    raw = service.get("environment") or {}
    if isinstance(raw, dict):
        return {str(key): None if value is None else str(value) for key, value in raw.items()}
    environment: dict[str, str | None] = {}
    for item in raw:
        key, sep, value = str(item).partition("=")
        environment[key] = value if sep else None
    return environment


def dependencies_of(service: Mapping[str, Any]) -> dict[str, str]:
    """depends_on as {service: condition}; the short list form means service_started."""
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return {str(name): "service_started" for name in raw}
    return {str(name): str((spec or {}).get("condition", "service_started")) for name, spec in raw.items()}


def command_of(service: Mapping[str, Any], key: str = "command") -> list[str]:
    raw = service.get(key)
    if raw is None:
        return []
    return shlex.split(raw) if isinstance(raw, str) else [str(part) for part in raw]


def healthcheck_test(service: Mapping[str, Any]) -> str:
    """The health check command as one string ('' when there is none or it is disabled)."""
    check = service.get("healthcheck") or {}
    if check.get("disable"):
        return ""
    test = check.get("test", "")
    if isinstance(test, list):
        return "" if test[:1] == ["NONE"] else " ".join(str(part) for part in test[1:])
    return str(test)


def settings_from(environment: Mapping[str, str | None]) -> Settings:
    """The Settings a container with this environment gets (validated from it alone, not os.environ)."""
    return Settings.model_validate(
        {key.lower(): value for key, value in environment.items() if value is not None}
    )


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


# --- the checks ----------------------------------------------------------------------------------


def service_problems(compose: Compose) -> list[str]:
    missing = EXPECTED_SERVICES - set(compose.get("services") or {})
    return [f"service {name!r} is missing" for name in sorted(missing)]


def setting_problems(compose: Compose) -> list[str]:
    """api and worker set only real settings, and every setting production requires."""
    problems: list[str] = []
    services = compose.get("services") or {}
    for name in APP_SERVICES:
        environment = environment_of(services.get(name) or {})
        for key in sorted(set(environment) - SETTING_NAMES):
            problems.append(f"{name}: {key} is not a field of core.settings.Settings")
        for key in sorted(REQUIRED_PRODUCTION_SETTINGS - set(environment)):
            problems.append(f"{name}: required production setting {key} is not set")
    return problems


def secret_problems(compose: Compose) -> list[str]:
    """Secrets come from the deploying environment, required, never with a default in the file."""
    problems: list[str] = []
    for service_name, service in (compose.get("services") or {}).items():
        for key, value in environment_of(service).items():
            if not SECRET_KEY.search(key):
                continue
            if value is None or not re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?\?[^}]*\}", value):
                problems.append(f"{service_name}: {key} must be `${{VAR:?message}}`, not {value!r}")
    for name in APP_SERVICES:
        url = environment_of((compose.get("services") or {}).get(name) or {}).get("DATABASE_URL") or ""
        if not re.search(r":\$\{[A-Za-z_][A-Za-z0-9_]*:?\?[^}]*\}@", url):
            problems.append(f"{name}: DATABASE_URL's password must be `${{VAR:?message}}`, not hard-coded")
    return problems


def dependency_problems(compose: Compose) -> list[str]:
    problems: list[str] = []
    services: dict[str, Any] = compose.get("services") or {}
    for name in APP_SERVICES:
        dependencies = dependencies_of(services.get(name) or {})
        for dependency, condition in APP_DEPENDENCIES.items():
            if dependencies.get(dependency) != condition:
                problems.append(f"{name} must depend on {dependency} with condition {condition}")
    for name, service in services.items():
        for dependency, condition in dependencies_of(service).items():
            target = services.get(dependency)
            if target is None:
                problems.append(f"{name} depends on unknown service {dependency!r}")
            elif condition == "service_healthy" and not healthcheck_test(target):
                problems.append(f"{name} waits for {dependency} to be healthy, but it has no health check")
            elif condition == "service_completed_successfully" and target.get("restart", "no") != "no":
                problems.append(f"{name} waits for {dependency} to complete, but it restarts")
    return problems


# --- the services --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> Compose:
    return load_compose()


@pytest.fixture(scope="module")
def services(compose: Compose) -> dict[str, Any]:
    """The services with the operator's variables substituted, as the containers would see them."""
    return cast(dict[str, Any], resolved(compose)["services"])


def test_every_expected_service_exists(compose: Compose) -> None:
    assert service_problems(compose) == []


def test_interpolation_is_valid_and_secrets_are_required(compose: Compose) -> None:
    for text in _strings(compose):
        interpolate(text, deploy_env(compose))  # raises on a stray `$`
    assert {"JWT_SECRET", "POSTGRES_PASSWORD", "COMPLAINTS_DB_PASSWORD"} <= required_variables(compose)
    with pytest.raises(MissingVariable):
        _resolve(compose, {})
    assert secret_problems(compose) == []


def test_api_and_worker_set_only_real_settings_and_all_required_ones(compose: Compose) -> None:
    assert setting_problems(compose) == []


def test_api_and_worker_environment_is_a_valid_production_configuration(services: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        environment = environment_of(services[name])
        assert environment["ENVIRONMENT"] == "production"
        assert environment["TEMPORAL_ADDRESS"] == "temporal:7233"
        assert environment.get("TEMPORAL_NAMESPACE", NAMESPACE) == NAMESPACE
        settings = settings_from(environment)
        assert settings.environment == "production"
        assert settings.database_url is not None
        assert urlsplit(settings.database_url).hostname == "postgres"


def test_api_and_worker_share_settings(services: dict[str, Any]) -> None:
    api, worker = environment_of(services["api"]), environment_of(services["worker"])
    for key in set(api) & set(worker):
        assert api[key] == worker[key], key
    assert {"DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TASK_QUEUE"} <= set(api) & set(worker)


def test_dependencies_wait_for_health_and_setup(compose: Compose) -> None:
    assert dependency_problems(compose) == []
    services = compose["services"]
    assert dependencies_of(services["temporal"])["postgres"] == "service_healthy"
    assert dependencies_of(services["temporal-setup"]).get("temporal") == "service_healthy"
    assert dependencies_of(services["temporal-ui"]).get("temporal") == "service_healthy"


def test_api_has_a_readiness_check_and_a_restart_policy(compose: Compose) -> None:
    api = compose["services"]["api"]
    assert "/readyz" in healthcheck_test(api)
    assert api.get("restart") in {"always", "unless-stopped", "on-failure"}
    assert command_of(api) == [], "api runs the image's default command (uvicorn)"
    assert any(str(port).endswith(":8000") for port in api.get("ports", []))


def test_worker_is_a_scalable_restartable_pool_without_ports(
    compose: Compose, services: dict[str, Any]
) -> None:
    worker = compose["services"]["worker"]
    assert command_of(worker) == ["python", "-m", "worker"]
    assert worker.get("restart") in {"always", "unless-stopped", "on-failure"}
    assert int(services["worker"]["deploy"]["replicas"]) >= 2
    assert "ports" not in worker
    assert "container_name" not in worker, "a fixed container name prevents scaling"
    # The image's health check calls the API's /healthz, which a worker does not serve.
    assert "/healthz" not in healthcheck_test(worker)


def test_api_and_worker_build_the_repository_dockerfile(compose: Compose) -> None:
    images = set()
    for name in APP_SERVICES:
        service = compose["services"][name]
        build = service.get("build")
        assert build is not None, f"{name} must build from the repository"
        context, dockerfile = (
            (build, "Dockerfile")
            if isinstance(build, str)
            else (
                build.get("context", "."),
                build.get("dockerfile", "Dockerfile"),
            )
        )
        assert (COMPOSE_FILE.parent / context).resolve() == REPO_ROOT
        assert (REPO_ROOT / context / dockerfile).resolve() == DOCKERFILE
        images.add(service.get("image"))
    assert len(images) == 1, "api and worker run the same image"


def test_search_attributes_registered_are_exactly_the_services(compose: Compose) -> None:
    setup = compose["services"]["temporal-setup"]
    assert str(setup["image"]).startswith("temporalio/admin-tools:")
    script = "\n".join(command_of(setup, "entrypoint") + command_of(setup))
    created = [match.groupdict() for match in SEARCH_ATTRIBUTE_CREATE.finditer(script)]
    assert {item["namespace"] for item in created} == {NAMESPACE}
    registered = {item["name"]: item["type"] for item in created}
    assert len(registered) == len(created), "an attribute is registered twice"
    assert registered == SEARCH_ATTRIBUTE_TYPES


def test_temporal_runs_on_postgres_in_its_own_databases(services: dict[str, Any]) -> None:
    temporal = services["temporal"]
    # The supported server image, not auto-setup (development only): the schema is set up beforehand.
    assert str(temporal["image"]).startswith("temporalio/server:")
    environment = environment_of(temporal)
    assert environment["DB"] == "postgres12"
    assert environment["POSTGRES_SEEDS"] == "postgres"
    temporal_databases = {environment["DBNAME"], environment["VISIBILITY_DBNAME"]}
    assert None not in temporal_databases and len(temporal_databases) == 2
    app_url = urlsplit(environment_of(services["api"])["DATABASE_URL"] or "")
    assert app_url.path.lstrip("/") not in temporal_databases
    assert app_url.username != environment["POSTGRES_USER"], "the service must not use the superuser"
    assert healthcheck_test(temporal)
    dynamic_config = environment["DYNAMIC_CONFIG_FILE_PATH"] or ""
    mounts = [str(volume).split(":") for volume in temporal.get("volumes", [])]
    assert any(
        target == "/etc/temporal/config/dynamicconfig"
        and (COMPOSE_FILE.parent / source / Path(dynamic_config).name).is_file()
        for source, target, *_ in mounts
    ), "the dynamic config file is mounted where DYNAMIC_CONFIG_FILE_PATH points"


def test_postgres_keeps_its_data_and_reports_health(compose: Compose) -> None:
    postgres = compose["services"]["postgres"]
    assert str(postgres["image"]).startswith("postgres:16")
    assert "pg_isready" in healthcheck_test(postgres)
    data = [str(volume).split(":") for volume in postgres.get("volumes", [])]
    assert any(
        target == "/var/lib/postgresql/data" and source in compose["volumes"] for source, target, *_ in data
    )


def test_temporal_ui_points_at_temporal(services: dict[str, Any]) -> None:
    ui = services["temporal-ui"]
    assert str(ui["image"]).startswith("temporalio/ui:")
    assert environment_of(ui)["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert any(str(port).endswith(":8080") for port in ui.get("ports", []))


def test_bind_mounts_exist_in_the_repository(compose: Compose) -> None:
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith("."):
                assert (COMPOSE_FILE.parent / source).exists(), f"{name}: {source} does not exist"


def test_every_required_variable_is_in_the_env_example(compose: Compose) -> None:
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(encoding="utf-8"), re.M))
    assert required_variables(compose) <= documented


# --- the checks notice a broken file -------------------------------------------------------------


def test_checks_notice_a_missing_service(compose: Compose) -> None:
    broken = copy.deepcopy(compose)
    del broken["services"]["temporal-setup"]
    assert "service 'temporal-setup' is missing" in service_problems(broken)
    assert any("temporal-setup" in problem for problem in dependency_problems(broken))


def test_checks_notice_an_unknown_or_missing_setting(compose: Compose) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["worker"]["environment"]["TEMPORAL_HOST"] = "temporal"
    del broken["services"]["api"]["environment"]["JWT_SECRET"]
    problems = setting_problems(broken)
    assert "api: required production setting JWT_SECRET is not set" in problems
    assert "worker: TEMPORAL_HOST is not a field of core.settings.Settings" in problems


def test_checks_notice_a_hard_coded_secret(compose: Compose) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["api"]["environment"]["JWT_SECRET"] = "${JWT_SECRET:-changeme}"
    broken["services"]["worker"]["environment"]["DATABASE_URL"] = "postgresql://app:hunter2@postgres/app"
    problems = secret_problems(broken)
    assert any(problem.startswith("api: JWT_SECRET") for problem in problems)
    assert any(problem.startswith("worker: DATABASE_URL") for problem in problems)


# --- the image -----------------------------------------------------------------------------------


def test_dockerfile_builds_a_production_image() -> None:
    instructions = dockerfile_instructions()
    bases = [arguments for keyword, arguments in instructions if keyword == "FROM"]
    assert bases and all(base.startswith("python:3.11") for base in bases)
    runs = " ".join(arguments for keyword, arguments in instructions if keyword == "RUN")
    # The project is installed from its wheel, not in place: the image runs what `pip install .` carries
    # (tests/test_production_install.py installs and runs that same wheel).
    assert "pip wheel --no-deps --wheel-dir /wheels ." in runs
    assert "pip install /tmp/wheels/*.whl" in runs
    assert "pip install -e" not in runs
    assert not re.search(r"\[[^\]]*\bdev\b[^\]]*\]", DOCKERFILE.read_text(encoding="utf-8")), "dev extra"
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}, "the service runs as a non-root user"
    healthcheck = " ".join(arguments for keyword, arguments in instructions if keyword == "HEALTHCHECK")
    assert "/healthz" in healthcheck and "python" in healthcheck
    cmd = [arguments for keyword, arguments in instructions if keyword == "CMD"][-1]
    assert all(part in cmd for part in ('"uvicorn"', '"--factory"', '"api.main:app"', '"0.0.0.0"', '"8000"'))
    # Idle connections outlive a proxy's or load balancer's own idle timeout (60 s is common): no 502 race.
    keep_alive = re.search(r'"--timeout-keep-alive",\s*"(\d+)"', cmd)
    assert keep_alive is not None and int(keep_alive[1]) > 60


def test_dockerfile_copies_everything_the_project_installs_and_reads() -> None:
    setuptools = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]
    # The top-level folders whose packages (and data folders) setuptools finds.
    needed = {pattern.rstrip("*").split(".")[0] for pattern in setuptools["packages"]["find"]["include"]}
    needed |= {f"{module}.py" for module in setuptools.get("py-modules", [])}
    needed |= {"pyproject.toml", "policies", "migrations"}
    copied = {
        part.rstrip("/")
        for keyword, arguments in dockerfile_instructions()
        if keyword == "COPY"
        for part in arguments.split()[:-1]
        if not part.startswith("--")
    }
    assert needed <= copied


def test_the_image_carries_no_development_code() -> None:
    copied = " ".join(arguments for keyword, arguments in dockerfile_instructions() if keyword == "COPY")
    assert "devstack" not in copied
    workdirs = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "WORKDIR"]
    assert workdirs[-1] != "/src", "the service runs from the installed wheel, not beside the sources"


def test_doctor_checks_everything_before_the_api_and_workers_start(
    compose: Compose, services: dict[str, Any]
) -> None:
    doctor = compose["services"]["doctor"]
    assert command_of(doctor) == ["complaints", "doctor"]
    assert doctor.get("restart") == "no"
    assert doctor.get("image") == compose["services"]["api"].get("image"), "the service's own image"
    # The same settings as the API and the workers, so it checks what they will use.
    assert environment_of(services["doctor"]) == {
        key: value
        for key, value in environment_of(services["worker"]).items()
        if not key.startswith("WORKER_")
    }
    assert dependencies_of(doctor) == {
        "postgres": "service_healthy",
        "temporal": "service_healthy",
        "temporal-setup": "service_completed_successfully",
    }
    for name in APP_SERVICES:
        assert dependencies_of(compose["services"][name])["doctor"] == "service_completed_successfully"


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image() -> None:
    ignored = {line.strip().rstrip("/") for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()}
    assert {".env", ".venv", ".data", ".git"} <= ignored


# --- what a production deploy relies on -----------------------------------------------------------


# Everything else production needs, so each test below isolates one refusal.
PRODUCTION_REST: dict[str, Any] = {
    "database_url": "postgresql://app:pw@postgres/app",
    "temporal_address": "temporal:7233",
    "oidc_issuer": "https://login.council.example/",
    "oidc_audience": "complaints-api",
    "oidc_jwks_url": "https://login.council.example/jwks.json",
    "payload_keys": "k1:" + "A" * 43 + "=",
    "audit_hmac_key": "a-real-audit-key-0123456789",
}


def test_production_settings_refuse_the_dev_jwt_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        Settings(_env_file=None, environment="production", **PRODUCTION_REST)
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        Settings(_env_file=None, environment="production", jwt_secret=DEV_JWT_SECRET, **PRODUCTION_REST)
    settings = Settings(
        _env_file=None, environment="production", jwt_secret="a-real-secret", **PRODUCTION_REST
    )
    assert settings.jwt_secret == "a-real-secret"


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"payload_keys": None}, "PAYLOAD_KEYS must be set"),
        ({"payload_keys": DEV_PAYLOAD_KEYS}, "development key"),
        ({"payload_keys": "renamed:" + DEV_KEY}, "development key"),
        ({"payload_keys": "k1:c2hvcnQ="}, "32 bytes"),
        ({"audit_hmac_key": DEV_AUDIT_HMAC_KEY}, "AUDIT_HMAC_KEY"),
    ],
)
def test_production_settings_refuse_missing_or_dev_personal_data_keys(
    monkeypatch: pytest.MonkeyPatch, change: dict[str, Any], refusal: str
) -> None:
    for name in ("PAYLOAD_KEYS", "AUDIT_HMAC_KEY"):
        monkeypatch.delenv(name, raising=False)
    given = PRODUCTION_REST | {"jwt_secret": "a-real-secret"} | change
    with pytest.raises(ValidationError, match=refusal):
        Settings(
            _env_file=None, environment="production", **{k: v for k, v in given.items() if v is not None}
        )


def test_compose_refuses_the_dev_jwt_secret_too(compose: Compose) -> None:
    env = deploy_env(compose) | {"JWT_SECRET": DEV_JWT_SECRET}
    api = environment_of(_resolve(compose, env)["services"]["api"])
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        settings_from(api)


# --- supported images, schema, visibility, UI codec, Prometheus, scaling -------------------------------


def test_every_image_is_pinned_to_a_full_version(compose: Compose) -> None:
    assert not any(
        PINNED_IMAGE.match(image) for image in ("postgres:16", "temporalio/ui:latest", "prom/prometheus")
    )
    for name, service in compose["services"].items():
        if "build" in service:
            continue  # the service's own image, built from this repository
        assert PINNED_IMAGE.match(str(service["image"])), f"{name}: {service['image']} is not pinned"


def test_temporal_schema_is_set_up_by_admin_tools_before_the_server_starts(services: dict[str, Any]) -> None:
    schema = services["temporal-schema"]
    server_version = str(services["temporal"]["image"]).split(":")[1]
    assert str(schema["image"]).startswith(f"temporalio/admin-tools:{server_version}")
    assert schema.get("restart") == "no"
    assert dependencies_of(schema) == {"postgres": "service_healthy"}
    assert dependencies_of(services["temporal"]) == {
        "postgres": "service_healthy",
        "temporal-schema": "service_completed_successfully",
    }
    script = "\n".join(command_of(schema, "entrypoint") + command_of(schema))
    assert "temporal-sql-tool --plugin postgres12 --ep postgres" in script
    for step in ("create", "setup-schema -v 0.0", "update-schema -d"):
        assert step in script
    # Both of the server's databases, the visibility one with the SQL advanced-visibility schema (custom
    # search attributes and list queries on PostgreSQL, no Elasticsearch).
    environment = environment_of(services["temporal"])
    pairs = re.search(r"for pair in (.+); do", script)
    assert pairs is not None
    assert dict(pair.split(":") for pair in pairs[1].split()) == {
        environment["DBNAME"]: "temporal",
        environment["VISIBILITY_DBNAME"]: "visibility",
    }
    assert "/etc/temporal/schema/postgresql/v12" in script
    # The password reaches the tool from the environment, never on its command line.
    assert environment_of(schema)["SQL_PASSWORD"] == environment["POSTGRES_PWD"]
    assert "POSTGRES_PASSWORD" not in script and "--password" not in script


def test_temporal_setup_creates_the_namespace_with_its_retention(services: dict[str, Any]) -> None:
    setup = services["temporal-setup"]
    script = "\n".join(command_of(setup, "entrypoint") + command_of(setup))
    assert "temporal operator cluster health" in script
    assert f"temporal operator namespace create --namespace {NAMESPACE} --retention" in script
    assert environment_of(setup)["TEMPORAL_RETENTION"] == "720h"


def test_long_running_services_have_health_checks_and_one_shots_do_not_restart(compose: Compose) -> None:
    for name, service in compose["services"].items():
        if name in ONE_SHOT_SERVICES:
            assert service.get("restart") == "no", name
        elif name != "worker":  # no HTTP server of its own; restarts cover it
            assert healthcheck_test(service), f"{name} has no health check"
            assert service.get("restart") in {"always", "unless-stopped", "on-failure"}, name


def test_the_ui_decodes_payloads_through_the_api_codec_server(services: dict[str, Any]) -> None:
    environment = environment_of(services["temporal-ui"])
    endpoint = urlsplit(environment["TEMPORAL_CODEC_ENDPOINT"] or "")
    assert endpoint.scheme in {"http", "https"}
    assert endpoint.path == "/codec", "the UI posts to <endpoint>/decode and <endpoint>/encode"
    published = [str(port).split(":")[-2] for port in services["api"]["ports"]]
    assert any(str(endpoint.port) == host.split("-")[0] for host in published), (
        "the API as the browser sees it"
    )


def test_prometheus_runs_the_deploy_configuration(compose: Compose, services: dict[str, Any]) -> None:
    prometheus = services["prometheus"]
    assert str(prometheus["image"]).startswith("prom/prometheus:")
    flags = dict(flag.split("=", 1) for flag in command_of(prometheus))
    mounts = [str(volume).split(":")[:2] for volume in prometheus["volumes"]]
    # deploy/ is mounted whole, so the alert rule files deploy/prometheus.yml names (relative to itself)
    # are there too; the configuration file is deploy/prometheus.yml.
    assert ["./deploy", "/etc/prometheus/deploy"] in mounts
    assert flags["--config.file"] == "/etc/prometheus/deploy/prometheus.yml"
    assert [flags["--storage.tsdb.path"]] == [t for s, t in mounts if s in compose["volumes"]]
    assert "/-/ready" in healthcheck_test(prometheus)


def test_api_and_workers_scale_independently(compose: Compose, services: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        assert "container_name" not in compose["services"][name]
        assert int(services[name]["deploy"]["replicas"]) >= 1
    assert (
        compose["services"]["api"]["deploy"]["replicas"]
        != compose["services"]["worker"]["deploy"]["replicas"]
    )
    # Each API replica needs a host port of its own: the API publishes a range.
    (port,) = services["api"]["ports"]
    first, _, last = str(port).split(":")[0].partition("-")
    assert last and int(last) > int(first)
    worker = environment_of(services["worker"])
    sizing = settings_from(worker)
    assert sizing.worker_max_cached_workflows == int(worker["WORKER_MAX_CACHED_WORKFLOWS"] or 0)
    assert sizing.database_pool_size_for("worker") == sizing.worker_max_concurrent_activities + 2
