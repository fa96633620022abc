"""A campaign's options stamp (issue 16, item 4): a new random value whenever its options
change, so each process can keep the options it read (validation reads them on every save)
and read them again only when the campaign row it reads with every request says so. Every
existing campaign gets a stamp now; its options are what they were."""

import uuid


def up(migrator, db):
    # Plain SQL: peewee's SQLite migrator rebuilds the table for a NOT NULL column, which
    # breaks the funnel triggers that name `campaign` (migration 0014).
    db.execute_sql(
        'ALTER TABLE "campaign" ADD COLUMN "options_stamp" VARCHAR(32) NOT NULL DEFAULT \'\''
    )
    for (campaign_id,) in db.execute_sql('SELECT id FROM "campaign"').fetchall():
        db.execute_sql(
            f'UPDATE "campaign" SET "options_stamp" = {db.param} WHERE id = {db.param}',
            (uuid.uuid4().hex, campaign_id),
        )


def down(migrator, db):
    db.execute_sql('ALTER TABLE "campaign" DROP COLUMN "options_stamp"')
