"""Listing the emails a local SMTP sink filed as .eml files."""

from __future__ import annotations

import os
from email.message import EmailMessage
from pathlib import Path

from alongside.cli.demo_mail import sink_emails


def mail(folder: Path, name: str, to: str, subject: str, mtime: int) -> None:
    message = EmailMessage()
    message["To"], message["Subject"], message["From"] = to, subject, "alongside@localhost"
    message.set_content("You have a new assignment in Alongside.")
    path = folder / name
    path.write_bytes(bytes(message))
    os.utime(path, (mtime, mtime))


def test_only_mail_to_the_address_oldest_first_in_subfolders_too(tmp_path: Path) -> None:
    (tmp_path / "new").mkdir()
    mail(tmp_path / "new", "b.eml", "Demo-Peer-017@example.org", "A session has been booked", 2_000)
    mail(tmp_path, "a.eml", "demo-peer-017@example.org", "You have a new assignment in Alongside", 1_000)
    mail(tmp_path, "c.eml", "demo-peer-018@example.org", "Other", 500)
    (tmp_path / "notes.txt").write_text("not a mail")
    found = sink_emails(tmp_path, "demo-peer-017@example.org")
    assert [(name, subject) for name, _, subject, _ in found] == [
        ("a.eml", "You have a new assignment in Alongside"),
        ("b.eml", "A session has been booked"),
    ]


def test_an_empty_or_missing_folder_has_no_mail(tmp_path: Path) -> None:
    assert sink_emails(tmp_path, "x@example.org") == []
    assert sink_emails(tmp_path / "missing", "x@example.org") == []
