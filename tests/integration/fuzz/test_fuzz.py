"""Property-based fuzzing of every RPC of every service, through the real
gRPC servers on real NATS and Valkey.

For each service the RPCs come from the server itself (reflection), so an
RPC or service added later is fuzzed without anyone listing it; each call
carries a token for a role the RPC's policy allows. Requests are generated
from the message descriptors (``strategies``). The properties:

- no call answers INTERNAL or UNKNOWN: every foreseeable bad input has a
  status of its own;
- a refused call (any status but OK) changed nothing: the service's keys
  and values in Valkey and the message counts of the JetStream streams are
  as before (the audit trail aside: refused calls are audited);
- INVALID_ARGUMENT names the field (``peer.languages[3]: ...``), and no
  error repeats a value of the request;
- no call that carries a NaN or an infinity succeeds.

The default profile keeps the three services under a minute in `make test`
(derandomized, no example database, so CI runs the same examples every
time). ``ALONGSIDE_FUZZ_PROFILE=long`` (or ``make fuzz``) runs many more,
randomized.
"""

from __future__ import annotations

import os
import re

import grpc
import pytest
from google.protobuf import text_format
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis.strategies import DataObject

from .conftest import STARTERS
from .harness import Target, all_services, difference, non_finite, served, strings
from .strategies import request as requests

settings.register_profile(
    "default",
    max_examples=int(os.environ.get("ALONGSIDE_FUZZ_EXAMPLES", "150")),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "long",
    parent=settings.get_profile("default"),
    max_examples=int(os.environ.get("ALONGSIDE_FUZZ_EXAMPLES", "3000")),
    derandomize=False,
)
PROFILE = settings.get_profile(os.environ.get("ALONGSIDE_FUZZ_PROFILE", "default"))
# "peer.languages[3]: ...", "preferences.quiet_hours.start_minute: ..."
FIELD = re.compile(r"^[a-z_][a-z0-9_]*(\[\d+\])?(\.[a-z_][a-z0-9_]*(\[\d+\])?)*: ")
FORBIDDEN = (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)
SERVICES = ["matcher", "scheduler", "notifier"]


@pytest.mark.parametrize("target", SERVICES, indirect=True)
@PROFILE
@given(data=st.data())
async def test_no_rpc_answers_internal_and_a_refused_call_changes_nothing(target: Target, data: DataObject) -> None:
    method = data.draw(st.sampled_from(target.methods), label="rpc")
    request = data.draw(requests(method.input_type), label="request")
    note(f"{method.full_name}({text_format.MessageToString(request, as_one_line=True)[:3000]})")
    before = await target.settled()
    code, details = await target.call(method, request)
    assert code not in FORBIDDEN, f"{method.full_name} answered {code.name}"
    if code == grpc.StatusCode.OK:
        assert not non_finite(request), f"{method.full_name} took a NaN or infinity"
        return
    after = await target.snapshot()
    assert after == before, f"{method.full_name} was refused ({code.name}) but: {difference(before, after)}"
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        assert FIELD.match(details), f"{method.full_name}: INVALID_ARGUMENT does not name the field: {details[:200]}"
    echoed = [v for v in strings(request) if len(v) >= 8 and v in details]
    assert not echoed, f"{method.full_name}: the error repeats a value of the request: {details[:200]}"


async def test_every_service_in_the_api_is_served_by_one_of_ours(nats_url: str, redis_url: str, namespace: str) -> None:
    served_names: set[str] = set()
    for start in STARTERS.values():
        runtime = await start(nats_url, redis_url, namespace)
        await runtime.start()
        try:
            served_names |= {s.full_name for s in await served(runtime.port)}
        finally:
            await runtime.stop()
    declared = {s.full_name for s in all_services()}
    assert declared <= served_names, f"declared but served by none of {SERVICES}: {declared - served_names}"
