"""Page tokens come back as issued, or are refused naming page_token."""

from __future__ import annotations

import base64

import pytest

from alongside.kit import paging
from alongside.kit.errors import InvalidArgument


@pytest.mark.parametrize("where", ["p-1", "150", "1742000000000|p~s1", "ünï|code"])
def test_a_token_round_trips(where: str) -> None:
    assert paging.position("peers", paging.issue("peers", where)) == where


def test_no_token_is_the_first_page() -> None:
    assert paging.position("peers", "") == ""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


GARBAGE = [
    "garbage",
    "!!",
    "0",
    "-1",
    "150",
    " ",
    "p-1",
    _b64(b"peers|p-1"),
    _b64(b"peers|p-1|000000000000"),
    _b64(b"\xff\xfe"),
    paging.issue("waitlist", "150"),  # another list's token
    paging.issue("peers", "p-1")[:-2],  # cut short
    paging.issue("peers", "p-1") + "AA",
]


@pytest.mark.parametrize("token", GARBAGE)
def test_garbage_is_refused_naming_page_token(token: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        paging.position("peers", token)
    assert refused.value.field == "page_token"
