"""The scheduler's Valkey functions: its Lua scripts, loaded by an operator
(``alongside valkey provision``) and called with FCALL."""

from __future__ import annotations

from alongside.kit.functions import Function, Library

COMMIT = Function.from_file("alongside_scheduler_commit", "alongside.scheduler.adapters", "commit")
FIRE = Function.from_file("alongside_scheduler_fire", "alongside.scheduler.adapters", "fire")
ENROL = Function.from_file("alongside_scheduler_enrol", "alongside.scheduler.adapters", "enrol")

LIBRARY = Library("alongside_scheduler", (COMMIT, FIRE, ENROL))
