"""The notifier's settings, read from the environment once at start-up."""

from __future__ import annotations

import dataclasses

from alongside.kit.settings import Settings


@dataclasses.dataclass(frozen=True)
class NotifierSettings(Settings):
    service_name: str = "notifier"
