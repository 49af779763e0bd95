"""`complaints doctor` against the real test servers: it passes on a ready production configuration, and on a
broken one it names each failure with its fix and exits 1."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client

from cli.main import main
from tests.oidc_issuer import LocalIssuer


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    issuer = LocalIssuer()
    yield issuer
    issuer.stop()


def random_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def production_environment(postgres_url: str, temporal_address: str, issuer: LocalIssuer) -> dict[str, str]:
    return {
        "ENVIRONMENT": "production",
        "DATABASE_URL": postgres_url,
        "TEMPORAL_ADDRESS": temporal_address,
        "TEMPORAL_NAMESPACE": "default",
        "JWT_SECRET": random_key(),
        "PAYLOAD_KEYS": f"k2:{random_key()},k1:{random_key()}",
        "AUDIT_HMAC_KEY": random_key(),
        **issuer.settings_environment(),
    }


def run_doctor(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> tuple[int, dict[str, str]]:
    """Exit code, and each check's line by its name."""
    for name in list(os.environ):
        if name.startswith(("TEMPORAL_", "OIDC_", "DATABASE_", "POLICIES_")):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["doctor"])
    lines = capsys.readouterr().out.splitlines()
    checks = {line[6:].split(":")[0]: line for line in lines if line.startswith(("ok    ", "FAIL  "))}
    return code, checks


def test_doctor_passes_on_a_ready_production_configuration(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    postgres_server_url: str,
    temporal_dev_server: str,
    issuer: LocalIssuer,
) -> None:
    code, checks = run_doctor(
        monkeypatch, capsys, production_environment(postgres_server_url, temporal_dev_server, issuer)
    )
    assert code == 0, "\n".join(checks.values())
    for name in (
        "environment",
        "setting DATABASE_URL",
        "setting JWT_SECRET",
        "setting AUDIT_HMAC_KEY",
        "postgres",
        "temporal",
        "temporal namespace",
        "search attributes",
        "jwks",
        "payload keys",
        "policies",
    ):
        assert checks[name].startswith("ok    "), checks.get(name)
    assert "TLS off" in checks["postgres"]  # the embedded test server has no TLS, and none was asked for
    assert "k2 encrypts; k2, k1 decrypt" in checks["payload keys"]
    assert "1 signing key" in checks["jwks"]
    assert "bexley" in checks["policies"]


async def test_doctor_names_each_failure_and_its_fix(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    postgres_server_url: str,
    temporal_dev_server: str,
    issuer: LocalIssuer,
    tmp_path: Path,
) -> None:
    # A namespace without the service's search attributes (as a fresh cluster has).
    client = await Client.connect(temporal_dev_server)
    await client.workflow_service.register_namespace(
        RegisterNamespaceRequest(
            namespace="bare", workflow_execution_retention_period=Duration(seconds=86400)
        )
    )
    broken_policies = tmp_path / "policies"
    broken_policies.mkdir()
    (broken_policies / "ours.toml").write_text('id = "ours"\nname = "Our council"\n', encoding="utf-8")
    server, _, query = postgres_server_url.partition("?")
    no_database = server.rsplit("/", 1)[0] + "/no_such_database" + (f"?{query}" if query else "")
    env = production_environment(no_database, temporal_dev_server, issuer) | {
        "TEMPORAL_NAMESPACE": "bare",
        "OIDC_JWKS_URL": issuer.base_url + "/wrong/jwks.json",
        "POLICIES_DIR": str(broken_policies),
    }
    del env["AUDIT_HMAC_KEY"]  # left at the development key, which production refuses

    code, checks = await asyncio.to_thread(run_doctor, monkeypatch, capsys, env)

    assert code == 1
    assert (
        checks["setting AUDIT_HMAC_KEY"].startswith("FAIL")
        and "AUDIT_HMAC_KEY must be set" in checks["setting AUDIT_HMAC_KEY"]
    )
    assert checks["setting DATABASE_URL"].startswith("ok")
    assert checks["postgres"].startswith("FAIL") and "no_such_database" in checks["postgres"]
    assert "Fix: check DATABASE_URL" in checks["postgres"]
    assert checks["temporal"].startswith("ok") and checks["temporal namespace"].startswith("ok")
    attributes = checks["search attributes"]
    assert attributes.startswith("FAIL") and "missing in 'bare'" in attributes
    assert (
        "temporal operator search-attribute create --namespace bare --name Policy --type Keyword"
        in attributes
    )
    assert checks["jwks"].startswith("FAIL") and "Fix: check OIDC_JWKS_URL" in checks["jwks"]
    assert checks["policies"].startswith("FAIL") and "ours.toml" in checks["policies"]
    assert checks["payload keys"].startswith("ok")
