"""Every Valkey function library the project loads (``alongside.kit.functions``).

The kit's own library holds what every service calls (the unit of work's
guarded write, the outbox trim); a service with scripts of its own has one
more, declared beside its adapters. ``catalogue`` is what an operator loads
(``alongside valkey provision``) and what the test harness loads as admin.
"""

from __future__ import annotations

from importlib import import_module

from alongside.kit.events.outbox import TRIM
from alongside.kit.functions import Library
from alongside.kit.uow import GUARDED

KIT = Library("alongside_kit", (GUARDED, TRIM))

# The services' libraries (``LIBRARY`` in each module), imported only when
# asked for: the kit depends on no service.
SERVICE_LIBRARIES = ("alongside.scheduler.adapters.functions", "alongside.notifier.adapters.functions")


def catalogue() -> tuple[Library, ...]:
    """The kit's library and every service's."""
    services: list[Library] = [import_module(module).LIBRARY for module in SERVICE_LIBRARIES]
    return (KIT, *services)
