"""ImportCaseload through gRPC against real Redis and NATS: a programme's
existing active matches come in as real matches, with loads that never
over-fill a peer, per-row errors, a dry run and idempotent re-runs."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import AsyncIterator

import grpc
import pytest

from alongside.api.audit.v1 import audit_pb2, audit_pb2_grpc
from alongside.api.matcher.v1 import events_pb2 as ev
from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.testing import leaks
from alongside.kit.testing.auth import TEST_AUTH, channel
from alongside.kit.testing.wait import eventually
from alongside.matcher.adapters.store import MatcherStore
from alongside.matcher.bootstrap import build
from alongside.matcher.service.stats_backfill import StatsBackfill
from alongside.matcher.settings import MatcherSettings

from .conftest import NOW, Matcher, intake, peer, upsert

ON_REQUEST = pb.ERASURE_REASON_ON_REQUEST
HEADER = "peer_id,participant_ref,acuity,start_date\n"


def caseload_csv(rows: list[tuple[str, str, int, str]]) -> bytes:
    return (HEADER + "".join(f"{p},{r},{a},{d}\n" for p, r, a, d in rows)).encode()


def store_of(m: Matcher) -> MatcherStore:
    deps = m.runtime.deps
    assert deps is not None
    return MatcherStore(deps.redis, deps.keys)


async def active_units(m: Matcher, peer_id: str) -> tuple[int, int]:
    """(active matches, their acuity units) as the stored match records say."""
    store = store_of(m)
    found = await store.matches(await store.match_ids_of(peer_id, 0, 10_000))
    active = [x for x in found if x is not None and x.status == pb.MATCH_STATUS_ACTIVE]
    return len(active), sum(x.acuity for x in active)


async def load_of(m: Matcher, peer_id: str) -> int:
    return (await m.stub.GetPeer(pb.GetPeerRequest(peer_id=peer_id))).peer.load


async def import_caseload(m: Matcher, key: str, csv: bytes, dry_run: bool = False) -> pb.ImportCaseloadResponse:
    return await m.stub.ImportCaseload(pb.ImportCaseloadRequest(idempotency_key=key, csv=csv, dry_run=dry_run))


async def roster_of(m: Matcher, count: int, capacity: int, prefix: str) -> list[str]:
    ids = [f"{prefix}{i:03d}" for i in range(count)]
    lines = ["peer_id,types,time_zone,availability,capacity"]
    lines += [f"{i},recovery_coach,America/Chicago,mon 09:00-17:00; wed 09:00-17:00,{capacity}" for i in ids]
    reply = await m.stub.ImportRoster(
        pb.ImportRosterRequest(idempotency_key=f"roster-{prefix}", csv="\n".join(lines).encode())
    )
    assert reply.imported == count and not reply.errors
    return ids


async def test_2000_matches_over_300_peers(matcher: Matcher) -> None:
    peers = await roster_of(matcher, 300, capacity=24, prefix="cl-p")
    rng = random.Random(16)
    rows = []
    for n in range(2000):
        rows.append((peers[n % 300], f"cl-ref-{n:05d}", rng.randint(1, 3), f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}"))
    started = time.perf_counter()
    reply = await import_caseload(matcher, "cl-big", caseload_csv(rows))
    took = time.perf_counter() - started
    assert (reply.imported, reply.already_imported, list(reply.errors)) == (2000, 0, [])
    expected_units, expected_count = Counter[str](), Counter[str]()
    for p, _, acuity, _ in rows:
        expected_units[p] += acuity
        expected_count[p] += 1
    listed = await matcher.stub.ListPeers(pb.ListPeersRequest(page_size=500))
    assert {p.peer_id: p.load for p in listed.peers} == dict(expected_units)
    for p in peers:
        assert await active_units(matcher, p) == (expected_count[p], expected_units[p])
    events = await matcher.events("match")
    assert Counter(e.type for e in events) == {"match.imported": 2000, "match.caseload_imported": 300}
    summaries = [e.parse(ev.CaseloadImported) for e in events if e.type == "match.caseload_imported"]
    assert {s.peer_id: s.matches for s in summaries} == dict(expected_count)
    stats = await matcher.stub.GetProgrammeStats(pb.GetProgrammeStatsRequest())
    assert stats.caseload.active_peers == 300 and stats.caseload.load_units == sum(expected_units.values())
    assert not any(point.matched.value for point in stats.waiting)  # no intakes: nothing "matched" here
    print(f"imported 2000 matches over 300 peers in {took:.2f} s")


async def test_dry_run_changes_nothing(matcher: Matcher) -> None:
    await upsert(matcher, peer("dr-p1", capacity=3))
    csv = caseload_csv([("dr-p1", "dr-a", 2, "2026-05-01"), ("dr-p1", "dr-b", 2, "2026-05-02")])
    dry = await import_caseload(matcher, "dr-1", csv, dry_run=True)
    assert dry.imported == 1 and [(e.line, e.field) for e in dry.errors] == [(3, "acuity")]
    assert await load_of(matcher, "dr-p1") == 0
    assert await active_units(matcher, "dr-p1") == (0, 0)
    assert not [e for e in await matcher.events("match") if e.type == "match.imported"]
    assert not await store_of(matcher).r.exists(store_of(matcher).k.caseload_imported)
    real = await import_caseload(matcher, "dr-2", csv)
    assert real.imported == 1 and await load_of(matcher, "dr-p1") == 2


async def test_a_row_that_would_overfill_is_refused_alone(matcher: Matcher) -> None:
    await upsert(matcher, peer("of-p1", capacity=4), peer("of-p2", capacity=1))
    # A match accepted through intake already holds one unit of of-p1.
    request = (await matcher.stub.SubmitMatchRequest(intake("of-intake"))).request
    await matcher.stub.AcceptMatch(
        pb.AcceptMatchRequest(idempotency_key="of-acc", request_id=request.request_id, peer_id="of-p1")
    )
    csv = caseload_csv(
        [
            ("of-p1", "of-a", 2, "2026-01-10"),
            ("of-p1", "of-b", 2, "2026-01-11"),  # 1 + 2 + 2 > 4
            ("of-p1", "of-c", 1, "2026-01-12"),  # still fits
            ("of-p2", "of-d", 2, "2026-01-13"),  # over on its own
        ]
    )
    reply = await import_caseload(matcher, "of-1", csv)
    assert reply.imported == 2
    assert [(e.line, e.field) for e in reply.errors] == [(3, "acuity"), (5, "acuity")]
    assert "load 3 + acuity 2 exceeds capacity 4" in reply.errors[0].reason
    assert all("of-b" not in e.reason and "of-d" not in e.reason for e in reply.errors)  # no participant refs
    assert await load_of(matcher, "of-p1") == 4 and await load_of(matcher, "of-p2") == 0
    assert await active_units(matcher, "of-p1") == (3, 4)


async def test_bad_fields_are_reported_by_line_and_field(matcher: Matcher) -> None:
    await upsert(matcher, peer("bf-p1", capacity=50))
    text = (
        HEADER
        + "bf-p1,bf-ok,1,2026-02-01\n"
        + "bf-nobody,bf-x1,1,2026-02-01\n"  # 3: unknown peer
        + "bf-p1,Jane Doe,1,2026-02-01\n"  # 4: a name is no pseudonymous reference
        + "bf-p1,bf-x2,0,2026-02-01\n"  # 5
        + "bf-p1,bf-x3,lots,2026-02-01\n"  # 6
        + "bf-p1,bf-x4,1,01/02/2026\n"  # 7
        + "bf-p1,bf-x5,1,2027-12-01\n"  # 8: in the future (the clock says 2027-03-03)
        + "bf-p1,bf-x6,1\n"  # 9: a field short
        + "bf-p1,bf-ok,2,2026-02-02\n"  # 10: the same pair again
        + ",bf-x7,1,2026-02-01\n"  # 11
        + "\n"
        + "bf-p1,bf-ok2,101,2026-02-01\n"  # 13
    ).encode()
    reply = await import_caseload(matcher, "bf-1", text)
    assert reply.imported == 1
    assert [(e.line, e.field) for e in reply.errors] == [
        (3, "peer_id"),
        (4, "participant_ref"),
        (5, "acuity"),
        (6, "acuity"),
        (7, "start_date"),
        (8, "start_date"),
        (9, "row"),
        (10, "participant_ref"),
        (11, "peer_id"),
        (13, "acuity"),
    ]
    assert all("Jane" not in e.reason for e in reply.errors)
    assert await load_of(matcher, "bf-p1") == 1


@pytest.mark.parametrize(
    ("csv", "field"),
    [
        (b"peer_id,participant_ref,acuity\nx,y,1\n", "csv"),
        (b"peer_id;participant_ref;acuity;start_date\n", "csv"),
        (HEADER.replace("\n", ",name\n").encode(), "csv"),
        (b"\xff\xfe", "csv"),
    ],
)
async def test_a_bad_file_is_refused_naming_the_field(matcher: Matcher, csv: bytes, field: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await import_caseload(matcher, "bad-file", csv)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in (info.value.details() or "")


async def test_rerun_is_idempotent(matcher: Matcher) -> None:
    await upsert(matcher, peer("re-p1", capacity=10), peer("re-p2", capacity=10))
    csv = caseload_csv([("re-p1", "re-a", 2, "2026-03-01"), ("re-p2", "re-b", 3, "2026-03-02")])
    first = await import_caseload(matcher, "re-1", csv)
    assert (first.imported, first.already_imported) == (2, 0)
    replay = await import_caseload(matcher, "re-1", csv)  # the same key: the first answer
    assert replay == first
    again = await import_caseload(matcher, "re-2", csv)  # a new key: the pairs are known
    assert (again.imported, again.already_imported, list(again.errors)) == (0, 2, [])
    more = caseload_csv([("re-p1", "re-a", 2, "2026-03-01"), ("re-p1", "re-c", 1, "2026-03-03")])
    third = await import_caseload(matcher, "re-3", more)
    assert (third.imported, third.already_imported) == (1, 1)
    assert await load_of(matcher, "re-p1") == 3 and await load_of(matcher, "re-p2") == 3
    assert await active_units(matcher, "re-p1") == (2, 3)
    events = await matcher.events("match")
    assert len([e for e in events if e.type == "match.imported"]) == 3
    summaries = [e.parse(ev.CaseloadImported) for e in events if e.type == "match.caseload_imported"]
    assert sorted((s.peer_id, s.matches) for s in summaries) == [("re-p1", 1), ("re-p1", 1), ("re-p2", 1)]
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await import_caseload(matcher, "re-1", more)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "idempotency_key" in (info.value.details() or "")


async def test_imported_matches_are_real_matches(matcher: Matcher) -> None:
    await upsert(matcher, peer("rm-p1", capacity=5))
    await import_caseload(matcher, "rm-1", caseload_csv([("rm-p1", "rm-ref-1", 3, "2025-11-20")]))
    (event,) = [e for e in await matcher.events("match") if e.type == "match.imported"]
    body = event.parse(ev.MatchImported)
    assert body.peer_id == "rm-p1" and body.started_at.ToJsonString().startswith("2025-11-20T00:00:00")
    assert b"rm-ref-1" not in event.body  # ids and dates only
    match = (await matcher.stub.GetMatch(pb.GetMatchRequest(match_id=body.match_id))).match
    assert match.imported and match.status == pb.MATCH_STATUS_ACTIVE
    assert (match.peer_id, match.participant_ref, match.acuity) == ("rm-p1", "rm-ref-1", 3)
    assert match.request_id == body.request_id
    # The peer sees the assignment, but nothing of the participant: no consent is recorded.
    port = matcher.runtime.port
    async with channel(f"127.0.0.1:{port}", role="peer", subject="rm-p1") as chan:
        as_peer = matcher_pb2_grpc.MatcherServiceStub(chan)
        listed = await as_peer.ListAssignments(pb.ListAssignmentsRequest(peer_id="rm-p1"))
    (assignment,) = listed.assignments
    assert assignment.match_id == body.match_id and not assignment.disclosed
    assert assignment.reason == "consent not given"
    assert not assignment.participant.participant_ref
    closed = await matcher.stub.CloseMatch(
        pb.CloseMatchRequest(idempotency_key="rm-close", match_id=body.match_id, reason=pb.CLOSE_REASON_COMPLETED)
    )
    assert closed.match.status == pb.MATCH_STATUS_CLOSED and await load_of(matcher, "rm-p1") == 0
    again = await import_caseload(matcher, "rm-2", caseload_csv([("rm-p1", "rm-ref-1", 3, "2025-11-20")]))
    assert (again.imported, again.already_imported) == (0, 1)  # a closed match is not brought back
    assert await load_of(matcher, "rm-p1") == 0


@pytest.fixture
async def erasing(nats_url: str, redis_url: str, namespace: str) -> AsyncIterator[Matcher]:
    settings = MatcherSettings.from_env(
        {}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace=namespace, erasure_on_request=True
    )
    runtime = build(settings, clock=lambda: NOW)
    await runtime.start()
    async with channel(f"127.0.0.1:{runtime.port}", role="manager", subject="mgr-1") as chan:
        yield Matcher(runtime, matcher_pb2_grpc.MatcherServiceStub(chan), namespace)
    await runtime.stop()


async def test_erasure_finds_an_imported_participant_and_leaves_no_trace(
    erasing: Matcher, redis_admin_url: str
) -> None:
    m, ref = erasing, "ref-cnryimported"
    await upsert(m, peer("er-p1", capacity=5))
    await import_caseload(m, "er-1", caseload_csv([("er-p1", ref, 2, "2025-10-01")]))
    (match_id,) = await store_of(m).match_ids_of("er-p1", 0, 10)
    with pytest.raises(grpc.aio.AioRpcError) as info:  # active: close it first, as for any match
        await m.stub.EraseParticipant(
            pb.EraseParticipantRequest(idempotency_key="er-e0", participant_ref=ref, reason=ON_REQUEST)
        )
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    await m.stub.CloseMatch(
        pb.CloseMatchRequest(idempotency_key="er-close", match_id=match_id, reason=pb.CLOSE_REASON_COMPLETED)
    )
    erase = pb.EraseParticipantRequest(
        idempotency_key="er-e1", participant_ref=ref, reason=pb.ERASURE_REASON_ON_REQUEST
    )
    erased = await m.stub.EraseParticipant(erase)
    assert list(erased.erasure.match_ids) == [match_id]
    after = (await m.stub.GetMatch(pb.GetMatchRequest(match_id=match_id))).match
    assert after.participant_ref == "" and after.acuity == 0
    await m.drained()
    assert await leaks.redis_leaks(redis_admin_url, f"{m.namespace}:*", [ref]) == []
    deps = m.runtime.deps
    assert deps is not None
    assert await leaks.stream_leaks(deps.js, m.namespace, [ref]) == []


async def test_only_managers_import(matcher: Matcher) -> None:
    async with channel(f"127.0.0.1:{matcher.runtime.port}", role="intake", subject="in-1") as chan:
        stub = matcher_pb2_grpc.MatcherServiceStub(chan)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.ImportCaseload(pb.ImportCaseloadRequest(idempotency_key="k", csv=HEADER.encode()))
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def accept(m: Matcher, request_id: str, peer_id: str) -> grpc.StatusCode:
    try:
        await m.stub.AcceptMatch(
            pb.AcceptMatchRequest(idempotency_key=f"acc-{request_id}", request_id=request_id, peer_id=peer_id)
        )
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


async def late_import(m: Matcher, key: str, csv: bytes, delay_s: float) -> pb.ImportCaseloadResponse:
    await asyncio.sleep(delay_s)  # not a wait: it shifts where the import lands among the accepts
    return await import_caseload(m, key, csv)


async def test_concurrent_import_and_accepts_never_overfill(matcher: Matcher) -> None:
    """Accepts and an import race for the same peer's last units, five rounds,
    the import starting a little later each round (some accepts win, then some imports)."""
    mixes: set[tuple[int, int]] = set()
    for round_ in range(5):
        pid = f"cc-p{round_}"
        await upsert(matcher, peer(pid, capacity=6))
        request_ids = []
        for i in range(12):
            req = intake(f"cc-{round_}-{i}", excluded_peer_ids=[f"cc-p{r}" for r in range(round_)])
            request_ids.append((await matcher.stub.SubmitMatchRequest(req)).request.request_id)
        csv = caseload_csv([(pid, f"cc-ref-{round_}-{i}", 1, "2026-06-01") for i in range(6)])
        reply, *codes = await asyncio.gather(
            late_import(matcher, f"cc-imp-{round_}", csv, round_ * 0.006),
            *(accept(matcher, r, pid) for r in request_ids),
        )
        assert isinstance(reply, pb.ImportCaseloadResponse)
        accepted = codes.count(grpc.StatusCode.OK)
        assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ABORTED}
        assert reply.imported + len(reply.errors) == 6
        mixes.add((reply.imported, accepted))
        load = await load_of(matcher, pid)
        assert load == reply.imported + accepted <= 6
        assert await active_units(matcher, pid) == (load, load)
    print(f"(imported, accepted) per round: {sorted(mixes)}")


async def test_each_import_leaves_an_audit_record(matcher: Matcher) -> None:
    await upsert(matcher, peer("au-p1", capacity=5))
    csv = caseload_csv([("au-p1", "au-ref-1", 1, "2026-04-01")])
    await import_caseload(matcher, "au-dry", csv, dry_run=True)
    await import_caseload(matcher, "au-1", csv)
    action = "/alongside.matcher.v1.MatcherService/ImportCaseload"
    found: list[audit_pb2.AuditRecord] = []

    async with channel(f"127.0.0.1:{matcher.runtime.port}", role="manager", subject="au-mgr") as chan:
        trail = audit_pb2_grpc.AuditServiceStub(chan)

        async def relayed() -> bool:
            reply = await trail.ListAuditRecords(audit_pb2.ListAuditRecordsRequest(action=action))
            found[:] = reply.records
            return len(found) >= 2

        await eventually(relayed, what="two ImportCaseload audit records")
    assert [(r.actor, r.outcome) for r in found] == [("test-admin", "OK"), ("test-admin", "OK")]
    assert all(b"au-ref-1" not in r.SerializeToString() for r in found)


async def test_the_same_file_imported_twice_at_once_lands_once(matcher: Matcher) -> None:
    peers = await roster_of(matcher, 20, capacity=10, prefix="tw-p")
    csv = caseload_csv([(peers[n % 20], f"tw-ref-{n}", 1 + n % 2, "2026-07-01") for n in range(100)])
    first, second = await asyncio.gather(import_caseload(matcher, "tw-1", csv), import_caseload(matcher, "tw-2", csv))
    assert sorted([first.imported, second.imported]) == [0, 100]
    assert sorted([first.already_imported, second.already_imported]) == [0, 100]
    for p in peers:
        count, units = await active_units(matcher, p)
        assert count == 5 and units == await load_of(matcher, p) <= 10


async def test_the_dashboard_backfill_gives_an_imported_match_no_time_to_match(matcher: Matcher) -> None:
    await upsert(matcher, peer("bk-p1", capacity=5))
    await import_caseload(matcher, "bk-1", caseload_csv([("bk-p1", "bk-ref-1", 1, "2026-02-02")]))
    store = store_of(matcher)
    (match_id,) = await store.match_ids_of("bk-p1", 0, 10)
    await store.r.delete(store.k.stats_matches)  # as a store from before the dashboard's facts
    await StatsBackfill(store).once()
    assert await store.r.hget(store.k.stats_matches, match_id) is None
