"""The initial schema: every table of DESIGN §4.

Generated from `playhouse.schema_diff` against an empty database, then frozen: JSON
columns are plain TEXT here (models.JSONField serializes in Python), and Python-side
defaults are left to the models because they never reach the DDL.
"""

from peewee import *


def up(migrator, db):
    class Campaign(Model):
        slug = CharField(unique=True, max_length=64)
        title = CharField(max_length=200)
        theme = CharField(max_length=200)
        organizer = CharField(max_length=200)
        timezone = CharField(max_length=64, default="Asia/Shanghai")
        opens_at = DateTimeField()
        closes_at = DateTimeField()
        grace_minutes = IntegerField(default=0)
        review_opens_at = DateTimeField(null=True)
        review_closes_at = DateTimeField(null=True)
        publish_from = DateTimeField(null=True)
        publish_until = DateTimeField(null=True)
        stage = CharField(max_length=32, default="collection")
        limits = TextField()
        quotas = TextField()
        contact = TextField()
        regions = TextField()
        org_levels = TextField()
        settings = TextField()
        is_current = BooleanField(index=True, default=False)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "campaign"

    db.create_tables([Campaign])

    class WechatUser(Model):
        app = CharField(max_length=8)
        openid = CharField(max_length=64)
        unionid = CharField(index=True, null=True, max_length=64)
        session_key = CharField(null=True, max_length=64)
        nickname = CharField(null=True, max_length=100)
        phone = CharField(null=True, max_length=32)
        follower = BooleanField(default=False)
        created_at = DateTimeField()
        last_seen_at = DateTimeField()

        class Meta:
            database = db
            table_name = "wechat_user"
            indexes = ((("app", "openid"), True),)

    db.create_tables([WechatUser])

    class Account(Model):
        username = CharField(unique=True, max_length=64)
        password_hash = CharField()
        role = CharField(max_length=16)
        display_name = CharField(max_length=100)
        campaign = ForeignKeyField(Campaign, null=True, on_delete="CASCADE")
        wechat_user = ForeignKeyField(WechatUser, null=True, on_delete="SET NULL")
        active = BooleanField(default=True)
        failed_logins = IntegerField(default=0)
        locked_until = DateTimeField(null=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "account"

    db.create_tables([Account])

    class Unit(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        owner = ForeignKeyField(WechatUser, on_delete="CASCADE")
        name = CharField(max_length=200, default="")
        region = CharField(max_length=64, default="")
        domain = CharField(max_length=32, default="")
        org_level = CharField(max_length=32, default="")
        contact_name = CharField(max_length=64, default="")
        contact_phone = CharField(max_length=32, default="")
        phone_verified = BooleanField(default=False)
        merged_into = ForeignKeyField("self", null=True, on_delete="SET NULL")
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "unit"
            indexes = (
                (("campaign", "owner"), True),
                (("campaign", "region"), False),
                (("campaign", "domain"), False),
            )

    db.create_tables([Unit])

    class Department(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        name = CharField(max_length=200)
        route = CharField(max_length=32)
        region = CharField(max_length=64, default="")
        parent = ForeignKeyField("self", null=True, on_delete="SET NULL")
        contact_name = CharField(max_length=64, default="")
        contact_phone = CharField(max_length=32, default="")
        invite_code = CharField(unique=True, max_length=32)
        active = BooleanField(default=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "department"
            indexes = ((("campaign", "name"), True),)

    db.create_tables([Department])

    class Channel(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        department = ForeignKeyField(Department, null=True, on_delete="CASCADE")
        route = CharField(max_length=32)
        code = CharField(unique=True, max_length=16)
        label = CharField(max_length=200, default="")
        active = BooleanField(default=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "channel"
            indexes = ((("campaign", "route"), False),)

    db.create_tables([Channel])

    class Entry(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        unit = ForeignKeyField(Unit, on_delete="CASCADE")
        owner = ForeignKeyField(WechatUser, on_delete="CASCADE")
        track = CharField(max_length=8, default="case")
        domain = CharField(max_length=32, default="")
        themes = TextField()
        title = CharField(max_length=200, default="")
        abstract = TextField(default="")
        background = TextField(default="")
        approach = TextField(default="")
        results = TextField(default="")
        significance = TextField(default="")
        route = CharField(max_length=32)
        channel = ForeignKeyField(Channel, null=True, on_delete="SET NULL")
        department = ForeignKeyField(Department, null=True, on_delete="SET NULL")
        status = CharField(max_length=16, default="draft")
        content_check = CharField(max_length=16, default="unchecked")
        duplicate_group = CharField(null=True, max_length=32)
        version = IntegerField(default=1)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        submitted_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "entry"
            indexes = (
                (("campaign", "status"), False),
                (("campaign", "department", "status"), False),
                (("campaign", "route", "status"), False),
            )

    db.create_tables([Entry])

    class Assignment(Model):
        entry = ForeignKeyField(Entry, on_delete="CASCADE")
        expert = ForeignKeyField(Account, on_delete="CASCADE")
        comment = TextField(default="")
        submitted_at = DateTimeField(null=True)
        assigned_by = CharField(max_length=64)
        assigned_at = DateTimeField()

        class Meta:
            database = db
            table_name = "assignment"
            indexes = ((("expert", "entry"), True),)

    db.create_tables([Assignment])

    class Attachment(Model):
        entry = ForeignKeyField(Entry, on_delete="CASCADE")
        kind = CharField(max_length=16)
        original_name = CharField(default="")
        storage_key = CharField(null=True)
        link = CharField(null=True, max_length=1024)
        mime = CharField(max_length=64, default="")
        size = BigIntegerField(default=0)
        sha256 = CharField(max_length=64, default="")
        width = IntegerField(null=True)
        height = IntegerField(null=True)
        thumb_key = CharField(null=True)
        check_status = CharField(max_length=16, default="pending")
        trace_id = CharField(index=True, null=True, max_length=64)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "attachment"

    db.create_tables([Attachment])

    class Attendee(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        unit = ForeignKeyField(Unit, null=True, on_delete="SET NULL")
        name = CharField(max_length=64)
        phone = CharField(max_length=32, default="")
        checkin_code = CharField(unique=True, max_length=32)
        checked_in_at = DateTimeField(null=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "attendee"

    db.create_tables([Attendee])

    class Attribution(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        user = ForeignKeyField(WechatUser, on_delete="CASCADE")
        channel = ForeignKeyField(Channel, null=True, on_delete="SET NULL")
        route = CharField(max_length=32)
        department = ForeignKeyField(Department, null=True, on_delete="SET NULL")
        created_at = DateTimeField()
        reassigned_by = CharField(null=True, max_length=64)

        class Meta:
            database = db
            table_name = "attribution"
            indexes = ((("campaign", "user"), True), (("campaign", "department"), False))

    db.create_tables([Attribution])

    class AuditLog(Model):
        campaign = ForeignKeyField(Campaign, null=True, on_delete="SET NULL")
        actor = CharField(max_length=64)
        action = CharField(max_length=64)
        object_type = CharField(max_length=32)
        object_id = CharField(max_length=64)
        before = TextField(null=True)
        after = TextField(null=True)
        request_id = CharField(null=True, max_length=64)
        at = DateTimeField()

        class Meta:
            database = db
            table_name = "audit_log"
            indexes = ((("object_type", "object_id"), False), (("campaign", "at"), False))

    db.create_tables([AuditLog])

    class AuthSession(Model):
        token_hash = CharField(unique=True, max_length=64)
        user = ForeignKeyField(WechatUser, on_delete="CASCADE")
        created_at = DateTimeField()
        expires_at = DateTimeField()
        revoked_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "auth_session"

    db.create_tables([AuthSession])

    class CampaignOption(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        kind = CharField(max_length=16)
        code = CharField(max_length=32)
        label = CharField(max_length=100)
        description = TextField(default="")
        position = IntegerField(default=0)
        weight = FloatField(default=1.0)

        class Meta:
            database = db
            table_name = "campaign_option"
            indexes = ((("campaign", "kind", "code"), True),)

    db.create_tables([CampaignOption])

    class ChannelAsset(Model):
        channel = ForeignKeyField(Channel, on_delete="CASCADE")
        kind = CharField(max_length=16)
        status = CharField(max_length=16, default="pending")
        storage_key = CharField(null=True)
        ticket = CharField(null=True)
        url = CharField(null=True, max_length=512)
        error = TextField(null=True)
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "channel_asset"
            indexes = ((("channel", "kind"), True),)

    db.create_tables([ChannelAsset])

    class ConflictDeclaration(Model):
        expert = ForeignKeyField(Account, on_delete="CASCADE")
        unit = ForeignKeyField(Unit, null=True, on_delete="CASCADE")
        department = ForeignKeyField(Department, null=True, on_delete="CASCADE")
        entry = ForeignKeyField(Entry, null=True, on_delete="CASCADE")
        reason = TextField(default="")
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "conflict_declaration"

    db.create_tables([ConflictDeclaration])

    class Decision(Model):
        entry = ForeignKeyField(Entry, unique=True, on_delete="CASCADE")
        award = CharField(max_length=16)
        state = CharField(max_length=16, default="pending")
        reason = TextField(default="")
        decided_by = CharField(max_length=64)
        decided_at = DateTimeField()

        class Meta:
            database = db
            table_name = "decision"

    db.create_tables([Decision])

    class MessageTemplate(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        purpose = CharField(max_length=32)
        channel = CharField(max_length=16)
        template_id = CharField(max_length=128)
        title = CharField(max_length=100)
        long_term = BooleanField(default=False)
        fields = TextField()
        page = CharField(default="")

        class Meta:
            database = db
            table_name = "message_template"
            indexes = ((("campaign", "template_id"), True),)

    db.create_tables([MessageTemplate])

    class Notice(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        title = CharField(max_length=200)
        template = ForeignKeyField(MessageTemplate, on_delete="RESTRICT")
        values = TextField()
        audience = TextField()
        send_at = DateTimeField(null=True)
        auto_key = CharField(null=True, max_length=64)
        state = CharField(max_length=16, default="draft")
        total = IntegerField(default=0)
        created_by = CharField(max_length=64)
        created_at = DateTimeField()
        finished_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "notice"
            indexes = ((("campaign", "auto_key"), True), (("state", "send_at"), False))

    db.create_tables([Notice])

    class Delivery(Model):
        notice = ForeignKeyField(Notice, on_delete="CASCADE")
        user = ForeignKeyField(WechatUser, on_delete="CASCADE")
        state = CharField(max_length=16, default="pending")
        errcode = IntegerField(null=True)
        reason = CharField(default="")
        attempts = IntegerField(default=0)
        not_before = DateTimeField()
        lease_until = DateTimeField(null=True)
        msgid = CharField(index=True, null=True, max_length=64)
        sent_at = DateTimeField(null=True)
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "delivery"
            indexes = (
                (("notice", "user"), True),
                (("notice", "state"), False),
                (("state", "lease_until"), False),
            )

    db.create_tables([Delivery])

    class DepartmentMember(Model):
        department = ForeignKeyField(Department, on_delete="CASCADE")
        user = ForeignKeyField(WechatUser, on_delete="CASCADE")
        bound_at = DateTimeField()

        class Meta:
            database = db
            table_name = "department_member"
            indexes = ((("department", "user"), True),)

    db.create_tables([DepartmentMember])

    class EntryRevision(Model):
        entry = ForeignKeyField(Entry, on_delete="CASCADE")
        data = TextField()
        saved_at = DateTimeField()

        class Meta:
            database = db
            table_name = "entry_revision"
            indexes = ((("entry", "saved_at"), False),)

    db.create_tables([EntryRevision])

    class InboundEvent(Model):
        app = CharField(max_length=8)
        dedupe_key = CharField(unique=True)
        msg_type = CharField(max_length=32)
        event = CharField(max_length=64, default="")
        from_user = CharField(max_length=64, default="")
        payload = TextField()
        state = CharField(max_length=16, default="new")
        received_at = DateTimeField()

        class Meta:
            database = db
            table_name = "inbound_event"

    db.create_tables([InboundEvent])

    class LateCode(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        department = ForeignKeyField(Department, null=True, on_delete="CASCADE")
        code = CharField(unique=True, max_length=32)
        expires_at = DateTimeField()
        max_uses = IntegerField(default=1)
        uses = IntegerField(default=0)
        note = TextField(default="")
        created_by = CharField(max_length=64)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "late_code"

    db.create_tables([LateCode])

    class MailIn(Model):
        entry = ForeignKeyField(Entry, unique=True, on_delete="CASCADE")
        status = CharField(max_length=16, default="awaiting")
        tracking_no = CharField(max_length=64, default="")
        note = TextField(default="")
        received_at = DateTimeField(null=True)
        received_by = CharField(null=True, max_length=64)

        class Meta:
            database = db
            table_name = "mail_in"

    db.create_tables([MailIn])

    class Score(Model):
        assignment = ForeignKeyField(Assignment, on_delete="CASCADE")
        criterion = CharField(max_length=32)
        value = FloatField()
        comment = TextField(default="")

        class Meta:
            database = db
            table_name = "score"
            indexes = ((("assignment", "criterion"), True),)

    db.create_tables([Score])

    class StatusChange(Model):
        entry = ForeignKeyField(Entry, on_delete="CASCADE")
        from_status = CharField(max_length=16)
        to_status = CharField(max_length=16)
        actor = CharField(max_length=64)
        note = TextField(default="")
        at = DateTimeField()

        class Meta:
            database = db
            table_name = "status_change"
            indexes = ((("to_status", "at"), False),)

    db.create_tables([StatusChange])

    class SubscriptionGrant(Model):
        user = ForeignKeyField(WechatUser, on_delete="CASCADE")
        template_id = CharField(max_length=128)
        remaining = IntegerField(default=0)
        long_term = BooleanField(default=False)
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "subscription_grant"
            indexes = ((("user", "template_id"), True),)

    db.create_tables([SubscriptionGrant])

    class Touch(Model):
        id = BigAutoField()
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        channel = ForeignKeyField(Channel, null=True, on_delete="SET NULL")
        user = ForeignKeyField(WechatUser, null=True, on_delete="SET NULL")
        visitor = CharField(null=True, max_length=64)
        kind = CharField(max_length=16)
        client = CharField(max_length=16, default="other")
        at = DateTimeField()

        class Meta:
            database = db
            table_name = "touch"
            indexes = ((("campaign", "channel", "at"), False), (("campaign", "at"), False))

    db.create_tables([Touch])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("touch"))
    migrator.migrate(migrator.drop_table("subscription_grant"))
    migrator.migrate(migrator.drop_table("status_change"))
    migrator.migrate(migrator.drop_table("score"))
    migrator.migrate(migrator.drop_table("mail_in"))
    migrator.migrate(migrator.drop_table("late_code"))
    migrator.migrate(migrator.drop_table("inbound_event"))
    migrator.migrate(migrator.drop_table("entry_revision"))
    migrator.migrate(migrator.drop_table("department_member"))
    migrator.migrate(migrator.drop_table("delivery"))
    migrator.migrate(migrator.drop_table("notice"))
    migrator.migrate(migrator.drop_table("message_template"))
    migrator.migrate(migrator.drop_table("decision"))
    migrator.migrate(migrator.drop_table("conflict_declaration"))
    migrator.migrate(migrator.drop_table("channel_asset"))
    migrator.migrate(migrator.drop_table("campaign_option"))
    migrator.migrate(migrator.drop_table("auth_session"))
    migrator.migrate(migrator.drop_table("audit_log"))
    migrator.migrate(migrator.drop_table("attribution"))
    migrator.migrate(migrator.drop_table("attendee"))
    migrator.migrate(migrator.drop_table("attachment"))
    migrator.migrate(migrator.drop_table("assignment"))
    migrator.migrate(migrator.drop_table("entry"))
    migrator.migrate(migrator.drop_table("channel"))
    migrator.migrate(migrator.drop_table("department"))
    migrator.migrate(migrator.drop_table("unit"))
    migrator.migrate(migrator.drop_table("account"))
    migrator.migrate(migrator.drop_table("wechat_user"))
    migrator.migrate(migrator.drop_table("campaign"))
