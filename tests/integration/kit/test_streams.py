"""Stream provisioning: by the services themselves (the default), or by an
operator with `alongside streams provision`, the services only checking."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import nats
import pytest
from nats.js import JetStreamContext
from typer.testing import CliRunner

from alongside.cli.app import app
from alongside.kit.events.streams import CATALOGUE, MissingStreams, require, stream_name
from alongside.kit.testing.auth import AUTH_ENV, TEST_AUTH
from alongside.kit.testing.processes import Child
from alongside.scheduler.bootstrap import build
from alongside.scheduler.settings import SchedulerSettings


@pytest.fixture
async def js(nats_url: str) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(nats_url)
    yield nc.jetstream()
    await nc.close()


def provision_with_cli(nats_url: str, *args: str, timeout_s: float = 10.0) -> tuple[int, str]:
    env = {"NATS_URL": nats_url, "NAMESPACE": None, "ALONGSIDE_TIMEOUT": str(timeout_s)}
    result = CliRunner().invoke(app, ["streams", "provision", *args], env=env)
    return result.exit_code, result.output


async def test_a_service_that_may_not_provision_stops_and_names_the_missing_streams(
    nats_url: str, redis_url: str, namespace: str, js: JetStreamContext
) -> None:
    settings = SchedulerSettings.from_env(
        {}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace=namespace, provision_streams=False
    )
    with pytest.raises(MissingStreams) as missing:
        await build(settings).start()
    assert missing.value.names == [stream_name(namespace, spec) for spec in CATALOGUE]
    with pytest.raises(MissingStreams):
        await require(js, namespace)  # and it created none of them

    code, output = await asyncio.to_thread(provision_with_cli, nats_url, "--namespace", namespace)
    assert code == 0, output
    assert all(stream_name(namespace, spec) in output for spec in CATALOGUE)
    await require(js, namespace)
    runtime = build(settings)
    await runtime.start()  # now it finds them
    await runtime.stop()


def test_the_process_exits_with_a_message_not_a_traceback(nats_url: str, redis_url: str, namespace: str) -> None:
    env = {**AUTH_ENV, "NATS_URL": nats_url, "REDIS_URL": redis_url, "NAMESPACE": namespace, "PROVISION_STREAMS": "0"}
    with pytest.raises(RuntimeError, match="exited with 2") as failed:
        Child("alongside.scheduler", env)
    assert "JetStream streams missing" in str(failed.value)
    assert "Traceback" not in str(failed.value)


async def test_provisioning_by_the_service_sets_the_replicas(
    nats_url: str, redis_url: str, namespace: str, js: JetStreamContext
) -> None:
    settings = SchedulerSettings.from_env(
        {}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace=namespace, stream_replicas=1
    )
    runtime = build(settings)
    await runtime.start()
    await runtime.stop()
    info = await js.stream_info(stream_name(namespace, CATALOGUE[0]))
    assert info.config.num_replicas == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--replicas", "9"], "--replicas must be between 1 and 5"), (["--namespace", "a.b"], "--namespace may hold")],
)
def test_bad_provisioning_input_is_refused(nats_url: str, args: list[str], message: str) -> None:
    code, output = provision_with_cli(nats_url, *args)
    assert code == 2 and message in output


def test_an_unreachable_nats_is_reported(unused_tcp_port: int) -> None:
    code, output = provision_with_cli(f"nats://admin:s3cret-pw@127.0.0.1:{unused_tcp_port}", timeout_s=1.0)
    assert code == 3 and f"cannot reach NATS at 127.0.0.1:{unused_tcp_port}" in output
    assert "s3cret-pw" not in output  # the URL's password is never echoed
