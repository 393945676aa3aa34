"""``alongside notifications``: a peer's inbox; ``tail`` follows it live."""

from __future__ import annotations

from typing import Annotated

import typer

from alongside.api.notifier.v1 import notifier_pb2 as pb
from alongside.cli.clients import idempotency_key
from alongside.cli.errors import CliError, ExitCode, handled
from alongside.cli.output import Output, label, to_dict, when
from alongside.cli.root import INTERRUPTED
from alongside.cli.state import IdempotencyKey, PageToken, session

app = typer.Typer(help="A peer's notifications: list, follow live, mark read.", no_args_is_help=True)
PeerId = Annotated[str, typer.Argument(help="Peer id.")]


def line(n: pb.Notification) -> str:
    refs = " ".join(f"{k}={v}" for k, v in sorted(n.refs.items()))
    read = "" if n.read else "● "
    return f"{read}{when(n.created_at)}  {label(pb.Kind, n.kind)}: {n.title}  {refs}".rstrip()


def show_inbox(out: Output, title: str, items: list[pb.Notification]) -> None:
    rows = [
        (
            when(n.created_at),
            label(pb.Kind, n.kind),
            n.title,
            "" if n.read else "unread",
            ", ".join(f"{label(pb.Channel, d.channel)} {label(pb.DeliveryStatus, d.status)}" for d in n.deliveries),
            n.notification_id,
        )
        for n in items
    ]
    out.table(title, ("when", "kind", "title", "read", "deliveries", "id"), rows)


@app.command("list")
@handled
def list_inbox(
    ctx: typer.Context,
    peer_id: PeerId,
    unread: Annotated[bool, typer.Option("--unread", help="Only unread items.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many, newest first; 0 for all.")] = 20,
    page_token: PageToken = "",
) -> None:
    """The peer's inbox, newest first, with how each channel delivered it."""
    s = session(ctx)
    request = pb.ListNotificationsRequest(peer_id=peer_id, unread_only=unread, page_token=page_token)
    listing = s.clients.notifier.page("ListNotifications", request, "notifications", max(limit, 0))
    if s.out.json:
        s.out.emit(listing.json("notifications", [to_dict(n) for n in listing.items]))
        return
    show_inbox(s.out, listing.title(f"Inbox of {peer_id}"), listing.items)
    if listing.hint():
        s.out.hint(listing.hint())


@app.command("tail")
@handled
def tail(
    ctx: typer.Context,
    peer_id: PeerId,
    last: Annotated[int, typer.Option(help="First show this many recent items.")] = 5,
    count: Annotated[int, typer.Option(help="Stop after this many new items; 0 follows until Ctrl-C.")] = 0,
    after: Annotated[str, typer.Option(help="Resume after this notification id (skips --last).")] = "",
) -> None:
    """Follow the peer's inbox live (WatchNotifications). One line per item; JSON Lines with --json."""
    s = session(ctx)
    notifier = s.clients.notifier
    recent: list[pb.Notification] = []
    if last > 0 and not after:
        request = pb.ListNotificationsRequest(peer_id=peer_id, page_size=min(last, 200))
        recent = list(notifier.call("ListNotifications", request).notifications)
    for item in reversed(recent):
        _print(s.out, item)
    after = after or (recent[0].notification_id if recent else "")
    seen, last_id = 0, after
    try:
        s.out.hint(f"following {peer_id}'s inbox; Ctrl-C stops")
        watch = pb.WatchNotificationsRequest(peer_id=peer_id, after_id=after)
        for reply in notifier.stream("WatchNotifications", watch):
            _print(s.out, reply.notification)
            seen, last_id = seen + 1, reply.notification.notification_id
            if count and seen >= count:
                return
    except KeyboardInterrupt:
        s.out.hint("stopped.")
        raise typer.Exit(INTERRUPTED) from None
    resume = f" --after {last_id}" if last_id else ""
    raise CliError(
        f"the notifier at {notifier.address} ended the stream (restarting?) — follow on with"
        f" `alongside notifications tail {peer_id}{resume}`",
        ExitCode.UNREACHABLE,
    )


def _print(out: Output, item: pb.Notification) -> None:
    if out.json:
        out.emit_line(to_dict(item))
    else:
        out.text(line(item))


@app.command("ack")
@handled
def ack(
    ctx: typer.Context,
    peer_id: PeerId,
    notification_ids: Annotated[list[str], typer.Argument(help="Notification ids to mark read.")],
    key: IdempotencyKey = None,
) -> None:
    """Mark notifications read."""
    s = session(ctx)
    request = pb.AcknowledgeRequest(
        idempotency_key=idempotency_key(key), peer_id=peer_id, notification_ids=notification_ids
    )
    done = s.clients.notifier.call("Acknowledge", request).acknowledged
    if s.out.json:
        s.out.emit({"acknowledged": done})
    else:
        s.out.text(f"marked {done} of {len(notification_ids)} as read")
