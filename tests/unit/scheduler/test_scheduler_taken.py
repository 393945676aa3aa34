"""The process-local hint of taken spans: what it remembers, and what it forgets."""

from __future__ import annotations

import random

from alongside.scheduler.service.taken import MAX_PEERS, MAX_SPANS, MAXLEN_MS, Taken

HOUR = 3_600_000
PAD = 15 * 60_000
NOW = 1_000 * HOUR


def test_a_span_within_the_buffer_looks_taken() -> None:
    taken = Taken()
    taken.note("p1", NOW + 10 * HOUR, NOW + 11 * HOUR, NOW)
    assert taken.likely("p1", NOW + 11 * HOUR, NOW + 12 * HOUR, PAD)  # starts inside the buffer
    assert taken.likely("p1", NOW + 9 * HOUR, NOW + 10 * HOUR, PAD)
    assert not taken.likely("p1", NOW + 11 * HOUR + PAD, NOW + 12 * HOUR, PAD)
    assert not taken.likely("p2", NOW + 10 * HOUR, NOW + 11 * HOUR, PAD)


def test_a_long_span_is_found_from_far_before() -> None:
    taken = Taken()
    taken.note("p1", NOW + 10 * HOUR, NOW + 10 * HOUR + MAXLEN_MS, NOW)
    assert taken.likely("p1", NOW + 17 * HOUR, NOW + 17 * HOUR + HOUR, PAD)


def test_forget_drops_what_the_script_found_free() -> None:
    taken = Taken()
    taken.note("p1", NOW + 10 * HOUR, NOW + 11 * HOUR, NOW)
    taken.note("p1", NOW + 14 * HOUR, NOW + 15 * HOUR, NOW)
    taken.forget("p1", NOW + 10 * HOUR, NOW + 11 * HOUR, PAD)
    assert not taken.likely("p1", NOW + 10 * HOUR, NOW + 11 * HOUR, PAD)
    assert taken.likely("p1", NOW + 14 * HOUR, NOW + 15 * HOUR, PAD)
    taken.forget("unknown", NOW, NOW + HOUR, PAD)


def test_spans_that_are_over_and_the_oldest_beyond_the_bound_are_dropped() -> None:
    taken = Taken()
    taken.note("p1", NOW + HOUR, NOW + 2 * HOUR, NOW)
    later = NOW + 2 * HOUR + MAXLEN_MS
    taken.note("p1", later + HOUR, later + 2 * HOUR, later)
    assert not taken.likely("p1", NOW + HOUR, NOW + 2 * HOUR, PAD)
    for i in range(MAX_SPANS + 10):
        taken.note("p2", NOW + i * HOUR, NOW + i * HOUR + 1, NOW)
    assert not taken.likely("p2", NOW, NOW + 1, 0)
    assert taken.likely("p2", NOW + (MAX_SPANS + 9) * HOUR, NOW + (MAX_SPANS + 9) * HOUR + 1, 0)


def test_likely_agrees_with_checking_every_span() -> None:
    rng = random.Random(3)
    for _ in range(200):
        taken, spans = Taken(), []
        for _ in range(rng.randint(0, 12)):
            start = NOW + rng.randrange(48) * PAD
            span = (start, start + rng.choice((2, 4, 32)) * PAD)
            spans.append(span)
            taken.note("p1", *span, NOW)
        start = NOW + rng.randrange(48) * PAD
        end = start + rng.choice((2, 4)) * PAD
        expected = any(s < end + PAD and e + PAD > start for s, e in spans)
        assert taken.likely("p1", start, end, PAD) == expected


def test_a_span_noted_again_and_again_is_kept_once() -> None:
    taken = Taken()
    taken.note("p1", NOW + HOUR, NOW + 2 * HOUR, NOW)
    for _ in range(MAX_SPANS + 1):  # every refusal names the same session in the way
        taken.note("p1", NOW + 5 * HOUR, NOW + 6 * HOUR, NOW)
    assert taken.likely("p1", NOW + HOUR, NOW + 2 * HOUR, PAD)
    taken.forget("p1", NOW + 5 * HOUR, NOW + 6 * HOUR, PAD)
    assert not taken.likely("p1", NOW + 5 * HOUR, NOW + 6 * HOUR, PAD)


def test_the_peer_noted_least_recently_is_forgotten_beyond_the_bound() -> None:
    taken = Taken()
    for i in range(MAX_PEERS):
        taken.note(f"p{i}", NOW + HOUR, NOW + 2 * HOUR, NOW)
    taken.note("p0", NOW + 3 * HOUR, NOW + 4 * HOUR, NOW)  # p0 is recent again; p1 is now the oldest
    taken.note("new", NOW + HOUR, NOW + 2 * HOUR, NOW)
    assert not taken.likely("p1", NOW + HOUR, NOW + 2 * HOUR, PAD)
    assert taken.likely("p0", NOW + HOUR, NOW + 2 * HOUR, PAD)
    assert taken.likely("new", NOW + HOUR, NOW + 2 * HOUR, PAD)
