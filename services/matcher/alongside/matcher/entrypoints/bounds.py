"""The size bound of every string, bytes and repeated field of the matcher's
requests (and the audit API it serves), checked before any handler runs.

Fields not listed take the kit's defaults (``alongside.kit.bounds.Bounds``:
256 characters, 64 KiB, 100 entries). ``docs/matcher.md`` has the full
table; a test holds it to this one.
"""

from __future__ import annotations

from alongside.kit.bounds import Bounds, Limit
from alongside.matcher.domain.groups import MAX_ACCESSIBILITY, MAX_MEETINGS, MAX_NAME
from alongside.matcher.domain.validation_rules import MAX_EXCLUDED, MAX_TAG_LENGTH, MAX_VALUES, MAX_WINDOWS
from alongside.matcher.service.batch import MAX_BATCH
from alongside.matcher.service.caseload import MAX_IMPORT_BYTES as CASELOAD_BYTES
from alongside.matcher.service.groups import MAX_IMPORT_BYTES as GROUPS_BYTES
from alongside.matcher.service.queries import MAX_NAME_SEARCH

M = "alongside.matcher.v1."
TAGS = Limit(size=MAX_TAG_LENGTH, items=MAX_VALUES)

BOUNDS = Bounds(
    fields={
        f"{M}Peer.display_name": Limit(size=200),
        f"{M}Peer.certifications": TAGS,
        f"{M}Peer.languages": TAGS,
        f"{M}Peer.cultures": TAGS,
        f"{M}Peer.lived_experience": TAGS,
        f"{M}Peer.pathways": TAGS,
        f"{M}Peer.gender": Limit(size=MAX_TAG_LENGTH),
        f"{M}Peer.service_area": Limit(size=MAX_TAG_LENGTH),
        f"{M}Peer.availability": Limit(items=MAX_WINDOWS),
        f"{M}Participant.availability": Limit(items=MAX_WINDOWS),
        f"{M}Participant.service_area": Limit(size=MAX_TAG_LENGTH),
        f"{M}Preference.values": TAGS,
        f"{M}ModalityPreference.values": Limit(items=MAX_VALUES),
        f"{M}Consent.scope": Limit(size=128),
        f"{M}Consent.form_ref": Limit(size=128),
        f"{M}Consent.recipients": Limit(size=64, items=10),
        f"{M}SubmitMatchRequestRequest.excluded_peer_ids": Limit(items=MAX_EXCLUDED),
        f"{M}RunBatchMatchRequest.request_ids": Limit(items=MAX_BATCH),
        f"{M}ConfirmBatchRequest.request_ids": Limit(items=MAX_BATCH),
        f"{M}StartBatchMatchRequest.request_ids": Limit(items=MAX_BATCH),
        f"{M}ListPeersRequest.name_contains": Limit(size=MAX_NAME_SEARCH),
        # A roster of 20,000 rows fits; the server reads no request over 4 MiB.
        f"{M}ImportRosterRequest.csv": Limit(size=3 * 1024 * 1024),
        # Existing caseloads: 10,000 rows of ids, acuity and a date fit in 1 MiB.
        f"{M}ImportCaseloadRequest.csv": Limit(size=CASELOAD_BYTES),
        # Community groups: a directory of 5,000 groups fits in 2 MiB.
        f"{M}CommunityGroup.name": Limit(size=MAX_NAME),
        f"{M}CommunityGroup.languages": TAGS,
        f"{M}CommunityGroup.modalities": Limit(items=3),
        f"{M}CommunityGroup.area": Limit(size=MAX_TAG_LENGTH),
        f"{M}CommunityGroup.time_zone": Limit(size=MAX_TAG_LENGTH),
        f"{M}CommunityGroup.meetings": Limit(items=MAX_MEETINGS),
        f"{M}CommunityGroup.accessibility": Limit(size=MAX_ACCESSIBILITY),
        f"{M}CommunityGroup.audiences": Limit(items=8),
        f"{M}ListGroupsRequest.language": Limit(size=MAX_TAG_LENGTH),
        f"{M}ListGroupsRequest.area": Limit(size=MAX_TAG_LENGTH),
        f"{M}ImportGroupsRequest.csv": Limit(size=GROUPS_BYTES),
        f"{M}SubmitMatchRequestRequest.group_pathways": Limit(items=9),
    }
)
