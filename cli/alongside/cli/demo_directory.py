"""The demo's community-group directory: a few fictional groups across pathways.

Fixed (not drawn from the seed): every run offers from the same directory.
Meetings fall inside the demo's usual weekly blocks (``demo_values.BLOCKS``),
in several time zones, so most intakes are offered groups of different
pathways. Names say "(fictional)".
"""

from __future__ import annotations

import csv
import io

COLUMNS = ("group_id", "name", "pathway", "languages", "modalities", "area", "time_zone", "meetings",
           "accessibility", "audiences")  # fmt: skip
NY, CHI, DEN = "America/New_York", "America/Chicago", "America/Denver"
PHX, LA = "America/Phoenix", "America/Los_Angeles"

GROUPS: tuple[tuple[str, ...], ...] = (
    ("demo-group-01", "Evening Fellowship (fictional)", "twelve_step", "en", "video", "", NY,
     "tue 18:00-19:00; thu 17:30-18:30; sat 10:00-11:00", "Captions on", ""),
    ("demo-group-02", "Northside Hall Meeting (fictional)", "twelve_step", "en; es", "in_person", "north", CHI,
     "mon 18:00-19:00; wed 13:00-14:00; fri 11:00-12:00", "Step-free access", "adults"),
    ("demo-group-03", "Midweek SMART (fictional)", "smart_recovery", "en", "video", "", NY,
     "tue 13:00-14:00; thu 09:30-10:30; sat 14:30-15:30", "", ""),
    ("demo-group-04", "SMART en español (fictional)", "smart_recovery", "es", "phone; video", "", LA,
     "mon 10:00-11:00; wed 09:30-10:30; fri 17:30-18:30", "", ""),
    ("demo-group-05", "Refuge Circle (fictional)", "refuge_recovery", "en", "video", "", DEN,
     "tue 18:00-19:00; thu 17:30-18:30; sat 11:00-12:00", "", ""),
    ("demo-group-06", "Dharma Circle (fictional)", "recovery_dharma", "en", "video; in_person", "central", CHI,
     "mon 14:30-15:30; wed 13:00-14:00; fri 11:00-12:00", "Chairs and floor cushions", ""),
    ("demo-group-07", "MAT Support Morning (fictional)", "medication_assisted", "en; es", "in_person; video", "south",
     NY,
     "tue 10:00-11:00; thu 09:30-10:30; sat 14:30-15:30", "", "adults"),
    ("demo-group-08", "Families Together (fictional)", "family", "en; es", "video", "", NY,
     "mon 10:00-11:00; wed 18:00-19:00; fri 17:30-18:30", "", "families"),
    ("demo-group-09", "Eastside Recovery Community (fictional)", "recovery_community_org", "en", "in_person", "east",
     PHX,
     "tue 18:00-19:00; thu 13:00-14:00; sat 11:00-12:00", "Step-free access; hearing loop", ""),
    ("demo-group-10", "Peer Circle (fictional)", "peer_led", "en; so", "video", "", CHI,
     "mon 14:30-15:30; wed 13:00-14:00; fri 09:30-10:30", "", ""),
    ("demo-group-11", "Open Door LGBTQ+ Group (fictional)", "peer_led", "en", "video", "", LA,
     "tue 10:00-11:00; thu 09:30-10:30; sat 17:30-18:30", "", "adults; lgbtq"),
    ("demo-group-12", "Young People's Meeting (fictional)", "twelve_step", "en", "video", "", NY,
     "mon 11:00-12:00; wed 18:00-19:00; fri 17:30-18:30", "", "young_people"),
    ("demo-group-13", "Signing Recovery (fictional)", "other", "ase; en", "video", "", NY,
     "tue 14:30-15:30; thu 13:00-14:00; sat 11:00-12:00", "Held in ASL, with captions", ""),
    ("demo-group-14", "Veterans SMART (fictional)", "smart_recovery", "en", "phone; video", "", DEN,
     "mon 14:30-15:30; wed 10:00-11:00; fri 09:30-10:30", "", "adults; veterans"),
    ("demo-group-15", "Teen SMART (fictional)", "smart_recovery", "en; es", "video", "", CHI,
     "mon 16:00-17:00; tue 16:00-17:00; thu 16:00-17:00; sat 10:30-11:30", "", "young_people"),
    ("demo-group-16", "Youth Recovery Circle (fictional)", "peer_led", "en", "video; phone", "", NY,
     "tue 15:30-16:30; wed 09:30-10:30; sat 09:30-10:30", "", "young_people"),
    ("demo-group-17", "Vietnamese Peer Group (fictional)", "recovery_community_org", "vi; en", "video; phone", "", LA,
     "tue 09:00-10:00; wed 10:00-11:00; sat 10:00-11:00", "", ""),
    ("demo-group-18", "Arabic-speaking Recovery Group (fictional)", "medication_assisted", "ar; en", "video", "", NY,
     "tue 11:00-12:00; wed 14:00-15:00; thu 11:00-12:00", "", ""),
)  # fmt: skip


def groups_csv() -> str:
    """The directory in the matcher's group CSV format (lists separated by ';')."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(GROUPS)
    return buffer.getvalue()
