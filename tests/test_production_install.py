"""The service installs and starts the way production runs it.

The project is installed exactly as the Dockerfile does: its wheel built from the files the Dockerfile's build
stage copies, into a fresh virtualenv holding the main dependencies only (no `dev` extra), then run from an
empty folder, so nothing of the checkout is on its path. The API (uvicorn) and the worker start from that
virtualenv in ENVIRONMENT=production against the tests' PostgreSQL and a Temporal dev server, with a local
OIDC issuer, real payload keys and an audit key; one complaint goes from intake to acknowledgement through
HTTP with an OIDC token, and the resident's acknowledgement e-mail arrives. Where a Docker engine runs, the
image is built and checked the same way.

The dependencies' wheels are downloaded once (pip's cache and the package index) into a wheelhouse under the
temporary folder, and installed once into a virtualenv there, both keyed by pyproject.toml's requirements (a
change of dependency makes both afresh); each run builds the project's wheel and reinstalls it into that
virtualenv without the network. COMPLAINTS_TEST_CACHE names another folder for them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import uuid
import venv
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from core.settings import REPO_ROOT
from devstack.mail import MailCatcher, list_messages
from devstack.servers import free_port
from tests.conftest import new_database
from tests.oidc_issuer import LocalIssuer
from tests.test_compose import dockerfile_instructions

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
CACHE = Path(os.environ.get("COMPLAINTS_TEST_CACHE") or Path(tempfile.gettempdir()) / "complaints-test-cache")
START_SECONDS = 120.0


# --- installing as the Dockerfile does ---------------------------------------------------------------


def main_requirements() -> list[str]:
    return [str(requirement) for requirement in PYPROJECT["project"]["dependencies"]]


def build_stage_sources() -> list[str]:
    """What the Dockerfile's first stage (the wheel's build) copies from the repository."""
    sources: list[str] = []
    stages = 0
    for keyword, arguments in dockerfile_instructions():
        if keyword == "FROM":
            stages += 1
        elif keyword == "COPY" and stages == 1 and "--from" not in arguments:
            sources += arguments.split()[:-1]
    return sources


def pip(python: Path | str, *arguments: str | Path) -> None:
    command = [str(python), "-m", "pip", "--disable-pip-version-check", "--no-input", *map(str, arguments)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """One test run at a time fills the shared wheelhouse."""
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cache_key() -> str:
    """The main requirements, the build backend and the Python: what the cached wheels and venv depend on."""
    requirements = main_requirements() + list(PYPROJECT["build-system"]["requires"])
    return hashlib.sha256(json.dumps([sys.version_info[:2], requirements]).encode()).hexdigest()[:16]


@pytest.fixture(scope="module")
def wheelhouse() -> Path:
    """Wheels of the main dependencies and of the build backend, fetched once per pyproject.toml."""
    folder = CACHE / f"wheelhouse-{cache_key()}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with locked(CACHE / f"wheelhouse-{cache_key()}.lock"):
        if not (folder / "complete").exists():
            partial = Path(tempfile.mkdtemp(prefix="partial-", dir=CACHE))
            requirements = main_requirements() + list(PYPROJECT["build-system"]["requires"])
            pip(sys.executable, "wheel", "--wheel-dir", partial, *requirements)
            (partial / "complete").touch()
            shutil.rmtree(folder, ignore_errors=True)
            partial.rename(folder)
    return folder


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Iterator[Path]:
    """The `bin` folder of a virtualenv holding the main dependencies (made afresh whenever they change),
    into which this run installs the project's wheel, built now from what the Dockerfile copies."""
    root = tmp_path_factory.mktemp("production-install")
    source = root / "src"
    for part in build_stage_sources():
        name = part.rstrip("/")
        if (REPO_ROOT / name).is_dir():
            shutil.copytree(REPO_ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(REPO_ROOT / name, source / name)
    offline = ("--no-index", "--find-links", str(wheelhouse))
    pip(sys.executable, "wheel", *offline, "--no-deps", "--wheel-dir", root / "dist", source)
    [wheel] = (root / "dist").glob("complaints-*.whl")
    environment = CACHE / f"venv-{cache_key()}"
    python = environment / "bin" / "python"
    # Held while the module's tests run the service from it: another run waits instead of reinstalling.
    with locked(CACHE / f"venv-{cache_key()}.lock"):
        if not (environment / "complete").exists():
            shutil.rmtree(environment, ignore_errors=True)
            venv.create(environment, with_pip=True)
            requirements = root / "requirements.txt"
            requirements.write_text("\n".join(main_requirements()) + "\n", encoding="utf-8")
            pip(python, "install", *offline, "-r", requirements)  # the Dockerfile's first step
            (environment / "complete").touch()
        pip(python, "uninstall", "--yes", "complaints")  # the previous run's project, if any
        pip(python, "install", *offline, wheel)  # the Dockerfile's second step
        yield python.parent


# --- the servers around the service ------------------------------------------------------------------


def random_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@dataclass
class Surroundings:
    """What production gives the service: its servers, an identity provider, a mail server, its secrets."""

    database_url: str
    temporal_address: str
    issuer: LocalIssuer
    catcher: MailCatcher
    mail: Path
    task_queue: str

    def environment(self) -> dict[str, str]:
        return {
            "ENVIRONMENT": "production",
            "DATABASE_URL": self.database_url,
            "TEMPORAL_ADDRESS": self.temporal_address,
            "TEMPORAL_NAMESPACE": "default",
            "TASK_QUEUE": self.task_queue,
            "JWT_SECRET": random_key(),
            "PAYLOAD_KEYS": f"k1:{random_key()}",
            "AUDIT_HMAC_KEY": random_key(),
            **self.issuer.settings_environment(),
            "NOTIFICATION_CHANNEL": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.catcher.port),
            "WORKER_METRICS_PORT": "0",
            "TEMPORAL_METRICS_PORT": "0",
            "LOG_FORMAT": "text",
        }


