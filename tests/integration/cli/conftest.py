"""The CLI against real services: runtimes in-process on port 0 (one namespace,
so events flow between them), the CLI through typer's runner in a worker
thread so the services keep serving on the event loop meanwhile."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import structlog
from typer.testing import CliRunner, Result

from alongside.cli.app import app
from alongside.kit import logging as kit_logging
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import TEST_AUTH
from alongside.kit.testing.servers import free_port
from alongside.kit.testing.smtp import SmtpSink
from alongside.matcher.bootstrap import build as build_matcher
from alongside.matcher.settings import MatcherSettings
from alongside.notifier.bootstrap import build as build_notifier
from alongside.notifier.settings import NotifierSettings
from alongside.scheduler.bootstrap import build as build_scheduler
from alongside.scheduler.settings import SchedulerSettings

RUNNER = CliRunner()
ROSTER = (
    "peer_id,display_name,types,languages,cultures,modalities,age_groups,time_zone,availability,capacity\n"
    "p-es,Demo Peer ES (fictional),recovery_coach,en; es,latino,phone; video,adult,America/New_York,"
    "mon 09:00-17:00; tue 09:00-17:00; wed 09:00-17:00; thu 09:00-17:00; fri 09:00-17:00,2\n"
    "p-en,Demo Peer EN (fictional),recovery_coach,en,,phone; video,adult,America/New_York,"
    "mon 09:00-17:00; tue 09:00-17:00; wed 09:00-17:00; thu 09:00-17:00; fri 09:00-17:00,1\n"
)


INTAKE = """\
participant:
  ref: demo-p-0001
  age_band: adult
  time_zone: America/New_York
  availability: ["mon 09:00-12:00", "wed 13:00-16:00"]
peer_types: [recovery_coach]
preferences:
  languages: [es]
urgency: routine
acuity: 1
"""


@dataclass
class Stack:
    env: dict[str, str | None]
    runtimes: list[Runtime] = field(default_factory=list)
    sink: SmtpSink | None = None

    async def run(self, *args: str, env: dict[str, str | None] | None = None) -> Result:
        """``alongside ARGS`` with this stack's addresses; never raises, see ``exit_code``."""
        return await asyncio.to_thread(RUNNER.invoke, app, list(args), env={**self.env, **(env or {})})

    async def json(self, *args: str) -> Any:
        result = await self.run("--json", *args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


@pytest.fixture(autouse=True)
def own_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI looks for its config under XDG_CONFIG_HOME/HOME: never the real user's."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("ALONGSIDE_CONFIG", raising=False)
    # Nor a `make run` data folder (./var) of the checkout the tests run in.
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return home


@pytest.fixture(autouse=True)
def quiet_service_logs() -> Iterator[None]:
    """Service logs go to a buffer of their own, never into the CLI's captured stdout."""
    saved = logging.getLogger().handlers[:]
    kit_logging.configure("cli-tests", "warning", stream=io.StringIO())
    yield
    structlog.reset_defaults()
    logging.getLogger().handlers[:] = saved


def base_env(nats_url: str, redis_url: str) -> dict[str, str | None]:
    closed = free_port()  # nothing listens here: a service not started reads as down
    env: dict[str, str | None] = {"NATS_URL": nats_url, "REDIS_URL": redis_url, "COLUMNS": "200"}
    # Whatever the developer's shell sets must not leak in.
    env.update(ALONGSIDE_JSON=None, ALONGSIDE_TIMEOUT=None, ALONGSIDE_SMTP_SINK_DIR=None)
    for name in ("matcher", "scheduler", "notifier"):
        env[f"ALONGSIDE_{name.upper()}"] = f"127.0.0.1:{closed}"
    return env


async def start(runtime: Runtime, stack: Stack, name: str) -> None:
    port = await runtime.start()
    stack.runtimes.append(runtime)
    stack.env[f"ALONGSIDE_{name.upper()}"] = f"127.0.0.1:{port}"


@pytest.fixture
async def matcher_only(nats_url: str, redis_url: str, namespace: str) -> AsyncIterator[Stack]:
    stack = Stack(base_env(nats_url, redis_url))
    settings = MatcherSettings.from_env({}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace=namespace)
    await start(build_matcher(settings), stack, "matcher")
    yield stack
    await stop(stack.runtimes)


@pytest.fixture
async def full_stack(
    nats_url: str, redis_url: str, redis_admin_url: str, namespace: str, tmp_path: Path
) -> AsyncIterator[Stack]:
    sink = SmtpSink(tmp_path / "mail")
    sink.start()
    # The CLI is an operator's tool: `status` asks Valkey for INFO, which the services' login may not.
    stack = Stack(base_env(nats_url, redis_admin_url), sink=sink)
    shared: dict[str, Any] = {
        **TEST_AUTH,
        "nats_url": nats_url,
        "redis_url": redis_url,
        "namespace": namespace,
        "grace_seconds": 0.3,
    }
    try:
        await start(build_matcher(MatcherSettings.from_env({}, **shared)), stack, "matcher")
        scheduler = SchedulerSettings.from_env(
            {}, **shared, reminder_poll_seconds=0.05, consumer_backoff_seconds=0.05, plan_time_limit_seconds=2.0
        )
        await start(build_scheduler(scheduler), stack, "scheduler")
        notifier = NotifierSettings.from_env(
            {},
            **shared,
            smtp_port=sink.port,
            smtp_timeout_seconds=2.0,
            webhook_timeout_seconds=1.0,
            delivery_lease_seconds=5.0,
            delivery_poll_seconds=0.05,
            delivery_backoff_base_seconds=0.05,
            watch_block_ms=200,
        )
        await start(build_notifier(notifier), stack, "notifier")
        yield stack
    finally:
        await stop(stack.runtimes)
        sink.stop()


async def stop(runtimes: Sequence[Runtime]) -> None:
    for runtime in reversed(runtimes):
        await runtime.stop()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


async def imported(stack: Stack, tmp_path: Path) -> None:
    result = await stack.run("roster", "import", str(write(tmp_path / "roster.csv", ROSTER)))
    assert result.exit_code == 0, result.output


async def submit(stack: Stack, tmp_path: Path, ref: str = "demo-p-0001") -> str:
    doc = INTAKE.replace("demo-p-0001", ref)
    reply = await stack.json("intake", "submit", str(write(tmp_path / f"{ref}.yaml", doc)))
    return str(reply["request"]["request_id"])
