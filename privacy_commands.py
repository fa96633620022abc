"""`flask --app app privacy …`: phone-key rotation and retention, by hand (docs/privacy.md)."""

import json

import click
from flask import Blueprint

privacy_commands = Blueprint("privacy_commands", __name__, cli_group="privacy")


@privacy_commands.cli.command("rekey")
def rekey():
    """Seal every phone number under the first key of PHONE_KEY (after adding a new key)."""
    from campaign.phones import rekey as rekey_phones

    click.echo(json.dumps(rekey_phones()))


@privacy_commands.cli.command("retention")
def retention():
    """Apply the retention rules now (the schedule runs them daily)."""
    from tasks.retention import apply_retention

    click.echo(json.dumps(apply_retention()))
