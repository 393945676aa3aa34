"""The intake form is checked by the policy the matcher runs: a preferred certification
is an error under the built-in policy and fine where the programme's policy allows it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import grpc
from grpc import aio
from starlette.testclient import TestClient

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.console import intake_form
from alongside.console.app import create_app
from alongside.console.rpc import Backends
from alongside.console.settings import ConsoleSettings
from alongside.matcher.adapters.policy_file import load_policy
from alongside.matcher.domain.programme_policy import DEFAULT_POLICY
from alongside.matcher.policy_mappers import policy_in, policy_out
from tests.unit.console.test_intake_form import NOW, good

EXAMPLE = Path(__file__).parents[3] / "docs" / "examples" / "policy.yaml"


def test_a_preferred_certification_follows_the_matchers_policy() -> None:
    preferred = good(pref_certifications="CPSS", pref_certifications_strength="preferred")
    refused = intake_form.check(preferred, NOW, DEFAULT_POLICY)
    assert refused.errors == {"pref_certifications": "must be REQUIRED for a certification"}
    # As the console gets it: GetPolicy's message, back into the matcher's policy.
    policy = policy_in(policy_out(load_policy(str(EXAMPLE), DEFAULT_POLICY)))
    checked = intake_form.check(preferred, NOW, policy)
    assert checked.ok, checked.errors
    assert checked.request.preferences.certifications.strength == pb.STRENGTH_PREFERRED


def test_the_policy_survives_the_round_trip_through_the_api() -> None:
    policy = load_policy(str(EXAMPLE), DEFAULT_POLICY)
    again = policy_in(policy_out(policy))
    assert again == policy and again.digest == policy.digest and again.source == policy.source
    assert policy_in(policy_out(DEFAULT_POLICY)) == DEFAULT_POLICY


class PolicyCalls:
    def __init__(self, backends: PolicyFake) -> None:
        self.b = backends

    async def policy(self) -> pb.ProgrammePolicy:
        self.b.asked += 1
        if self.b.down:
            raise aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, aio.Metadata(), aio.Metadata(), "down")
        return self.b.policy


class PolicyFake(Backends):
    def __init__(self, settings: ConsoleSettings) -> None:
        super().__init__(settings)
        self.policy = policy_out(load_policy(str(EXAMPLE), DEFAULT_POLICY))
        self.asked, self.down = 0, False

    def open(self) -> None:
        pass

    def as_person(self, token: str) -> Any:
        return PolicyCalls(self)


def test_the_form_is_checked_as_you_type_by_the_matchers_policy() -> None:
    settings = ConsoleSettings.from_env({}, dev_sign_in=True, auth_hs256_secret="s" * 40)
    backends = PolicyFake(settings)
    with TestClient(create_app(settings, backends), base_url="http://127.0.0.1:8080") as client:
        csrf = re.findall(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)[0]
        client.post("/sign-in/dev", data={"role": "intake", "subject": "staff-1", "csrf_token": csrf},
                    follow_redirects=False)
        csrf = re.findall(r'name="csrf_token" value="([^"]+)"', client.get("/intake/new").text)[0]
        fields = {"csrf_token": csrf, "pref_certifications": "CPSS", "pref_certifications_strength": "preferred",
                  "touched": "pref_certifications"}
        allowed = client.post("/intake/validate", data=fields, headers={"hx-request": "true"})
        assert allowed.status_code == 200 and "must be REQUIRED for a certification" not in allowed.text
        backends.down = True  # the matcher cannot say: the built-in policy's rule, the matcher decides on submit
        backends.policy = pb.ProgrammePolicy()
        refused = client.post("/intake/validate", data=fields, headers={"hx-request": "true"})
        assert "must be REQUIRED for a certification" in refused.text
