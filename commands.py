"""Operator commands (`flask --app app …`): schema migrations and campaign set-up."""

import click
from flask import Blueprint

from campaign.definition import DefinitionError, apply_definition, read_definition
from campaign.definition import seed_default_campaign as seed_default
from models import db, migration_runner, upgrade_schema

db_commands = Blueprint("db_commands", __name__, cli_group="db")
campaign_commands = Blueprint("campaign_commands", __name__, cli_group="campaign")


@db_commands.cli.command("upgrade")
def upgrade():
    """Apply pending migrations."""
    with db.connection_context():
        applied = upgrade_schema()
    click.echo(f"applied {len(applied)} migration(s): {', '.join(applied) or '-'}")


@db_commands.cli.command("status")
def status():
    """List migrations and whether each is applied."""
    with db.connection_context():
        for migration in migration_runner().status():
            mark = "applied" if migration.applied else "pending"
            click.echo(f"{migration.name}: {mark}")


@campaign_commands.cli.command("seed")
def seed():
    """Create the 2021 campaign from the plan if it is missing (idempotent)."""
    with db.connection_context():
        campaign, created = seed_default()
    click.echo(f"{'created' if created else 'already present'}: {campaign.slug} (id {campaign.id})")


@campaign_commands.cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--current", is_flag=True, help="Make it the campaign the mini-program shows.")
def load(path, current):
    """Create or update a campaign from a YAML/JSON file shaped like campaign/plans/*.yaml."""
    try:
        data = read_definition(path)
    except DefinitionError as exc:
        raise click.ClickException(str(exc)) from exc
    with db.connection_context():
        campaign, created = apply_definition(data, make_current=True if current else None)
    click.echo(f"{'created' if created else 'updated'}: {campaign.slug} (id {campaign.id})")