@pytest.fixture
async def surroundings(
    postgres_server_url: str, temporal_dev_server: str, tmp_path: Path
) -> AsyncIterator[Surroundings]:
    issuer = LocalIssuer()
    catcher = MailCatcher(tmp_path / "mail", "127.0.0.1", free_port()).start()
    try:
        yield Surroundings(
            database_url=await new_database(postgres_server_url, "complaints_installed"),
            temporal_address=temporal_dev_server,
            issuer=issuer,
            catcher=catcher,
            mail=tmp_path / "mail",
            task_queue=f"installed-{uuid.uuid4().hex[:8]}",
        )
    finally:
        catcher.stop()
        issuer.stop()


@dataclass
class Service:
    """A process of the service (the API or the worker), its log in a file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return f"--- {self.name} log ---\n" + self.log.read_text(encoding="utf-8", errors="replace")[-6000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start(name: str, command: Sequence[str], environment: dict[str, str], folder: Path) -> Service:
    log = folder / f"{name}.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            list(command), cwd=folder, env=environment, stdout=handle, stderr=subprocess.STDOUT
        )
    return Service(name, process, log)


def clean_environment(bin_folder: Path, folder: Path, settings: dict[str, str]) -> dict[str, str]:
    """Nothing of this test process (no PYTHONPATH, no checkout): the settings and a plain PATH."""
    return {"PATH": f"{bin_folder}:/usr/bin:/bin", "HOME": str(folder), "LANG": "C.UTF-8", **settings}


# --- what production must do ---------------------------------------------------------------------------


async def wait_until_serving(base_url: str, services: Sequence[Service], surroundings: Surroundings) -> None:
    """The API answers /readyz (PostgreSQL and Temporal reachable) and the worker polls its task queue."""
    temporal = await Client.connect(surroundings.temporal_address)
    request = DescribeTaskQueueRequest(
        namespace="default",
        task_queue=TaskQueue(name=surroundings.task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_SECONDS
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
        while True:
            for service in services:
                if service.process.poll() is not None:
                    raise AssertionError(
                        f"{service.name} exited ({service.process.returncode})\n{service.output()}"
                    )
            try:
                ready = (await client.get("/readyz")).status_code == 200
            except httpx.TransportError:
                ready = False
            polled = bool((await temporal.workflow_service.describe_task_queue(request)).pollers)
            if ready and polled:
                return
            if loop.time() > deadline:
                logs = "\n".join(service.output() for service in services)
                raise AssertionError(
                    f"not serving after {START_SECONDS:.0f}s (ready={ready}, polled={polled})\n{logs}"
                )
            await asyncio.sleep(0.5)


async def one_complaint_from_intake_to_acknowledgement(base_url: str, surroundings: Surroundings) -> None:
    issuer = surroundings.issuer
    officer = {"Authorization": f"Bearer {issuer.token('olivia.officer', 'complaints_officer')}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        created = await client.post(
            "/api/complaints",
            headers=officer | {"Idempotency-Key": uuid.uuid4().hex},
            json={
                "policy_id": "bexley",  # a policy shipped in the wheel
                "received_at": "2026-11-20T10:15:00Z",
                "channel": "email",
                "complainant": {"name": "Ada Resident", "email": "ada@example.org"},
                "service_area": "housing-repairs",
                "summary": "Damp in the bedroom, reported three times.",
                "desired_outcome": "Fix the damp.",
            },
        )
        assert created.status_code == 201, created.text
        reference = created.json()["reference"]
        # Day 0 Fri 20 Nov 2026; 2 working days to acknowledge, 15 to respond (Bexley's policy).
        assert created.json()["deadlines"]["acknowledge_by"] == "2026-11-24"
        assert created.json()["deadlines"]["respond_by"] == "2026-12-11"

        acknowledged = await client.post(f"/api/complaints/{reference}/acknowledge", headers=officer, json={})
        assert acknowledged.status_code == 200, acknowledged.text
        assert acknowledged.json()["status"] == "acknowledged"

        # The resident is told: the acknowledgement letter goes out by e-mail from the worker's outbox.
        subject = f"We have received your complaint ({reference})"
        for _ in range(120):
            sent = [message for message in list_messages(surroundings.mail) if message["subject"] == subject]
            if sent:
                break
            await asyncio.sleep(0.5)
        assert [message["to"] for message in sent] == ["ada@example.org"]
        fetched = await client.get(f"/api/complaints/{reference}", headers=officer)
        assert fetched.status_code == 200, fetched.text
        letters = {item["template"]: item["status"] for item in fetched.json()["notifications"]}
        assert letters.get("acknowledgement") == "sent"

        # Production's edges: no development routes, the codec needs a token, the metrics are served.
        assert (await client.get("/dev/mail")).status_code == 404
        token = await client.post("/api/auth/token", data={"username": "adam.admin", "password": "demo"})
        assert token.status_code == 404
        assert (await client.post("/codec/decode", json={"payloads": []})).status_code == 401
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200
        assert 'http_requests_total{method="POST",route="/api/complaints",status="201"}' in metrics.text


def linked_assets(html: str) -> list[str]:
    """The stylesheets and scripts a page loads from the service itself."""
    found = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="(/[^"]+)"|<script[^>]+src="(/[^"]+)"', html)
    return [style or script for style, script in found]


async def assert_page(client: httpx.AsyncClient, path: str, *, cookie: str | None = None) -> str:
    """A page of the installed service answers 200 with HTML (a template missing from the wheel is a 500),
    and every stylesheet and script it links answers 200 (a static file missing is a 404; a static folder
    missing stops the app at start). The page's HTML."""
    page = await client.get(path, headers={"Cookie": cookie} if cookie else None)
    assert page.status_code == 200, f"{path}: {page.status_code} {page.text[:500]}"
    assert page.headers["content-type"].startswith("text/html"), path
    assets = linked_assets(page.text)
    assert any(asset.endswith(".css") for asset in assets), f"{path} links no stylesheet"
    for asset in assets:
        answer = await client.get(asset)
        assert answer.status_code == 200 and answer.content, (
            f"{asset} (linked from {path}): {answer.status_code}"
        )
    return page.text


