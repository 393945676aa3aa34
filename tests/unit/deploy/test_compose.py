"""deploy/compose: the HA topology on one host, held to the settings the
services read, the ports they listen on and the secrets it needs."""

from __future__ import annotations

import re
from typing import Any

from alongside.kit.settings import ConfigError
from tests.unit.deploy.manifests import (
    COMMANDS,
    COMPOSE,
    DEPLOY,
    SERVICE_SETTINGS,
    compose,
    console_port,
    env_example,
    grpc_ports,
    interpolate,
    is_alongside,
    metrics_ports,
    port_of,
    required,
    variables,
)


def _alongside_services() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose()["services"].items() if is_alongside(s["image"])}


def _command(service: dict[str, Any]) -> str:
    if "command" in service:
        return str(service["command"][0])
    return "alongside"  # the operator jobs run the CLI from a shell entrypoint


def test_it_mirrors_the_ha_topology() -> None:
    services = compose()["services"]
    assert {f"nats-{i}" for i in (1, 2, 3)} <= set(services)
    for i in (1, 2, 3):
        command = services[f"nats-{i}"]["command"]
        assert command[command.index("--name") + 1] == f"nats-{i}"
        routes = command[command.index("--routes") + 1].split(",")
        assert routes == [f"nats://nats-{n}:6222" for n in (1, 2, 3)]
    assert {"valkey-1", "valkey-2", "sentinel-1", "sentinel-2", "sentinel-3"} <= set(services)
    for name in SERVICE_SETTINGS:
        assert services[name]["deploy"]["replicas"] == 2, name
        env = services[name]["environment"]
        assert (env["REDIS_MIN_REPLICAS"], env["STREAM_REPLICAS"]) == ("1", "3")
        assert (env["PROVISION_STREAMS"], env["PROVISION_FUNCTIONS"]) == ("false", "false")
        assert services[name]["depends_on"] == {
            "provision-streams": {"condition": "service_completed_successfully"},
            "provision-functions": {"condition": "service_completed_successfully"},
        }
    assert "alongside streams provision --replicas 3" in " ".join(services["provision-streams"]["entrypoint"])
    assert "alongside valkey provision" in " ".join(services["provision-functions"]["entrypoint"])
    assert "console" in services


def test_every_variable_set_is_a_setting_and_the_settings_load() -> None:
    example = env_example()
    for name, service in _alongside_services().items():
        classes = COMMANDS[_command(service)]
        env = {k: interpolate(str(v), example) for k, v in service.get("environment", {}).items()}
        unknown = set(env) - variables(*classes)
        assert not unknown, f"{name} sets {unknown}, which no setting reads"
        if _command(service) == "alongside":
            continue
        cls = classes[0]
        assert not required(cls) - set(env) - {"SERVICE_NAME"}, name
        if cls.__name__ == "ConsoleSettings":
            assert required(classes[1]) <= set(env), "the OIDC_ settings the console needs"
        # Settings given as files (X_FILE, secrets read at start-up) stand in as values.
        values = {"NATS_URL": "nats://u:p@nats-1:4222", "REDIS_URL": "redis://u:p@valkey-1:6379/1"}
        files = {k.removesuffix("_FILE") for k in env if k.endswith("_FILE") and not k.startswith("OIDC_")}
        readable = {k: v for k, v in env.items() if k.removesuffix("_FILE") not in files}
        readable |= {k: values.get(k, "") for k in files}
        try:
            cls.from_env(readable)
        except ConfigError as exc:
            raise AssertionError(f"{name}: {exc}") from None


def test_ports_are_the_ones_the_services_listen_on() -> None:
    services = compose()["services"]
    for name, port in grpc_ports().items():
        env = services[name]["environment"]
        assert port_of(env["LISTEN_ADDR"]) == port
        assert port_of(env["METRICS_ADDR"]) == metrics_ports()[name]
        assert services["console"]["environment"][f"{name.upper()}_ADDR"] == f"{name}:{port}"
    assert port_of(services["console"]["environment"]["CONSOLE_ADDR"]) == console_port()
    assert services["console"]["ports"] == [f"${{CONSOLE_PORT:-8080}}:{console_port()}"]


def test_secrets_come_from_files_only() -> None:
    doc = compose()
    declared = doc["secrets"]
    assert all(set(s) == {"file"} and s["file"].startswith("./secrets/") for s in declared.values())
    used = {s for service in doc["services"].values() for s in service.get("secrets", [])}
    assert used == set(declared)
    made = (DEPLOY / "compose" / "make-secrets.sh").read_text()
    for name in declared:
        # make-secrets.sh writes each (directly, or as "<prefix>-$u-password" / "$k-token-key.pem" patterns).
        pattern = re.sub(r"(matcher|scheduler|notifier|admin|peer|operator)", r"(\1|\\$[a-z]+)", re.escape(name))
        assert re.search(pattern.replace("\\-", "-"), made), f"make-secrets.sh does not write {name}"
    for service in _alongside_services().values():
        for key, value in service.get("environment", {}).items():
            if key.endswith("_FILE") or key in ("AUTH_PRIVATE_KEY", "AUTH_PUBLIC_KEYS"):
                assert all(p.startswith("/run/secrets/") for p in str(value).split(",")), key
            assert not re.search(r"PASSWORD|SECRET", key) or key.endswith("_FILE"), key
            assert "://" not in str(value) or "@" not in str(value), f"{key} holds a login"


def test_env_example_lists_every_variable_compose_reads() -> None:
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", COMPOSE.read_text()))
    assert used == set(env_example())


def test_services_run_read_only_and_unprivileged() -> None:
    for name, service in _alongside_services().items():
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert service["tmpfs"] == ["/tmp"], name
        grace = float(interpolate(str(service.get("environment", {}).get("GRACE_SECONDS", "5")), env_example()))
        assert int(service["stop_grace_period"].rstrip("s")) > grace, name
    for service in compose()["services"].values():
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), image
