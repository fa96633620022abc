"""`entry.fingerprint`: the MinHash signature of an entry's text, for duplicate detection."""

from peewee import TextField


def up(migrator, db):
    migrator.migrate(migrator.add_column("entry", "fingerprint", TextField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("entry", "fingerprint"))
