"""Sessions: idle ones go (on their next request, and from memory when new ones come),
the store never grows past its limit, signing in rotates the id and the CSRF secret."""

from __future__ import annotations

from alongside.console.sessions import SessionStore


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_idle_session_is_gone_and_says_it_was_signed_in() -> None:
    clock = Clock()
    store = SessionStore(idle_timeout_s=10, limit=100, clock=clock)
    anonymous = store.new()
    signed = store.sign_in(store.new(), "token", "peer", "peer-1", expires=1000)
    clock.now = 11
    assert store.get(signed.sid) == (None, True)
    assert store.get(anonymous.sid) == (None, False)


def test_idle_sessions_leave_memory_when_new_ones_come() -> None:
    clock = Clock()
    store = SessionStore(idle_timeout_s=10, limit=100, clock=clock)
    for _ in range(5):
        store.new()
    clock.now = 5
    kept = store.new()
    clock.now = 12
    store.new()
    assert len(store) == 2 and store.get(kept.sid)[0] is kept


def test_the_store_never_grows_past_its_limit() -> None:
    store = SessionStore(idle_timeout_s=10, limit=3, clock=Clock())
    made = [store.new() for _ in range(5)]
    assert len(store) == 3 and store.get(made[0].sid)[0] is None and store.get(made[-1].sid)[0] is made[-1]


def test_signing_in_rotates_the_id_and_the_csrf_secret_and_keeps_the_language() -> None:
    store = SessionStore(idle_timeout_s=10, limit=10, clock=Clock())
    before = store.new(language="es")
    after = store.sign_in(before, "token", "intake", "staff-1", expires=100)
    assert after.sid != before.sid and after.csrf != before.csrf and after.language == "es"
    assert store.get(before.sid)[0] is None


def test_a_session_ends_when_its_token_expires() -> None:
    clock = Clock()
    store = SessionStore(idle_timeout_s=1000, limit=10, clock=clock)
    session = store.sign_in(store.new(), "token", "peer", "p", expires=50)
    clock.now = 50
    assert store.get(session.sid) == (None, True)
