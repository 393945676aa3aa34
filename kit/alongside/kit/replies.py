"""A byte budget for list replies.

A page size alone does not bound a reply: items carry free text, so 500
items of the largest allowed size would pass the 4 MiB every gRPC client
accepts by default, and then nobody could list anything. A list RPC fills
its page through a ``ReplyBudget`` and ends the page early (with a
next_page_token from the last item it kept) once the next item would not
fit. The first item always fits: request bounds keep any one item far
below the budget.
"""

from __future__ import annotations

from google.protobuf.message import Message

# A quarter of gRPC's default client limit, so a reply is never near it.
REPLY_BUDGET_BYTES = 1024 * 1024
# A repeated message field's tag and length prefix, at most.
_FRAMING = 6


class ReplyBudget:
    def __init__(self, limit: int | None = None) -> None:
        self.left = REPLY_BUDGET_BYTES if limit is None else limit
        self.taken = 0

    def take(self, item: Message) -> bool:
        """Room for ``item``? If so it is counted and True; the first always is."""
        size = item.ByteSize() + _FRAMING
        if self.taken and size > self.left:
            return False
        self.left -= size
        self.taken += 1
        return True
