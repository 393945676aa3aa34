"""The notifier's Valkey functions: its Lua scripts, loaded by an operator
(``alongside valkey provision``) and called with FCALL."""

from __future__ import annotations

from alongside.kit.functions import Function, Library
from alongside.notifier.adapters.due_index import CLAIM_DUE

CREATE = Function.from_file("alongside_notifier_create", "alongside.notifier.adapters", "create_notification")

LIBRARY = Library("alongside_notifier", (CREATE, CLAIM_DUE))
