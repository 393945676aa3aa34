"""NATS's users and permissions and Valkey's ACL reach the Helm chart, the
kustomize base and the compose file as the very files in deploy/nats and
deploy/valkey, never as copies."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import pytest
import yaml

from tests.unit.deploy.manifests import DEPLOY, K8S, OVERLAYS, compose, config_map, named, rendered

ACCOUNTS = DEPLOY / "nats" / "accounts.conf"
VALKEY_FILES = ("valkey.conf", "users.acl", "sentinel.conf", "start-valkey.sh", "start-sentinel.sh")


def test_the_server_config_includes_the_accounts_file_and_fsyncs_always() -> None:
    conf = (DEPLOY / "nats" / "nats-server.conf").read_text()
    assert re.search(r"^include \./accounts\.conf$", conf, re.M)
    assert re.search(r"^\s*sync_interval: always$", conf, re.M)
    assert "authorization {" in ACCOUNTS.read_text()
    assert "authorization" not in re.sub(r"#.*", "", conf)  # one place only


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kustomize_makes_the_configmaps_from_the_files_themselves(overlay: str) -> None:
    docs = rendered(overlay)
    assert config_map(docs, "nats-accounts")["data"] == {"accounts.conf": ACCOUNTS.read_text()}
    valkey = config_map(docs, "valkey-config")["data"]
    assert valkey == {name: (DEPLOY / "valkey" / name).read_text() for name in VALKEY_FILES}
    assert named(docs, "ConfigMap", "nats-accounts")  # the chart mounts it by this very name


def test_the_nats_chart_includes_the_accounts_configmap() -> None:
    values = yaml.safe_load((K8S / "nats" / "values.yaml").read_text())
    include = PurePosixPath("/etc/nats-config") / values["config"]["merge"]["$include"]
    [mount] = [p["value"] for p in values["container"]["patch"] if p["path"] == "/volumeMounts/-"]
    [volume] = [p["value"] for p in values["podTemplate"]["patch"] if p["path"] == "/spec/volumes/-"]
    assert volume["configMap"]["name"] == "nats-accounts" and mount["name"] == volume["name"]
    resolved = PurePosixPath(*_normalise(include.parts))
    assert resolved == PurePosixPath(mount["mountPath"]) / "accounts.conf"
    # Cluster of three, JetStream on files, every write fsynced before the PubAck.
    assert values["config"]["cluster"] == {"enabled": True, "replicas": 3}
    assert values["config"]["jetstream"]["fileStore"]["enabled"] is True
    assert values["config"]["jetstream"]["merge"]["sync_interval"] == "always"
    passwords = set(re.findall(r"\$([A-Z]+_NATS_PASSWORD)", ACCOUNTS.read_text()))
    assert set(values["container"]["env"]) == passwords


def _normalise(parts: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for part in parts:
        if part == "..":
            out.pop()
        else:
            out.append(part)
    return out


def test_compose_mounts_the_folders_themselves() -> None:
    services = compose()["services"]
    for name in ("nats-1", "nats-2", "nats-3"):
        assert "../nats:/etc/nats:ro" in services[name]["volumes"], name
        assert "-c /etc/nats/nats-server.conf" in " ".join(services[name]["entrypoint"])
    for name in ("valkey-1", "valkey-2", "sentinel-1", "sentinel-2", "sentinel-3"):
        assert "../valkey:/etc/valkey:ro" in services[name]["volumes"], name
    passwords = set(re.findall(r"\$([A-Z]+)_NATS_PASSWORD", ACCOUNTS.read_text()))
    assert {f"nats-{user.lower()}-password" for user in passwords} == set(services["nats-1"]["secrets"])


def _script_variables(script: str) -> set[str]:
    return set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", (DEPLOY / "valkey" / script).read_text()))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_valkey_containers_set_only_what_their_start_script_reads(overlay: str) -> None:
    scripts = {"valkey": "start-valkey.sh", "sentinel": "start-sentinel.sh"}
    for workload in (d for d in rendered(overlay) if d["kind"] == "StatefulSet"):
        for container in workload["spec"]["template"]["spec"]["containers"]:
            script = scripts[container["name"]]
            assert container["command"] == ["/bin/sh", f"/etc/valkey/{script}"]
            env = {e["name"] for e in container["env"]} - {"POD_NAME"}  # POD_NAME only expands into ANNOUNCE_HOST
            assert env <= _script_variables(script), env - _script_variables(script)
    for name, service in compose()["services"].items():
        if name.startswith(("valkey-", "sentinel-")):
            script = service["entrypoint"][-1].rsplit("/", 1)[-1]
            assert set(service["environment"]) <= _script_variables(script), name
