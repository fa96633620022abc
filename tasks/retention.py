"""The daily retention job (campaign/retention.py says what it removes and when)."""

import logging

from campaign import retention
from config import current_settings
from models import db, utcnow

log = logging.getLogger(__name__)


@db.connection_context()
def apply_retention() -> dict:
    settings = current_settings()
    now = utcnow()
    report = {
        **retention.anonymize_contacts(now, settings.retention_contact_days),
        **retention.delete_old_records(now, settings.retention_log_days),
    }
    log.info("retention applied", extra={"fields": report})
    return report
