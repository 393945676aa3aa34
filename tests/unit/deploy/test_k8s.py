"""The Kubernetes manifests (deploy/k8s), rendered by kustomize, held to what
the code knows: probes, security, resources, settings and ports."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import yaml

from alongside.kit.settings import ConfigError, Settings
from tests.unit.deploy.manifests import (
    COMMANDS,
    DEPLOY,
    K8S,
    OVERLAYS,
    SERVICE_SETTINGS,
    Doc,
    config_map,
    console_port,
    grpc_ports,
    is_alongside,
    metrics_ports,
    named,
    of_kind,
    pod_specs,
    port_of,
    rendered,
    required,
    variables,
)

WORKLOADS = (*SERVICE_SETTINGS, "console")


def test_every_yaml_file_under_deploy_parses() -> None:
    files = sorted(DEPLOY.rglob("*.yaml"))
    assert len(files) > 10
    for path in files:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        assert docs, path


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders(overlay: str) -> None:
    docs = rendered(overlay)
    for name in WORKLOADS:
        named(docs, "Deployment", name)
        named(docs, "Service", name)
    assert {j["metadata"]["name"] for j in of_kind(docs, "Job")} == {"provision-streams", "provision-functions"}
    assert not of_kind(docs, "Secret"), "Secrets are referenced, never shipped"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_secret_referenced_is_documented(overlay: str) -> None:
    documented = (K8S / "README.md").read_text()
    names = set()
    for _, pod in pod_specs(rendered(overlay)):
        names |= {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
        for container in pod["containers"]:
            sources = [e.get("valueFrom", {}) for e in container.get("env", [])]
            names |= {source["secretKeyRef"]["name"] for source in sources if "secretKeyRef" in source}
    assert names
    for name in names:
        generic = name
        for service in SERVICE_SETTINGS:
            generic = generic.replace(f"{service}-", "<service>-") if name.startswith(service) else generic
        assert f"`{name}`" in documented or f"`{generic}`" in documented, f"{name} is not in deploy/k8s/README.md"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_has_probes_security_resources_pdb_and_hpa(overlay: str) -> None:
    docs = rendered(overlay)
    grace = float(config_map(docs, "alongside-settings")["data"].get("GRACE_SECONDS", Settings.grace_seconds))
    deployments = of_kind(docs, "Deployment")
    assert {d["metadata"]["name"] for d in deployments} == set(WORKLOADS)
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert probe in container, f"{name} lacks a {probe}"
        assert pod["terminationGracePeriodSeconds"] > grace, name
        labels = deployment["spec"]["selector"]["matchLabels"]
        pdbs = [p for p in of_kind(docs, "PodDisruptionBudget") if p["spec"]["selector"]["matchLabels"] == labels]
        assert len(pdbs) == 1, f"{name}: one PodDisruptionBudget"
        hpas = [h for h in of_kind(docs, "HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"]["name"] == name]
        assert len(hpas) == 1, f"{name}: one HorizontalPodAutoscaler"
        assert [m["resource"]["name"] for m in hpas[0]["spec"]["metrics"]] == ["cpu"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_workload_runs_locked_down_with_resources(overlay: str) -> None:
    for workload, pod in pod_specs(rendered(overlay)):
        name = workload["metadata"]["name"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert pod.get("automountServiceAccountToken") is False, name
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["runAsNonRoot"] is True, name
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"] == {"drop": ["ALL"]}, name
            assert security["seccompProfile"] == {"type": "RuntimeDefault"}, name
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][kind]), f"{name} {kind}"


def _probe_port(probe: dict[str, Any]) -> tuple[int, str]:
    """(port, health service) of a native gRPC probe or an alongside.kit.probe exec probe."""
    if "grpc" in probe:
        return int(probe["grpc"]["port"]), probe["grpc"].get("service", "")
    command = probe["exec"]["command"]
    assert command[:3] == ["python", "-m", "alongside.kit.probe"], command
    service = command[command.index("--service") + 1] if "--service" in command else ""
    return port_of(command[-1]), service


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_service_ports_and_probes_are_the_ones_the_services_listen_on(overlay: str) -> None:
    docs = rendered(overlay)
    for name, port in grpc_ports().items():
        container = named(docs, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert port_of(env["LISTEN_ADDR"]) == port
        assert port_of(env["METRICS_ADDR"]) == metrics_ports()[name]
        expected = {"grpc": port, "metrics": metrics_ports()[name]}
        assert {p["name"]: p["containerPort"] for p in container["ports"]} == expected
        assert {p["name"]: p["port"] for p in named(docs, "Service", name)["spec"]["ports"]} == expected
        assert _probe_port(container["readinessProbe"]) == (port, "")  # the overall status: Redis and NATS
        assert _probe_port(container["startupProbe"]) == (port, "")
        assert _probe_port(container["livenessProbe"]) == (port, "alongside.liveness")
    console = named(docs, "Deployment", "console")["spec"]["template"]["spec"]["containers"][0]
    assert console["ports"] == [{"name": "http", "containerPort": console_port()}]
    assert {p["port"] for p in named(docs, "Service", "console")["spec"]["ports"]} == {console_port()}
    settings = config_map(docs, "console-settings")["data"]
    for name, port in grpc_ports().items():
        host, _, addr_port = settings[f"{name.upper()}_ADDR"].rpartition(":")
        assert (host, int(addr_port)) == (name, port)


def test_base_uses_native_grpc_probes_and_production_speaks_tls() -> None:
    dev, production = rendered("dev"), rendered("production")
    for name in SERVICE_SETTINGS:
        dev_container = named(dev, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
        assert "grpc" in dev_container["readinessProbe"]
        prod_container = named(production, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e.get("value") for e in prod_container["env"]}
        assert {"TLS_CERT_FILE", "TLS_KEY_FILE", "TLS_CLIENT_CA_FILE"} <= set(env), name  # mTLS
        assert "--tls-cert" in prod_container["readinessProbe"]["exec"]["command"]
        assert named(production, "Deployment", name)["spec"]["replicas"] == 3
    console = config_map(production, "console-settings")["data"]
    assert {"TLS_CA_FILE", "TLS_CLIENT_CERT_FILE", "TLS_CLIENT_KEY_FILE"} <= set(console)


def _container_env(docs: tuple[Doc, ...], container: dict[str, Any]) -> dict[str, str]:
    """The container's variables: its env (secret references become placeholders) and its ConfigMaps."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(config_map(docs, source["configMapRef"]["name"].rsplit("-", 1)[0])["data"])
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        elif "secretKeyRef" in item["valueFrom"]:
            env[item["name"]] = _placeholder(item["name"])
        else:
            key = item["valueFrom"]["configMapKeyRef"]
            env[item["name"]] = config_map(docs, key["name"].rsplit("-", 1)[0])["data"][key["key"]]
    return _with_tls_urls(env)


