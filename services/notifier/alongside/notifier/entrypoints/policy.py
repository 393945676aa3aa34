"""Who may call each notifier RPC. A peer reaches only their own inbox and
preferences (checked in the handlers); staff never read inboxes."""

from __future__ import annotations

from alongside.api.notifier.v1 import notifier_pb2
from alongside.kit.auth.policy import Policy

OWN = {"peer", "admin"}

TABLE: dict[str, set[str]] = {
    "SetContactPreferences": OWN | {"manager"},
    "GetContactPreferences": OWN | {"manager"},
    "ListNotifications": OWN,
    "Acknowledge": OWN,
    "WatchNotifications": OWN,
}

SERVICE = notifier_pb2.DESCRIPTOR.services_by_name["NotifierService"]
POLICY = Policy.for_service(SERVICE.full_name, [m.name for m in SERVICE.methods], TABLE)

# Calls that read or write participant data: each leaves an audit record.
AUDITED = POLICY.methods(("ListNotifications", "WatchNotifications", "Acknowledge"))
