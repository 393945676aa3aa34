"""The consent recorded with a match request (42 CFR Part 2).

Matching may proceed without consent; disclosure to a peer may not. Here we
only check that a consent, when given, is well formed and not already over.
"""

from __future__ import annotations

from datetime import datetime

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit import protoconv
from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain.disclosure import RECIPIENTS, unknown_recipients

MAX_TEXT = 128
MAX_RECIPIENTS = 10


def check_consent(consent: pb.Consent, now: datetime) -> None:
    if consent.ByteSize() == 0:
        return
    if not consent.scope or len(consent.scope) > MAX_TEXT:
        raise InvalidArgument("consent.scope", f"is required with a consent, at most {MAX_TEXT} characters")
    if len(consent.form_ref) > MAX_TEXT:
        raise InvalidArgument("consent.form_ref", f"must be at most {MAX_TEXT} characters")
    if len(consent.recipients) > MAX_RECIPIENTS:
        raise InvalidArgument("consent.recipients", f"must hold at most {MAX_RECIPIENTS} entries")
    for i in unknown_recipients(consent.recipients):
        raise InvalidArgument(f"consent.recipients[{i}]", f"must be one of {', '.join(sorted(RECIPIENTS))}")
    if consent.HasField("expires_at") and protoconv.timestamp("consent.expires_at", consent.expires_at) <= now:
        raise InvalidArgument("consent.expires_at", "must be in the future")
