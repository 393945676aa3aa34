"""The size bound of every string and repeated field of the notifier's
requests, checked before any handler runs.

Fields not listed take the kit's defaults (``alongside.kit.bounds.Bounds``:
256 characters, 64 KiB, 100 entries). ``docs/notifier.md`` has the full
table; a test holds it to this one.
"""

from __future__ import annotations

from alongside.kit.bounds import Bounds, Limit
from alongside.notifier.domain.validation import MAX_EMAIL_LENGTH, MAX_URL_LENGTH
from alongside.notifier.service.inbox import MAX_ACK

N = "alongside.notifier.v1."

BOUNDS = Bounds(
    fields={
        f"{N}ContactPreferences.email": Limit(size=MAX_EMAIL_LENGTH),
        f"{N}ContactPreferences.webhook_url": Limit(size=MAX_URL_LENGTH),
        f"{N}ContactPreferences.language": Limit(size=35),  # the longest BCP 47 tag in practice
        f"{N}ContactPreferences.channels": Limit(items=10),
        f"{N}ContactPreferences.kinds": Limit(items=20),
        f"{N}ContactPreferences.channel_kinds": Limit(items=10),
        f"{N}ChannelKinds.kinds": Limit(items=20),
        f"{N}AcknowledgeRequest.notification_ids": Limit(items=MAX_ACK),
    }
)
