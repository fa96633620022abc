"""Finding entries and units: filters, and Chinese substring search (issue 10 §5).

Chinese has no spaces, so word indexes find nothing; substrings are found with trigram
indexes over `entry_search` (title, abstract and unit name of each entry, kept in step by
triggers; migrations/0012): SQLite's FTS5 `trigram` tokenizer, PostgreSQL's pg_trgm GIN
index. Both answer substring queries of 3+ characters from the index; shorter queries (one
or two characters) are read by a scan, which is still exact. Units are fewer; their
names and contacts are searched directly.
"""

from peewee import SQL, Expression, NodeList, PostgresqlDatabase, Table, Value, fn

from models import Entry, Unit, db

MAX_QUERY = 100
ENTRY_FILTERS = (
    "status",
    "route",
    "department",
    "domain",
    "track",
    "content_check",
    "duplicate_group",
    "unit",
    "region",
)
UNIT_FILTERS = ("region", "domain", "org_level")
INTEGER_FILTERS = ("department", "unit")


def is_postgres() -> bool:
    return isinstance(db.obj, PostgresqlDatabase)


def clean_query(raw) -> str:
    """The search text, trimmed and capped; empty means "no search"."""
    return raw.strip()[:MAX_QUERY] if isinstance(raw, str) else ""


def entry_ids_matching(text: str, campaign=None):
    """A subquery of the ids of entries whose title, abstract or unit name contains `text`
    (of `campaign`'s entries only, if given: PostgreSQL's index knows the campaign)."""
    needle = text.lower()
    if is_postgres():
        index = Table("entry_search", ("entry_id", "campaign_id", "doc")).bind(db)
        query = index.select(index.entry_id).where(_pg_contains(index.doc, needle))
        return query.where(index.campaign_id == campaign.id) if campaign else query
    index = Table("entry_search", ("rowid", "doc")).bind(db)
    if len(needle) >= 3:
        phrase = '"' + needle.replace('"', '""') + '"'
        match = NodeList((SQL("entry_search"), SQL("MATCH"), Value(phrase)))
        return index.select(index.rowid).where(match)
    return index.select(index.rowid).where(fn.instr(fn.lower(index.doc), needle) > 0)


def _pg_contains(doc, needle: str):
    """`doc` (lower-cased text) contains `needle`: LIKE, which the trigram index answers from
    3 characters on; below that no trigram exists, and `strpos` makes it a plain scan (a
    LIKE would read the whole index instead, which is slower still)."""
    if len(needle) >= 3:
        return Expression(doc, "LIKE", "%" + _escape_like(needle) + "%")
    return fn.strpos(doc, needle) > 0


def count(campaign, filters: dict, text: str = "") -> int:
    """How many entries `entries()` finds; a bare search is counted on the index alone."""
    if text and is_postgres() and not any(v not in (None, "") for v in filters.values()):
        return entry_ids_matching(text, campaign).count()
    return entries(campaign, filters, text).count()


def _escape_like(text: str) -> str:
    """`text` taken literally inside a PostgreSQL LIKE pattern (backslash is its escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def entries(campaign, filters: dict, text: str = ""):
    """The campaign's entries matching every given filter (values already typed) and `text`."""
    query = Entry.select().where(Entry.campaign == campaign)
    for name, value in filters.items():
        if value in (None, ""):
            continue
        if name == "region":
            query = query.where(Entry.unit.in_(Unit.select(Unit.id).where(Unit.region == value)))
        else:
            query = query.where(getattr(Entry, name) == value)
    if text:
        query = query.where(Entry.id.in_(entry_ids_matching(text, campaign)))
    return query


def units(campaign, filters: dict, text: str = ""):
    """The campaign's units (merged ones left out) matching the filters and `text`."""
    query = Unit.select().where((Unit.campaign == campaign) & Unit.merged_into.is_null())
    for name, value in filters.items():
        if value not in (None, ""):
            query = query.where(getattr(Unit, name) == value)
    if text:
        needle = text.lower()
        query = query.where(
            (fn.instr(fn.lower(Unit.name), needle) > 0)
            | (fn.instr(fn.lower(Unit.contact_name), needle) > 0)
            if not is_postgres()
            else (
                Expression(Unit.name, "ILIKE", "%" + _escape_like(text) + "%")
                | Expression(Unit.contact_name, "ILIKE", "%" + _escape_like(text) + "%")
            )
        )
    return query