def _placeholder(variable: str) -> str:
    return {"NATS_URL": "nats://user:pw@nats-0:4222", "REDIS_URL": "redis://user:pw@valkey-0:6379/1"}[variable]


def _with_tls_urls(env: dict[str, str]) -> dict[str, str]:
    """Where the brokers' TLS files are set, the URL Secrets say tls:// and rediss+sentinel://
    (deploy/k8s/README.md): the placeholders follow."""
    urls = {
        "NATS_TLS_CA_FILE": ("NATS_URL", "tls://user:pw@nats-0:4222"),
        "REDIS_TLS_CA_FILE": ("REDIS_URL", "rediss+sentinel://user:pw@valkey-sentinel-0:26379/alongside/1"),
    }
    return env | {url: value for tls, (url, value) in urls.items() if tls in env and url in env}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_variable_set_is_a_setting_and_the_settings_load(overlay: str) -> None:
    docs = rendered(overlay)
    checked = set()
    for workload, pod in pod_specs(docs):
        for container in pod["containers"]:
            if not is_alongside(container["image"]):
                continue
            command = container["args"][0]
            classes = COMMANDS[command]
            env = _container_env(docs, container)
            unknown = set(env) - variables(*classes)
            assert not unknown, f"{workload['metadata']['name']} sets {unknown}, which no setting reads"
            cls = classes[0]
            missing = required(cls) - set(env) - {"SERVICE_NAME"}
            assert not missing, f"{command} needs {missing}"
            if command == "alongside-console":
                assert env.get("OIDC_ISSUER"), "production sign-in is OpenID Connect"
                assert required(classes[1]) <= set(env), "OIDC_ settings the console needs"
            if command != "alongside":
                try:
                    cls.from_env(_files_read(env, cls))
                except ConfigError as exc:
                    pytest.fail(f"{workload['metadata']['name']}: {exc}")
            checked.add(command)
    assert checked == set(COMMANDS)


def _files_read(env: dict[str, str], cls: type[Any]) -> dict[str, str]:
    """``env`` as ``cls`` reads it: a setting given as a file (X_FILE, read at start-up) stands in as a value."""
    values = {"SMTP_PASSWORD": "", "WEBHOOK_SECRET": ""} | {v: _placeholder(v) for v in ("NATS_URL", "REDIS_URL")}
    fields = {f.name.upper() for f in dataclasses.fields(cls)}
    by_file = {name for name in env if name not in fields and name.removesuffix("_FILE") in fields}
    read = {name: value for name, value in env.items() if name not in by_file}
    return read | {name.removesuffix("_FILE"): values[name.removesuffix("_FILE")] for name in by_file}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_image_is_pinned(overlay: str) -> None:
    images = [c["image"] for _, pod in pod_specs(rendered(overlay)) for c in pod["containers"]]
    assert images
    for image in images:
        assert "@sha256:" in image or (":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest")), image
    values = yaml.safe_load((K8S / "nats" / "values.yaml").read_text())
    assert values["container"]["image"]["tag"] not in ("", "latest")


def test_network_policies_let_only_the_ingress_reach_the_console() -> None:
    docs = rendered("production")
    console = named(docs, "NetworkPolicy", "console")
    assert console["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "console"}}
    [rule] = console["spec"]["ingress"]
    assert [list(peer) for peer in rule["from"]] == [["namespaceSelector"]]
    egress_ports = {p["port"] for r in console["spec"]["egress"] for p in r["ports"]}
    assert set(grpc_ports().values()) <= egress_ports
    deny = named(docs, "NetworkPolicy", "default-deny")
    assert deny["spec"]["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in deny["spec"]
    for workload in of_kind(docs, "Deployment", "StatefulSet", "Job"):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert labels.get("app.kubernetes.io/part-of") == "alongside", "every pod falls under default-deny"


def test_services_reach_only_dns_nats_valkey_and_https() -> None:
    policy = named(rendered("production"), "NetworkPolicy", "services")
    ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]}
    assert ports == {53, 4222, 6379, 26379, 443}
    ingress_ports = {p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]}
    assert ingress_ports == {"grpc", "metrics"}
