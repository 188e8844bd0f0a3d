"""Command-line entry points operators and scripts rely on (names are kept stable; see README)."""
import secrets

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.services import create_user
from app.demo import load_demo
from app.directory.importer import import_sites
from app.extensions import db
from app.guidelines.importer import import_guidelines
from app.jobs import jobs_cli
from app.search.cli import search_cli
from app.trials.importer import ImportFailure, import_trials

users_cli = AppGroup("users", help="Manage accounts.")
demo_cli = AppGroup("demo", help="Demo data for a new installation.")
import_cli = AppGroup("import", help="Import public data: trials, centre sites, guidelines.")


@users_cli.command("create-admin")
@click.argument("email")
@click.option("--name", default="Administrator", help="Display name for a new account.")
@click.option("--password", default=None, help="Password for a new account (random when omitted).")
def create_admin(email: str, name: str, password: str | None) -> None:
    """Create an admin account, or promote an existing one; never a well-known default password."""

    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        password = password or secrets.token_urlsafe(12)
        user = create_user(email=email, display_name=name, password=password, role="other",
                           confirmed=True, site_role="admin")
        click.echo(f"Created admin {user.email} with password: {password}")
    else:
        user.site_role = "admin"
        db.session.commit()
        click.echo(f"Promoted {user.email} to admin.")


@demo_cli.command("load")
def demo_load() -> None:
    """Load demo accounts and content; running it again changes nothing."""

    for line in load_demo():
        click.echo(line)


@import_cli.command("trials")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_trials_cmd(file: str) -> None:
    """ClinicalTrials.gov API v2 JSON (an array of studies, or {"studies": [...]}); idempotent."""
    try:
        report = import_trials(file, progress=True)
    except ImportFailure as exc:
        raise click.ClickException(str(exc)) from None
    for line in report.lines():
        click.echo(line)


@import_cli.command("sites")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_sites_cmd(file: str) -> None:
    """The trial-sites CSV as centres: merges near-duplicates and prints why; idempotent."""
    from pathlib import Path
    for line in import_sites(Path(file)).lines():
        click.echo(line)


@import_cli.command("guidelines")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_guidelines_cmd(file: str) -> None:
    """The guideline index CSV (nccn_id, title, version, version_year, category, url); idempotent."""
    from pathlib import Path
    for line in import_guidelines(Path(file)).lines():
        click.echo(line)


def register(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(import_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(jobs_cli)
