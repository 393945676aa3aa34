"""``alongside token issue``: a token always names someone."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from alongside.cli.app import app
from alongside.kit.auth.tokens import Key, Verifier

SECRET = "a-development-secret-long-enough-for-hs256"
RUNNER = CliRunner()
ENV: dict[str, str | None] = {"AUTH_HS256_SECRET": SECRET, "COLUMNS": "200"}


@pytest.mark.parametrize("role", ["peer", "intake", "admin", "service:matcher"])
@pytest.mark.parametrize("subject", ["", "   "])
def test_a_blank_subject_is_refused_and_the_cli_says_why(role: str, subject: str) -> None:
    result = RUNNER.invoke(app, ["token", "issue", "--role", role, "--sub", subject], env=ENV)
    assert result.exit_code == 2, result.output
    assert "--sub" in result.output and "subject is required" in result.output
    assert "Traceback" not in result.output and "eyJ" not in result.output  # no token printed


def test_a_named_subject_gets_a_token_that_verifies() -> None:
    result = RUNNER.invoke(app, ["token", "issue", "--role", "peer", "--sub", "p-1"], env=ENV)
    assert result.exit_code == 0, result.output
    identity = Verifier([Key("HS256", SECRET)], "alongside", "alongside").verify(result.stdout.strip())
    assert (identity.subject, identity.role) == ("p-1", "peer")


def test_an_unknown_role_is_still_named() -> None:
    result = RUNNER.invoke(app, ["token", "issue", "--role", "root", "--sub", "x"], env=ENV)
    assert result.exit_code == 2 and "--role" in result.output


@pytest.mark.parametrize(
    ("variable", "value"), [("ALONGSIDE_SUBJECT", ""), ("ALONGSIDE_SUBJECT", "  "), ("ALONGSIDE_ROLE", "root")]
)
def test_the_development_token_names_someone_too(variable: str, value: str) -> None:
    env = {**ENV, "ALONGSIDE_MATCHER": "127.0.0.1:9", "ALONGSIDE_TOKEN": None, variable: value}
    result = RUNNER.invoke(app, ["roster", "list"], env=env)
    assert result.exit_code == 2, result.output
    assert variable in result.output and "Traceback" not in result.output
