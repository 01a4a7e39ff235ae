"""Commands for operators: `flask --app wsgi <command>`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from .models import OrganisationKind, Role
from .services import accounts
from .services.errors import DomainError
from .services.organisations import find_organisation_by_name
from .unit_of_work import unit_of_work


def register(app: Flask) -> None:
    for command in (create_admin, create_user, send_mail, receive_mail, housekeeping,
                    seed_demo, backup, restore):
        app.cli.add_command(command)


def _fail(error: DomainError) -> None:
    raise click.ClickException(error.message)  # its unit of work has rolled back


@click.command("create-admin")
@click.argument("email")
@click.option("--name", help="Full name (defaults to the part of the address before the @).")
@click.option("--password", help="Prompted for when not given.")
@with_appcontext
def create_admin(email: str, name: str | None, password: str | None) -> None:
    """Create a platform admin account."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_account(email, name=name, password=password,
                                       role=Role.PLATFORM_ADMIN)
    except DomainError as error:
        _fail(error)
    click.echo(f"Created platform admin {user.email}.")


@click.command("create-user")
@click.argument("email")
@click.option("--organisation", "organisation_name", required=True,
              help="Organisation name; created (active) when it is new.")
@click.option("--role", type=click.Choice([Role.MEMBER.value, Role.ORG_ADMIN.value]),
              default=Role.MEMBER.value, show_default=True)
@click.option("--kind", type=click.Choice([kind.value for kind in OrganisationKind]),
              default=OrganisationKind.OTHER.value, show_default=True,
              help="Kind of a new organisation.")
@click.option("--name", help="Full name (defaults to the part of the address before the @).")
@click.option("--password", help="Without one, the user is emailed a link to choose one.")
@with_appcontext
def create_user(email: str, organisation_name: str, role: str, kind: str, name: str | None,
                password: str | None) -> None:
    """Create an active member of an organisation (for onboarding in bulk)."""
    is_new = find_organisation_by_name(organisation_name) is None
    try:
        with unit_of_work():  # a new organisation only with its first member
            organisation = accounts.organisation_for_onboarding(organisation_name, kind, None)
            user = accounts.create_account(email, name=name, password=password, role=role,
                                           organisation=organisation)
    except DomainError as error:
        _fail(error)
    if is_new:
        click.echo(f"Created organisation {organisation.name} (active, no sites yet).")
        click.echo("It still needs a pick-up site before its members can publish listings: "
                   "an organisation admin adds one under Organisation > Sites "
                   f"(/organisations/{organisation.id}/sites/new), or a platform admin does.")
    how = "" if password else "; a link to choose a password has been emailed"
    click.echo(f"Created {user.role.value} {user.email} of {organisation.name}{how}.")


@click.command("send-mail")
@click.option("--loop", is_flag=True, help="Keep running, sending mail as it is queued.")
@click.option("--interval", default=5.0, show_default=True,
              help="Seconds to wait when the outbox is empty.")
@click.option("--batch", default=200, show_default=True, help="Messages per round.")
@with_appcontext
def send_mail(loop: bool, interval: float, batch: int) -> None:
    """Send the mail waiting in the outbox (retrying failures with backoff).

    Without --loop it keeps going until everything that is due has been tried once. With
    --loop it waits out a lost database, and on SIGTERM finishes the message in hand, gives the
    rest back to the queue and exits.
    """
    from .mail_sender import run

    run(loop=loop, interval=interval, batch=batch, say=click.echo)


@click.command("receive-mail")
@click.option("--host", help="Address to listen on  [default: RECEIVE_MAIL_HOST]")
@click.option("--port", type=int, help="Port to listen on  [default: RECEIVE_MAIL_PORT]")
@with_appcontext
def receive_mail(host: str | None, port: int | None) -> None:
    """Receive replies to claim mail by SMTP (the mail server forwards REPLY_DOMAIN here) and
    add them to their claims, until SIGTERM."""
    from flask import current_app

    from .inbound_mail import run

    # The app itself, not the proxy: the server's threads push contexts of their own.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run(app, host or app.config["RECEIVE_MAIL_HOST"], port or app.config["RECEIVE_MAIL_PORT"],
        say=click.echo)


@click.command("housekeeping")
@with_appcontext
def housekeeping() -> None:
    """Periodic upkeep, meant for cron every few minutes; safe to run twice at once."""
    from .services.housekeeping import run

    for line in run():
        click.echo(line)


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Load demo organisations, users and listings (once; running it again changes nothing)."""
    from .services.demo import seed
    from .services.demo_listings import seed_activity, seed_listings
    from .services.demo_moderation import seed_history, seed_moderation

    for step in (seed, seed_listings, seed_activity, seed_moderation, seed_history):
        for line in step():
            click.echo(line)
    # PostgreSQL's vocabulary of typo suggestions holds the new listings' words from now on.
    from .services.search import refresh_vocabulary

    refresh_vocabulary()


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup(directory: Path) -> None:
    """Save the database and the photo files in a new folder under DIRECTORY (while the app
    runs); see docs/backups.md."""
    from .services.backup import BackupError, make_backup

    try:
        make_backup(directory, say=click.echo)
    except BackupError as error:
        raise click.ClickException(str(error)) from error


@click.command("restore")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds data.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation with --force.")
@with_appcontext
def restore(folder: Path, force: bool, yes: bool) -> None:
    """Bring back a backup folder made by `backup` (checked against its manifest first)."""
    from .page_cache import page_changed
    from .services.backup import BackupError, restore_backup

    try:
        restore_backup(folder, force=force, say=click.echo,
                       confirm=lambda question: yes or click.confirm(question))
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    page_changed()  # pages kept in a shared Redis showed the replaced data
