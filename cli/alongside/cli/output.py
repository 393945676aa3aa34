"""Tables for people, JSON for scripts.

Results go to stdout; progress bars, hints for the next step and errors go to
stderr, so ``--json`` output and ``calendar export > peer.ics`` stay clean.
Cell values are shown literally (never read as rich markup): a display name
holding ``[bold]`` prints as typed.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text


def to_dict(message: Message) -> dict[str, Any]:
    """Proto -> JSON-ready dict: proto field names, enum names, defaults included."""
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def label(enum: Any, value: int) -> str:
    """``PEER_TYPE_RECOVERY_COACH`` -> ``recovery coach``; unknown numbers stay numbers."""
    try:
        name: str = enum.Name(value)
    except ValueError:
        return str(value)
    prefix = enum.DESCRIPTOR.values[0].name.removesuffix("UNSPECIFIED")
    return name.removeprefix(prefix).lower().replace("_", " ")


def labels(enum: Any, values: Iterable[int]) -> str:
    return ", ".join(label(enum, v) for v in values)


def when(stamp: Timestamp) -> str:
    """A UTC instant as ``2027-03-04 15:00 UTC``; '' when unset."""
    if stamp.seconds == 0 and stamp.nanos == 0:
        return ""
    return stamp.ToDatetime().strftime("%Y-%m-%d %H:%M UTC")


def local(iso: str) -> str:
    """``2027-03-04T10:00:00-05:00`` -> ``Thu 2027-03-04 10:00 -05:00``."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return moment.strftime("%a %Y-%m-%d %H:%M ") + moment.strftime("%z")[:3] + ":" + moment.strftime("%z")[3:]


class Output:
    def __init__(self, json_mode: bool) -> None:
        self.json = json_mode
        # Resolved now, not at import, so test runners that swap stdout see the output.
        self.console = Console(file=sys.stdout, highlight=False, soft_wrap=False)
        self.err = Console(file=sys.stderr, highlight=False)

    @classmethod
    def muted(cls) -> Output:
        """Tables and hints go nowhere: the demo's steps under ``--json``, which prints only its summary."""
        out = cls(json_mode=True)
        out.json = False
        out.console = Console(file=io.StringIO(), highlight=False)
        out.err = Console(file=io.StringIO(), highlight=False)
        return out

    def emit(self, payload: Any) -> None:
        """The whole result as one JSON document (``--json``)."""
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def emit_line(self, payload: Any) -> None:
        """One JSON object per line, for streams (JSON Lines)."""
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def table(
        self, title: str, columns: Sequence[str], rows: Iterable[Sequence[object]], *, header: bool = True
    ) -> None:
        # As wide as its title, so a long title never wraps above a narrow table.
        table = Table(title=title, title_justify="left", show_header=header, min_width=len(title))
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
        self.console.print(table)

    def pairs(self, title: str, items: Sequence[tuple[str, object]]) -> None:
        """A two-column summary: name, value."""
        self.table(title, ("", ""), [(k, v) for k, v in items], header=False)

    def text(self, message: str, style: str = "") -> None:
        self.console.print(Text(message, style=style))

    def heading(self, message: str) -> None:
        self.console.rule(Text(message, style="bold"), align="left")

    def hint(self, message: str) -> None:
        """What to do next; on stderr so scripts piping stdout never see it."""
        if not self.json:
            self.err.print(Text(message, style="dim"))

    def progress(self, unit: str = "") -> Progress:
        """A progress display on stderr; silent with ``--json``."""
        return Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}" + unit),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,
            disable=self.json,
        )
