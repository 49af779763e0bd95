"""The one Temporal client helper: connections built from the SDK's environment configuration (variables
and TOML profiles), the options asserted as the SDK receives them, and a real connection to the dev server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.service import TLSConfig

from core.settings import Settings
from core.temporal import TemporalConfigError, connect, connect_options, data_converter

CLOUD_ADDRESS = "hartlepool-complaints.a1b2c.tmprl.cloud:7233"
CLOUD_NAMESPACE = "hartlepool-complaints.a1b2c"


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No TEMPORAL_* variable of the machine running the tests leaks into them."""
    for name in list(os.environ):
        if name.startswith("TEMPORAL_"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    """Certificate files as an operator would lay them out (their contents travel to the SDK unchanged)."""
    files = {
        "cert": "-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n",
        "key": "-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n",
        "ca": "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n",
    }
    paths = {}
    for name, text in files.items():
        paths[name] = tmp_path / f"{name}.pem"
        paths[name].write_text(text, encoding="utf-8")
    return paths


def test_api_key_from_the_environment_turns_tls_on(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("TEMPORAL_ADDRESS", CLOUD_ADDRESS)
    clean_environment.setenv("TEMPORAL_NAMESPACE", CLOUD_NAMESPACE)
    clean_environment.setenv("TEMPORAL_API_KEY", "cloud-api-key")
    settings = Settings(_env_file=None)
    assert "cloud-api-key" not in repr(settings), "the key is a secret: never in a repr or a log"
    assert connect_options(settings=settings) == {
        "target_host": CLOUD_ADDRESS,
        "namespace": CLOUD_NAMESPACE,
        "api_key": "cloud-api-key",
        "tls": True,
    }


def test_mtls_from_the_environment(clean_environment: pytest.MonkeyPatch, pki: dict[str, Path]) -> None:
    clean_environment.setenv("TEMPORAL_ADDRESS", "temporal.council.internal:7233")
    clean_environment.setenv("TEMPORAL_NAMESPACE", "complaints")
    clean_environment.setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", str(pki["cert"]))
    clean_environment.setenv("TEMPORAL_TLS_CLIENT_KEY_PATH", str(pki["key"]))
    clean_environment.setenv("TEMPORAL_TLS_SERVER_CA_CERT_PATH", str(pki["ca"]))
    clean_environment.setenv("TEMPORAL_TLS_SERVER_NAME", "temporal.council.internal")
    options = connect_options(settings=Settings(_env_file=None))
    assert options == {
        "target_host": "temporal.council.internal:7233",
        "namespace": "complaints",
        "tls": TLSConfig(
            client_cert=pki["cert"].read_bytes(),
            client_private_key=pki["key"].read_bytes(),
            server_root_ca_cert=pki["ca"].read_bytes(),
            domain="temporal.council.internal",
        ),
    }


def test_the_settings_file_values_reach_the_sdk_too(pki: dict[str, Path]) -> None:
    """Values from `.env` (here: passed to Settings) count as much as the process environment."""
    settings = Settings(
        _env_file=None,
        temporal_address=CLOUD_ADDRESS,
        temporal_namespace=CLOUD_NAMESPACE,
        temporal_tls_client_cert_path=pki["cert"],
        temporal_tls_client_key_path=pki["key"],
    )
    options = connect_options(settings=settings, environ={})
    assert options["target_host"] == CLOUD_ADDRESS
    assert options["tls"] == TLSConfig(
        client_cert=pki["cert"].read_bytes(), client_private_key=pki["key"].read_bytes()
    )


def test_profile_file_with_environment_overrides(
    clean_environment: pytest.MonkeyPatch, tmp_path: Path, pki: dict[str, Path]
) -> None:
    config = tmp_path / "temporal.toml"
    config.write_text(
        f"""
[profile.default]
address = "127.0.0.1:7233"

[profile.cloud-mtls]
address = "{CLOUD_ADDRESS}"
namespace = "{CLOUD_NAMESPACE}"
[profile.cloud-mtls.tls]
client_cert_path = "{pki["cert"]}"
client_key_path = "{pki["key"]}"

[profile.cloud-key]
address = "{CLOUD_ADDRESS}"
namespace = "{CLOUD_NAMESPACE}"
api_key = "key-from-the-file"
""",
        encoding="utf-8",
    )
    clean_environment.setenv("TEMPORAL_CONFIG_FILE", str(config))
    assert connect_options(settings=Settings(_env_file=None)) == {
        "target_host": "127.0.0.1:7233",
        "namespace": "default",
    }

    clean_environment.setenv("TEMPORAL_PROFILE", "cloud-mtls")
    assert connect_options(settings=Settings(_env_file=None)) == {
        "target_host": CLOUD_ADDRESS,
        "namespace": CLOUD_NAMESPACE,
        "tls": TLSConfig(client_cert=pki["cert"].read_bytes(), client_private_key=pki["key"].read_bytes()),
    }

    # The environment wins over the file, as with the `temporal` CLI: here a staging namespace.
    clean_environment.setenv("TEMPORAL_PROFILE", "cloud-key")
    clean_environment.setenv("TEMPORAL_NAMESPACE", "hartlepool-staging.a1b2c")
    assert connect_options(settings=Settings(_env_file=None)) == {
        "target_host": CLOUD_ADDRESS,
        "namespace": "hartlepool-staging.a1b2c",
        "api_key": "key-from-the-file",
        "tls": True,
    }


def test_configuration_mistakes_are_told_plainly(
    clean_environment: pytest.MonkeyPatch, tmp_path: Path, pki: dict[str, Path]
) -> None:
    with pytest.raises(TemporalConfigError, match="no Temporal address"):
        connect_options(settings=Settings(_env_file=None))

    config = tmp_path / "temporal.toml"
    config.write_text('[profile.default]\naddress = "127.0.0.1:7233"\n', encoding="utf-8")
    with pytest.raises(TemporalConfigError, match="'cloud' not found"):
        connect_options(
            settings=Settings(_env_file=None, temporal_config_file=config, temporal_profile="cloud")
        )

    missing = tmp_path / "nowhere.pem"
    with pytest.raises(TemporalConfigError, match="nowhere.pem"):
        connect_options(
            settings=Settings(
                _env_file=None,
                temporal_address=CLOUD_ADDRESS,
                temporal_tls_client_cert_path=missing,
                temporal_tls_client_key_path=pki["key"],
            )
        )
    with pytest.raises(ValidationError, match="go together"):
        Settings(_env_file=None, temporal_address=CLOUD_ADDRESS, temporal_tls_client_cert_path=pki["cert"])


async def test_connects_to_the_dev_server_without_tls_or_key(
    clean_environment: pytest.MonkeyPatch, temporal_dev_server: str
) -> None:
    clean_environment.setenv("TEMPORAL_ADDRESS", temporal_dev_server)
    settings = Settings(_env_file=None)
    assert connect_options(settings=settings) == {"target_host": temporal_dev_server, "namespace": "default"}
    client = await connect(settings=settings)
    assert client.namespace == "default"
    assert await client.service_client.check_health()
    assert (await client.count_workflows("WorkflowType = 'NoSuchType'")).count == 0
    assert client.data_converter.payload_converter_class is data_converter().payload_converter_class