async def pages_and_static_files_are_served(base_url: str) -> None:
    """What the wheel carries besides code: the resident pages (the start page and the first question of
    making a complaint), the staff console's sign-in page, and their CSS, scripts and fonts."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        start_page = await assert_page(client, "/")
        assert "Make a complaint" in start_page
        begun = await client.get("/complaint/make")
        assert begun.status_code == 303, begun.text
        first_question = begun.headers["location"]
        assert first_question.startswith("/complaint/make/"), first_question
        # The start cookie is Secure in production: sent back by hand over this test's plain HTTP.
        draft = SimpleCookie(begun.headers["set-cookie"])
        [(name, morsel)] = draft.items()
        await assert_page(client, first_question, cookie=f"{name}={morsel.value}")
        sign_in_page = await assert_page(client, "/staff/")
        assert "Sign in" in sign_in_page
        # A font the GOV.UK stylesheet loads (the assets folder of the vendored frontend).
        fonts = re.findall(
            r"url\((/assets/fonts/[^)]+\.woff2)\)",
            (await client.get("/resident-static/govuk-frontend/govuk-frontend.min.css")).text,
        )
        assert fonts, "the GOV.UK stylesheet names no font"
        font = await client.get(fonts[0])
        assert font.status_code == 200 and font.content, fonts[0]


# --- the tests -----------------------------------------------------------------------------------------


# Run by the installed Python: which development modules it could import, and which building the app imported.
PROBE = """
import importlib.util, sys
import api.main
paths = set(api.main.app().openapi()["paths"])  # the factory uvicorn calls, with production settings
assert "/api/complaints" in paths and not paths & {"/dev/mail", "/api/auth/token"}, paths
# aiosmtpd is installed (the inbound mail listener runs in production) but the API never imports it.
print([name for name in ("devstack", "pytest", "hypothesis") if importlib.util.find_spec(name)],
      sorted(name for name in sys.modules if name.startswith(("devstack", "aiosmtpd", "api.routes.dev"))))
