"""Operator commands (`flask --app app …`): schema migrations and campaign set-up."""

import click
from flask import Blueprint

from campaign.accounts import ROLES, create_account
from campaign.definition import DefinitionError, apply_definition, current_campaign, read_definition
from campaign.definition import seed_default_campaign as seed_default
from models import db, migration_runner, upgrade_schema

db_commands = Blueprint("db_commands", __name__, cli_group="db")
campaign_commands = Blueprint("campaign_commands", __name__, cli_group="campaign")
account_commands = Blueprint("account_commands", __name__, cli_group="accounts")


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


@campaign_commands.cli.command("recount-funnels")
def recount_funnels():
    """Count the funnels' stored counters again from the raw rows (once after deploying
    migration 0014, when workers of the release before may have rolled touches up)."""
    from campaign.channels import funnel_days, funnel_rollup
    from models import Campaign

    with db.connection_context():
        funnel_rollup.recount()
        for campaign in Campaign.select():
            funnel_days.rebuild(campaign)
    click.echo("funnel counters recounted")


@account_commands.cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", "display_name", default="", help="The name shown in the console.")
@click.option(
    "--all-campaigns", is_flag=True, help="Work on every campaign, not only the current one."
)
@click.password_option(help="At least 10 characters; asked for when not given.")
def create(username, role, display_name, all_campaigns, password):
    """Create a console account for the current campaign (admins and `--all-campaigns`
    accounts work on every campaign)."""
    with db.connection_context():
        campaign = None if role == "admin" or all_campaigns else current_campaign()
        try:
            account = create_account(
                username, password, role, display_name or username, campaign, all_campaigns
            )
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"created {account.role} {account.username} (id {account.id})")


@account_commands.cli.command("pii")
@click.argument("username")
@click.option("--revoke", is_flag=True, help="Take the right away instead.")
def pii(username, revoke):
    """Let an organizer export whole phone numbers (or, with --revoke, no longer)."""
    from campaign.pii import set_pii_right
    from models import Account

    with db.connection_context():
        account = Account.get_or_none(Account.username == username)
        if account is None:
            raise click.ClickException(f"no account named {username}")
        account = set_pii_right(account, not revoke, "cli")
    click.echo(f"{account.username}: pii {'on' if account.pii else 'off'}")
