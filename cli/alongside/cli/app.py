"""The ``alongside`` command: global options, then one group per area."""

from __future__ import annotations

from typing import Annotated

import typer

from alongside.cli import (
    batch,
    calendar,
    caseload,
    console,
    demo,
    group_directory,
    group_sessions,
    intake,
    login,
    match,
    notifications,
    participant,
    plan,
    policy,
    roster,
    sessions,
    stats,
    status,
    streams,
    token,
    valkey,
)
from alongside.cli.clients import Clients
from alongside.cli.config import DEFAULT_TIMEOUT_S, Config
from alongside.cli.errors import CliError, report
from alongside.cli.output import Output
from alongside.cli.root import RootGroup, version_callback
from alongside.cli.state import Session

app = typer.Typer(
    name="alongside",
    help="Alongside for intake staff and programme managers: roster, intake, matches, batches, sessions,"
    " calendars and notifications, over gRPC.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=RootGroup,
)


@app.callback()
def main(
    ctx: typer.Context,
    json_output: Annotated[
        bool, typer.Option("--json", envvar="ALONGSIDE_JSON", help="Print JSON for scripts instead of tables.")
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", envvar="ALONGSIDE_TIMEOUT", help="Seconds to wait for each call.")
    ] = DEFAULT_TIMEOUT_S,
    _version: Annotated[
        bool,
        typer.Option("--version", callback=version_callback, is_eager=True, help="Print the version and exit."),
    ] = False,
    config_path: Annotated[
        str | None,
        typer.Option(
            "--config",
            help="A config file, or the data folder (var/) of a `make run`. Default: ALONGSIDE_CONFIG,"
            " then ~/.config/alongside/config.json (see `alongside login`), then ./var/.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """The CLI finds the services through its configuration (--config, ALONGSIDE_CONFIG, the user's config
    folder, ./var/), or at ALONGSIDE_MATCHER, ALONGSIDE_SCHEDULER and ALONGSIDE_NOTIFIER (host:port)."""
    try:
        config = Config.from_env(timeout_s=timeout, json=json_output, config_path=config_path)
    except CliError as exc:
        report(exc, json_output)
        raise typer.Exit(int(exc.exit_code)) from None
    clients = Clients(config)
    ctx.obj = Session(config, Output(json_output), clients)
    ctx.call_on_close(clients.close)


app.command("status")(status.status)
app.command("stats")(stats.stats)
app.command("console")(console.console)
app.command("login")(login.login)
app.add_typer(roster.app, name="roster")
app.add_typer(caseload.app, name="caseload")
app.add_typer(intake.app, name="intake")
app.add_typer(match.app, name="match")
app.add_typer(participant.app, name="participant")
app.add_typer(batch.app, name="batch")
app.add_typer(policy.app, name="policy")
app.add_typer(sessions.app, name="sessions")
# The ``groups`` command group: the community-group directory (matcher) and
# peer-led group sessions (scheduler) register their commands into it.
groups_app = typer.Typer(
    help="Groups: the community-group directory and peer-led group sessions.", no_args_is_help=True
)
group_directory.register(groups_app)
group_sessions.register(groups_app)
app.add_typer(groups_app, name="groups")
app.add_typer(calendar.app, name="calendar")
app.add_typer(notifications.app, name="notifications")
app.add_typer(plan.app, name="plan")
app.add_typer(token.app, name="token")
app.add_typer(streams.app, name="streams")
app.add_typer(valkey.app, name="valkey")
app.command("demo")(demo.demo)
app.command("demo-data")(demo.demo_data)
