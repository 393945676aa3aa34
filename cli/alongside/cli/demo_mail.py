"""The emails a local SMTP sink filed as ``.eml`` files (``ALONGSIDE_SMTP_SINK_DIR``)."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path


def sink_emails(folder: Path, address: str) -> list[tuple[str, str, str, str]]:
    """Every .eml under ``folder`` addressed to ``address``: (file, to, subject, date), oldest first."""
    found = []
    for path in sorted(folder.rglob("*.eml"), key=lambda p: (p.stat().st_mtime, p.name)):
        try:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        except OSError:
            continue
        to = str(message.get("To", ""))
        if address.lower() in to.lower():
            found.append((path.name, to, str(message.get("Subject", "")), str(message.get("Date", ""))))
    return found
