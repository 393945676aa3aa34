"""Which stack the CLI talks to (issue 18, defects 1 and 2): the endpoints
`make run` writes, the stack id each service answers to, and the config the
CLI finds from any folder. The matcher runs in-process with a stack id, as
`make run` starts it; the data folder is written as `make run` writes it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from alongside.cli import config
from alongside.kit.testing.auth import TEST_AUTH, TEST_SECRET, token
from alongside.matcher.bootstrap import build as build_matcher
from alongside.matcher.settings import MatcherSettings

from .conftest import Stack, base_env, no_traceback, start, stop

STACK_ID = "a1b2c3d4e5f60718"


def data_folder(root: Path, matcher: str, stack_id: str = STACK_ID, running: bool = True) -> Path:
    var = root / "var"
    var.mkdir(parents=True)
    (var / "dev-auth-secret").write_text(TEST_SECRET)
    if running:
        endpoints = {"stack_id": stack_id, "data_dir": str(var), "pid": 1, "matcher": matcher, "console": None}
        (var / "endpoints.json").write_text(json.dumps(endpoints))
    return var


@pytest.fixture
async def stacked(nats_url: str, redis_url: str, namespace: str) -> AsyncIterator[Stack]:
    """A matcher started with STACK_ID; the CLI's env names no address, secret or token."""
    stack = Stack(base_env(nats_url, redis_url))
    settings = MatcherSettings.from_env(
        {}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace=namespace, stack_id=STACK_ID
    )
    await start(build_matcher(settings), stack, "matcher")
    stack.env.update(AUTH_HS256_SECRET=None, ALONGSIDE_TOKEN=None)
    yield stack
    await stop(stack.runtimes)


def matcher_address(stack: Stack) -> str:
    address = stack.env.pop("ALONGSIDE_MATCHER")
    assert address is not None
    return address


async def test_the_cli_finds_the_ports_make_run_chose_in_var(
    stacked: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    var = data_folder(tmp_path / "clone", matcher_address(stacked))
    monkeypatch.chdir(tmp_path / "clone")
    result = await stacked.run("roster", "list")
    no_traceback(result)
    assert result.exit_code == 0, result.output
    report = json.loads((await stacked.run("--json", "status")).stdout)
    assert report["stack"]["data_dir"] == str(var) and report["stack"]["stack_id"] == STACK_ID
    matcher = next(c for c in report["components"] if c["component"] == "matcher")
    assert matcher["up"] and "(this stack)" in matcher["detail"]
    table = await stacked.run("status")
    assert f"Stack in {var} (stack {STACK_ID})" in table.stdout


async def test_the_token_never_goes_to_a_stack_it_did_not_start(
    stacked: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Our stack's endpoints name a port where another stack's matcher answers.
    address = matcher_address(stacked)
    var = data_folder(tmp_path / "clone", address, stack_id="ffffffffffffffff")
    monkeypatch.chdir(tmp_path / "clone")
    result = await stacked.run("roster", "list")
    no_traceback(result)
    assert result.exit_code == 3
    assert f"is not part of the stack in {var} (stack ffffffffffffffff)" in result.stderr
    assert "signature" not in result.stderr
    # An exported token goes no further to an address the stack's endpoints gave...
    exported = await stacked.run("roster", "list", env={"ALONGSIDE_TOKEN": token("admin")})
    assert exported.exit_code == 3 and "is not part of the stack" in exported.stderr
    # ...but to an address the user names, it does.
    named = await stacked.run("roster", "list", env={"ALONGSIDE_TOKEN": token("admin"), "ALONGSIDE_MATCHER": address})
    assert named.exit_code == 0, named.output
    status = await stacked.run("--json", "status")
    assert status.exit_code == 1
    matcher = next(c for c in json.loads(status.stdout)["components"] if c["component"] == "matcher")
    assert matcher["state"] == "other stack" and not matcher["up"]


async def test_a_stack_that_is_not_running_lends_no_token(
    stacked: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    var = data_folder(tmp_path / "clone", "unused", running=False)
    monkeypatch.chdir(tmp_path / "clone")
    result = await stacked.run("roster", "list")
    assert result.exit_code == 1
    assert f"the stack in {var} is not running" in result.stderr
    # Someone else's matcher answers at the default port: status must not call it ours.
    monkeypatch.setitem(config.DEFAULT_ADDRESSES, "matcher", matcher_address(stacked))
    status = await stacked.run("--json", "status")
    assert status.exit_code == 1
    matcher = next(c for c in json.loads(status.stdout)["components"] if c["component"] == "matcher")
    assert matcher["state"] == "other stack" and f"the stack in {var} is not running" in matcher["detail"]


async def test_from_another_folder_the_error_names_where_it_looked(
    stacked: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own_config_home: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = await stacked.run("roster", "list")
    no_traceback(result)
    assert result.exit_code == 1
    assert "the CLI found no token" in result.stderr
    assert "ALONGSIDE_CONFIG (not set)" in result.stderr
    assert str(own_config_home / ".config" / "alongside" / "config.json") in result.stderr
    assert str(elsewhere / "var") in result.stderr
    assert "alongside login" in result.stderr


async def test_login_then_any_folder_works(
    stacked: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own_config_home: Path
) -> None:
    var = data_folder(tmp_path / "clone", matcher_address(stacked))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    login = await stacked.run("login", str(var))
    assert login.exit_code == 0, login.output
    written = own_config_home / ".config" / "alongside" / "config.json"
    assert json.loads(written.read_text()) == {"data_dir": str(var)}
    assert written.stat().st_mode & 0o077 == 0
    result = await stacked.run("roster", "list")
    assert result.exit_code == 0, result.output


async def test_an_explicit_config_wins(stacked: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    var = data_folder(tmp_path / "clone", matcher_address(stacked))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert (await stacked.run("--config", str(var), "roster", "list")).exit_code == 0
    config = elsewhere / "alongside.json"
    config.write_text(json.dumps({"data_dir": str(var)}))
    result = await stacked.run("roster", "list", env={"ALONGSIDE_CONFIG": str(config)})
    assert result.exit_code == 0, result.output
    missing = await stacked.run("roster", "list", env={"ALONGSIDE_CONFIG": str(elsewhere / "nope.json")})
    assert missing.exit_code == 2 and "ALONGSIDE_CONFIG names" in missing.stderr
