"""TLS to the brokers in the deployment files: production turns it on for
every client of NATS and Valkey (services, Jobs, Sentinels, probes), dev
does not, and the Valkey start scripts write a TLS-only configuration.

The pip-installed valkey-server has no TLS, so the scripts run here with a
stand-in valkey-server that prints the configuration it is given (and a
valkey-cli that records its arguments); tests/integration/deploy runs them
with the real server, without TLS."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.deploy.manifests import DEPLOY, K8S, SERVICE_SETTINGS, config_map, named, rendered

TLS_VARIABLES = {f"{broker}_TLS_{part}_FILE" for broker in ("NATS", "REDIS") for part in ("CA", "CERT", "KEY")}


def _mounted(pod: dict[str, Any], container: dict[str, Any], path: str) -> str:
    """The Secret whose volume holds ``path`` in ``container``."""
    secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    for mount in container["volumeMounts"]:
        if path.startswith(mount["mountPath"].rstrip("/") + "/") and mount["name"] in secrets:
            return secrets[mount["name"]]
    raise AssertionError(f"{path} is not in a mounted Secret")


def test_production_services_verify_both_brokers_with_their_own_certificates() -> None:
    docs = rendered("production")
    settings = config_map(docs, "alongside-settings")["data"]
    assert settings.keys() >= TLS_VARIABLES
    for name in SERVICE_SETTINGS:
        pod = named(docs, "Deployment", name)["spec"]["template"]["spec"]
        container = pod["containers"][0]
        for variable in TLS_VARIABLES:
            assert _mounted(pod, container, settings[variable]) == f"{name}-tls", (name, variable)


def test_production_jobs_reach_the_brokers_over_tls() -> None:
    docs = rendered("production")
    for job in ("provision-streams", "provision-functions"):
        pod = named(docs, "Job", job)["spec"]["template"]["spec"]
        container = pod["containers"][0]
        env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
        assert env.keys() >= TLS_VARIABLES, job
        assert {_mounted(pod, container, env[v]) for v in TLS_VARIABLES} == {"alongside-admin-tls"}


def test_production_valkey_and_sentinels_take_tls_only_and_probe_over_it() -> None:
    docs = rendered("production")
    for name in ("valkey", "valkey-sentinel"):
        pod = named(docs, "StatefulSet", name)["spec"]["template"]["spec"]
        container = pod["containers"][0]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert _mounted(pod, container, env["TLS_DIR"] + "/tls.crt") == "valkey-tls"
        probe = " ".join(container["readinessProbe"]["exec"]["command"])
        assert f"--tls --cacert {env['TLS_DIR']}/ca.crt --cert {env['TLS_DIR']}/tls.crt" in probe, name


def test_dev_has_no_broker_tls() -> None:
    docs = rendered("dev")
    assert not config_map(docs, "alongside-settings")["data"].keys() & TLS_VARIABLES
    for workload in (d for d in docs if d["kind"] in ("StatefulSet", "Job", "Deployment")):
        for container in workload["spec"]["template"]["spec"]["containers"]:
            names = {e["name"] for e in container.get("env", [])}
            assert not names & (TLS_VARIABLES | {"TLS_DIR"}), workload["metadata"]["name"]


def test_the_nats_chart_values_require_tls_first_and_client_certificates() -> None:
    values = yaml.safe_load((K8S / "nats" / "values-tls.yaml").read_text())["config"]
    client = values["nats"]["tls"]
    assert client["enabled"] and client["secretName"] == "nats-tls"
    assert client["ca"] == "ca.crt"  # the chart then writes ca_file and verify: true
    assert client["merge"]["handshake_first"] is True  # what alongside.kit.broker_tls connects with
    assert values["cluster"]["tls"]["enabled"] and values["cluster"]["tls"]["ca"] == "ca.crt"


@pytest.fixture
def stand_ins(tmp_path: Path) -> Path:
    """valkey-server that prints its configuration file; valkey-cli that records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "valkey-server").write_text('#!/bin/sh\ncat "$1"\n')
    (bin_dir / "valkey-cli").write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/cli-args\nexit 1\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for user in ("admin", "peer", "matcher"):
        (secrets / f"valkey-{user}-password").write_text("pw\n")
    return tmp_path


def _run(script: str, folder: Path, **env: str) -> str:
    full = {
        "PATH": f"{folder / 'bin'}:/usr/bin:/bin",
        "CONF_DIR": str(DEPLOY / "valkey"),
        "RUN_DIR": str(folder / f"run-{script}"),
        "SECRETS_DIR": str(folder / "secrets"),
        "DATA_DIR": str(folder / "data"),
        "INITIAL_PRIMARY": "valkey-0.valkey-headless",
        "ANNOUNCE_HOST": "valkey-1.valkey-headless",
        "SENTINELS": "valkey-sentinel:26379",
        **env,
    }
    done = subprocess.run(
        ["/bin/sh", str(DEPLOY / "valkey" / script)], env=full, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(("script", "port"), [("start-valkey.sh", "6379"), ("start-sentinel.sh", "26379")])
def test_with_tls_dir_the_scripts_listen_on_tls_only(stand_ins: Path, script: str, port: str) -> None:
    config = _run(script, stand_ins, TLS_DIR="/etc/valkey-tls").splitlines()
    for line in (
        "port 0",
        f"tls-port {port}",
        "tls-cert-file /etc/valkey-tls/tls.crt",
        "tls-key-file /etc/valkey-tls/tls.key",
        "tls-ca-cert-file /etc/valkey-tls/ca.crt",
        "tls-auth-clients yes",
        "tls-replication yes",
    ):
        assert line in config, (script, line)
    # The Sentinels are asked where the primary is over TLS too.
    assert "--tls --cacert /etc/valkey-tls/ca.crt" in (stand_ins / "cli-args").read_text()


@pytest.mark.parametrize("script", ["start-valkey.sh", "start-sentinel.sh"])
def test_without_tls_dir_the_scripts_stay_plain(stand_ins: Path, script: str) -> None:
    config = _run(script, stand_ins, PORT="7001")
    assert "tls-" not in config and "port 7001" in config.splitlines()
    assert "--tls" not in (stand_ins / "cli-args").read_text()
