"""``alongside``: the command line for intake staff and programme managers.

It talks to the matcher, scheduler and notifier over gRPC only, prints tables
for people and JSON (``--json``) for scripts, and turns every foreseeable
error into a message that says what was wrong and what to do.
"""