"""


# Settings production accepts; nothing connects to these servers while the app is only built.
PRODUCTION_PLACEHOLDERS = {
    "ENVIRONMENT": "production",
    "DATABASE_URL": "postgresql://complaints:pw@db.invalid/complaints",
    "TEMPORAL_ADDRESS": "temporal.invalid:7233",
    "JWT_SECRET": "placeholder-secret-0123456789abcdef",
    "OIDC_ISSUER": "https://login.council.example/",
    "OIDC_AUDIENCE": "complaints-api",
    "OIDC_JWKS_URL": "https://login.council.example/jwks.json",
    "PAYLOAD_KEYS": f"k1:{base64.b64encode(bytes(range(32))).decode()}",
    "AUDIT_HMAC_KEY": "placeholder-audit-key-0123456789",
}


def test_the_production_install_has_no_development_code(installed: Path) -> None:
    found = subprocess.run(
        [
            str(installed / "python"),
            "-c",
            PROBE,
        ],
        cwd=installed.parent,
        env=clean_environment(installed, installed.parent, PRODUCTION_PLACEHOLDERS),
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "[] []"


async def test_the_installed_service_runs_a_complaint_in_production(
    installed: Path, surroundings: Surroundings, tmp_path: Path
) -> None:
    folder = tmp_path / "run"  # empty: the service reads only what its wheel installed
    folder.mkdir()
    environment = clean_environment(installed, folder, surroundings.environment())
    port = free_port()
    api = start(
        "api",
        [
            str(installed / "uvicorn"),
            "--factory",
            "api.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-proxy-headers",
            "--timeout-keep-alive",
            "75",
        ],
        environment,
        folder,
    )
    worker = start("worker", [str(installed / "python"), "-m", "worker"], environment, folder)
    try:
        await wait_until_serving(f"http://127.0.0.1:{port}", [api, worker], surroundings)
        await one_complaint_from_intake_to_acknowledgement(f"http://127.0.0.1:{port}", surroundings)
        await pages_and_static_files_are_served(f"http://127.0.0.1:{port}")
    except BaseException:
        sys.stderr.write(f"{api.output()}\n{worker.output()}\n")
        raise
    finally:
        api.stop()
        worker.stop()


async def test_the_installed_doctor_passes_and_policies_dir_still_points_elsewhere(
    installed: Path, surroundings: Surroundings, tmp_path: Path
) -> None:
    ours = tmp_path / "our-policies"
    ours.mkdir()
    shutil.copy2(REPO_ROOT / "policies" / "westminster.toml", ours / "westminster.toml")
    settings = surroundings.environment() | {"POLICIES_DIR": str(ours)}
    done = await asyncio.to_thread(
        subprocess.run,
        [str(installed / "complaints"), "doctor"],
        cwd=tmp_path,
        env=clean_environment(installed, tmp_path, settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"ok    policies: 1 in {ours}: westminster" in done.stdout.splitlines()


# --- the image, where Docker runs ---------------------------------------------------------------------


def docker_unavailable() -> str | None:
    """Why the image cannot be built here, or None."""
    if shutil.which("docker") is None:
        return "no docker command"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60, check=False)
    if info.returncode != 0:
        said = (info.stderr.strip().splitlines() or ["no answer"])[-1]
        return f"`docker info` failed ({said})"
    # The engine runs, but the tests reach no network beyond the package index: the base image must already
    # be on the machine (pulled by whoever runs it, or by COMPLAINTS_TEST_PULL_BASE_IMAGE=1 where allowed).
    bases = {arguments.split()[0] for keyword, arguments in dockerfile_instructions() if keyword == "FROM"}
    for base in bases:
        present = subprocess.run(["docker", "image", "inspect", base], capture_output=True, check=False)
        if present.returncode == 0:
            continue
        if os.environ.get("COMPLAINTS_TEST_PULL_BASE_IMAGE") != "1":
            return f"the base image {base} is not here (COMPLAINTS_TEST_PULL_BASE_IMAGE=1 pulls it)"
        pulled = subprocess.run(
            ["docker", "pull", base], capture_output=True, text=True, timeout=600, check=False
        )
        if pulled.returncode != 0:
            return f"the base image {base} cannot be pulled ({pulled.stderr.strip()[-200:]})"
    return None


def docker(*arguments: str, timeout: float = 120) -> str:
    done = subprocess.run(
        ["docker", *arguments], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise AssertionError(
            f"docker {' '.join(arguments[:2])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def docker_engine() -> None:
    reason = docker_unavailable()
    if reason is not None:
        pytest.skip(
            f"{reason}: the image is not built here; the virtualenv tests above install it the same way"
        )


async def test_the_image_runs_a_complaint_in_production(
    docker_engine: None, surroundings: Surroundings, tmp_path: Path
) -> None:
    image = f"complaints-test:{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(docker, "build", "--tag", image, str(REPO_ROOT), timeout=1800)
    # The host's network, so the container reaches the test's servers on loopback; the embedded PostgreSQL
    # listens on a Unix socket in a private folder, which only root can enter (the image's user is checked by
    # tests/test_compose.py).
    socket_folder = surroundings.database_url.partition("host=")[2].split("&")[0]
    base = ["run", "--network", "host", "--user", "0"]
    if socket_folder:
        base += ["--volume", f"{socket_folder}:{socket_folder}"]
    for name, value in surroundings.environment().items():
        base += ["--env", f"{name}={value}"]
    port = free_port()
    containers: list[str] = []
    try:
        doctor = await asyncio.to_thread(docker, *base, "--rm", image, "complaints", "doctor")
        assert "check(s) failed" not in doctor, doctor
        api_command = ["uvicorn", "--factory", "api.main:app", "--host", "127.0.0.1", "--port", str(port)]
        api_command += ["--no-proxy-headers", "--timeout-keep-alive", "75"]
        containers.append(await asyncio.to_thread(docker, *base, "--detach", image, *api_command))
        containers.append(await asyncio.to_thread(docker, *base, "--detach", image, "python", "-m", "worker"))
        logs = [tmp_path / "api.log", tmp_path / "worker.log"]
        for log in logs:
            log.touch()
        services = [
            Service(name, subprocess.Popen(["docker", "wait", container]), log)
            for name, container, log in zip(("api", "worker"), containers, logs, strict=True)
        ]
        try:
            await wait_until_serving(f"http://127.0.0.1:{port}", services, surroundings)
            await one_complaint_from_intake_to_acknowledgement(f"http://127.0.0.1:{port}", surroundings)
        finally:
            for service, container in zip(services, containers, strict=True):
                said = subprocess.run(
                    ["docker", "logs", container], capture_output=True, text=True, check=False
                )
                service.log.write_text(said.stdout + said.stderr, encoding="utf-8")
                service.stop()
    finally:
        for container in containers:
            docker("rm", "--force", container)
        docker("image", "rm", "--force", image)
