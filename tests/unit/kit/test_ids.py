"""One id rule for every service (alongside.kit.ids)."""

from __future__ import annotations

import pytest

from alongside.kit.errors import InvalidArgument
from alongside.kit.ids import (
    MAX_ID_LENGTH,
    check_id,
    check_ref,
    check_scoped_id,
    is_id,
    is_scoped_id,
    new_id,
    scoped_id,
)

GOOD = ["p1", "demo-peer-017", "req019b2c3d4e5f60718293a4b5", "01J9Z3K8-abc_d.e:f", "x" * MAX_ID_LENGTH, "9"]
# '@' (the scheduler took it), 65+ characters (the notifier took 128), a
# leading dash or dot, spaces, '~', '/', non-ASCII, control characters.
BAD = ["", " ", "a b", "p@example.org", "x" * (MAX_ID_LENGTH + 1), "-x", ".x", "_x", "p~s1", "../etc", "ñ", "p\n"]


@pytest.mark.parametrize("value", GOOD)
def test_well_formed_ids_pass(value: str) -> None:
    assert check_id("peer_id", value) == value and is_id(value)


@pytest.mark.parametrize("value", BAD)
def test_malformed_ids_are_refused_naming_the_field_not_the_value(value: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        check_id("items[2].peer_id", value)
    assert refused.value.field == "items[2].peer_id"
    assert not is_id(value)
    if value.strip():
        assert value.strip() not in refused.value.message.split(": ", 1)[1]


def test_optional_lets_only_the_empty_string_through() -> None:
    assert check_id("supervisor_id", "", optional=True) == ""
    with pytest.raises(InvalidArgument):
        check_id("supervisor_id", " ", optional=True)


def test_new_ids_follow_the_rule() -> None:
    for prefix in ("", "ev", "req", "m", "b", "s", "off"):
        assert is_id(new_id(prefix))


def test_a_scoped_id_names_its_owner() -> None:
    session = scoped_id("p-1", new_id("s"))
    assert check_scoped_id("session_id", session) == "p-1"
    assert check_scoped_id("session_id", f"{session}.3") == "p-1"  # an occurrence of a series
    for bad in ("p-1", "p-1~", "~s1", "p@1~s1", "p-1~s 1", "p-1~s~1", f"p-1~{'s' * 65}"):
        assert not is_scoped_id(bad)
        with pytest.raises(InvalidArgument) as refused:
            check_scoped_id("session_id", bad)
        assert refused.value.field == "session_id"


def test_a_reference_is_an_id_or_a_scoped_id() -> None:
    for good in ("s-1", "p-1~s1", "p-1~r1.3"):
        assert check_ref("session_id", good) == good
    for bad in ("", "p-1~", "not an id", "a~b~c", "p@1"):
        with pytest.raises(InvalidArgument) as refused:
            check_ref("session_id", bad)
        assert refused.value.field == "session_id"
