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

Two more tests go through the descriptors field by field instead of at
random, so they cover every field on every run: each Timestamp of each
request set out of protobuf's range (defect 4), and each string, bytes and
repeated field set far over any bound (defect 5), each in an otherwise
plausible request, must be refused and never INTERNAL. Both fail on the
code before those fixes.

The default profile keeps the three services under a minute in `make test`
(derandomized, no example database, so CI runs the same examples every
time; about 30 s). ``ALONGSIDE_FUZZ_PROFILE=long`` (or ``make fuzz``) runs many more,
randomized.
"""

from __future__ import annotations

import os
import re
from typing import Any

import grpc
import pytest
from google.protobuf import text_format
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis.strategies import DataObject

from .conftest import STARTERS
from .harness import Target, all_services, difference, non_finite, served, strings
from .strategies import message
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
    role = data.draw(st.sampled_from(target.roles[method.full_name]), label="role")
    note(f"as {role}: {method.full_name}({text_format.MessageToString(request, as_one_line=True)[:3000]})")
    before = await target.settled()
    code, details = await target.call(method, request, role)
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


BAD_INSTANTS = [
    Timestamp(seconds=2_500_000_000_000),
    Timestamp(seconds=1_900_000_000, nanos=-7),
    Timestamp(seconds=-(2**62)),
    Timestamp(seconds=1_900_000_000, nanos=1_000_000_000),
]


@pytest.mark.parametrize("target", SERVICES, indirect=True)
@settings(PROFILE, max_examples=3)
@given(data=st.data())
async def test_no_instant_out_of_range_is_accepted_or_internal(target: Target, data: DataObject) -> None:
    """Every Timestamp of every request (found in the descriptors), out of
    protobuf's range in an otherwise plausible request: refused, never INTERNAL."""
    for method in target.methods:
        for path in instant_paths(method.input_type):
            base = data.draw(message(method.input_type, 0, True, False), label=method.name)
            for bad in BAD_INSTANTS:
                request = type(base)()
                request.CopyFrom(base)
                place(request, path, bad)
                code, _ = await target.call(method, request)
                where = f"{method.full_name} with {'.'.join(path)} = {bad}".replace("\n", " ")
                assert code not in FORBIDDEN and code != grpc.StatusCode.OK, f"{where}: {code.name}"


@pytest.mark.parametrize("target", SERVICES, indirect=True)
@settings(PROFILE, max_examples=1)
@given(data=st.data())
async def test_no_oversize_field_is_accepted(target: Target, data: DataObject) -> None:
    """Every string, bytes and repeated field of every request (found in the
    descriptors), far over any bound in an otherwise plausible request: refused."""
    for method in target.methods:
        base = data.draw(message(method.input_type, 0, True, False), label=method.name)
        for path, fd in sized_paths(method.input_type):
            request = type(base)()
            request.CopyFrom(base)
            holder = walk(request, path[:-1])
            holder.ClearField(fd.name)
            field = getattr(holder, fd.name)
            if fd.is_repeated:
                if fd.message_type is not None:
                    for _ in range(20_001):
                        field.add()
                else:
                    field.extend([_element(fd)] * 20_001)
            else:
                setattr(holder, fd.name, b"x" * 4_000_000 if fd.type == fd.TYPE_BYTES else "\u00e9" * 300_000)
            code, _ = await target.call(method, request)
            where = f"{method.full_name} with an oversize {'.'.join(path)}"
            assert code not in FORBIDDEN and code != grpc.StatusCode.OK, f"{where}: {code.name}"


def _element(fd: Any) -> Any:
    if fd.type == fd.TYPE_STRING:
        return "p1"
    if fd.type == fd.TYPE_BYTES:
        return b"x"
    if fd.type == fd.TYPE_ENUM:
        return fd.enum_type.values[-1].number
    return 1


def sized_paths(descriptor: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """(path, field) for every string, bytes and repeated field under ``descriptor``."""
    found: list[tuple[tuple[str, ...], Any]] = []
    for fd in descriptor.fields:
        kind = fd.message_type
        if kind is not None and kind.GetOptions().map_entry:
            continue
        if fd.is_repeated or fd.type in (fd.TYPE_STRING, fd.TYPE_BYTES):
            found.append(((*prefix, fd.name), fd))
        if kind is not None and not kind.full_name.startswith("google.protobuf.") and len(prefix) < 4:
            found += sized_paths(kind, (*prefix, fd.name))
    return found


def walk(message: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        field = getattr(message, name)
        message = (field[0] if len(field) else field.add()) if hasattr(field, "add") else field
    return message


def instant_paths(descriptor: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths to every Timestamp field under ``descriptor`` (repeated ones through their first element)."""
    found: list[tuple[str, ...]] = []
    for fd in descriptor.fields:
        kind = fd.message_type
        if kind is None or kind.GetOptions().map_entry or len(prefix) > 4:
            continue
        if kind.full_name == "google.protobuf.Timestamp":
            found.append((*prefix, fd.name))
        else:
            found += instant_paths(kind, (*prefix, fd.name))
    return found


def place(message: Any, path: tuple[str, ...], value: Timestamp) -> None:
    getattr(walk(message, path[:-1]), path[-1]).CopyFrom(value)


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
