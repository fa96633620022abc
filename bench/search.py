"""Chinese substring search over 100,000 entries, on PostgreSQL (issue 10 §5).

Goal: under 50 ms for the organizer list's search (`campaign.entries.search.entries`: the count and
the first page of 50, as `GET /api/v1/org/entries?q=…` runs them). Runs only when
DATABASE_URL points at PostgreSQL, in a scratch database it creates and drops. Entries are
bulk-loaded with COPY, and the search table and its pg_trgm index built once afterwards
(as the migration does for existing rows; row by row, triggers keep it in step).
Side by side: the same query as a plain ILIKE over the entry and unit tables, which is what
the trigram index saves.
"""

import csv
import io
import random
import statistics
import time

from bench.stack import on_scratch_postgres

ENTRIES = 100_000
UNITS = 30_000
RUNS = 7
GOAL_MS = 50
WORDS = (
    "党建 引领 社区 治理 乡村 振兴 基层 组织 服务 群众 创新 实践 网格 志愿 产业 发展 融合 品牌 "
    "先锋 党员 书记 堡垒 红色 阵地 共建 共治 共享 民生 文明 示范 机制 经验 模式 平台 队伍 学习 "
    "教育 标准 规范 数字 智慧 生态 文化 旅游 企业 学校 机关 医院 街道 村居 楼宇 园区"
).split()
PLANTED = "鼓浪屿家园之友"  # in 20 abstracts: a selective query
QUERIES = {
    "rare phrase (7 字)": PLANTED,
    "unit name (4 字)": "水南街道",
    "common words (4 字)": "社区治理",
    "common words (3 字)": "党建引",
    "2 字 (no trigram: a scan)": "品牌",
}


def main() -> dict | None:
    return on_scratch_postgres("search", _run)


def _run(url: str) -> dict:
    import runtime
    from campaign.definition import seed_default_campaign
    from campaign.entries import search
    from config import load_settings
    from models import Entry, db, upgrade_schema

    environ = {"DATABASE_URL": url, "REDIS_URL": "redis://127.0.0.1:1/0", "LOG_LEVEL": "WARNING"}
    runtime.bootstrap(load_settings(environ))
    with db.connection_context():
        upgrade_schema()
        campaign, _ = seed_default_campaign()
        started = time.perf_counter()
        _load(db, campaign.id)
        loaded = time.perf_counter() - started
        db.execute_sql("VACUUM ANALYZE")

        def indexed(text):
            query = search.entries(campaign, {}, text)
            page = list(query.order_by(Entry.id.desc()).paginate(1, 50))
            return search.count(campaign, {}, text), page

        def plain(text):
            return db.execute_sql(PLAIN, (campaign.id, f"%{text}%", f"%{text}%", f"%{text}%"))

        rows = {}
        for name, text in QUERIES.items():
            hits = indexed(text)[0]
            rows[name] = (
                hits,
                _median_ms(lambda t=text: indexed(t)),
                _median_ms(lambda t=text: plain(t).fetchall()),
            )
    print(f"search benchmark (PostgreSQL, {ENTRIES:,} entries, {UNITS:,} units; pg_trgm GIN)")
    print(f"bulk load and index build {loaded:.1f} s")
    print(f"{'query':<32} {'hits':>7} {'indexed':>10} {'plain ILIKE':>12} {'ratio':>7}")
    for name, (hits, fast, slow) in rows.items():
        print(f"{name:<32} {hits:>7,} {fast:>8.1f}ms {slow:>10.1f}ms {slow / fast:>6.1f}×")
    worst = max(fast for name, (_, fast, _) in rows.items() if "2 字" not in name)
    print(f"slowest 3+ 字 search (count + first page): {worst:.1f} ms (goal < {GOAL_MS} ms)")
    return rows


PLAIN = """
SELECT e.id FROM entry e JOIN unit u ON u.id = e.unit_id
WHERE e.campaign_id = %s AND (e.title ILIKE %s OR e.abstract ILIKE %s OR u.name ILIKE %s)
ORDER BY e.id DESC
"""


INDEX = "CREATE INDEX entry_search_doc_trgm ON entry_search USING gin (doc gin_trgm_ops)"
BACKFILL = """
INSERT INTO entry_search (entry_id, campaign_id, doc)
SELECT e.id, e.campaign_id, lower(concat_ws(E'\\n', e.title, e.abstract, u.name))
FROM entry e JOIN unit u ON u.id = e.unit_id
"""


def _median_ms(query) -> float:
    query()  # warm
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        query()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _text(rng: random.Random, length: int) -> str:
    """Party-building words mixed with random common characters, about `length` 字."""
    parts, size = [], 0
    while size < length:
        part = rng.choice(WORDS) if rng.random() < 0.6 else chr(0x4E00 + rng.randrange(3500))
        parts.append(part)
        size += len(part)
    return "".join(parts)


def _load(db, campaign_id: int) -> None:
    rng = random.Random(2021)
    cursor = db.cursor()

    def copy(table: str, columns: tuple, rows) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, quoting=csv.QUOTE_ALL).writerows(rows)  # "" is text, not NULL
        buffer.seek(0)
        cursor.copy_expert(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer
        )

    now = "2021-05-01 00:00:00"
    copy("wechat_user", ("id", "app", "openid", "follower", "created_at", "last_seen_at"),
         ((n, "wxa", f"o{n:09d}", False, now, now) for n in range(1, UNITS + 1)))  # fmt: skip
    names = [f"{_text(rng, 4)}{rng.choice(['街道', '社区', '村'])}党委" for _ in range(UNITS)]
    names[123] = "南平市延平区水南街道党工委"
    copy("unit", ("id", "campaign_id", "owner_id", "name", "region", "domain", "org_level",
                  "contact_name", "contact_phone", "phone_verified", "created_at", "updated_at"),
         ((n, campaign_id, n, names[n - 1], "福州市", "urban", "党委", "联系人", "13800138000",
           False, now, now) for n in range(1, UNITS + 1)))  # fmt: skip
    planted = set(rng.sample(range(1, ENTRIES + 1), 20))

    def entries():
        for n in range(1, ENTRIES + 1):
            unit = rng.randrange(1, UNITS + 1)
            abstract = _text(rng, 250)
            if n in planted:
                abstract = abstract[:100] + PLANTED + abstract[100:]
            title = _text(rng, 14)
            yield (n, campaign_id, unit, unit, "online", "submitted", "case", "[]", title,
                   abstract, "", "", "", "", "pass", 1, "urban", now, now)  # fmt: skip

    # One row at a time, the trigger keeps entry_search in step (as in production); for a bulk
    # load, building it once afterwards is far faster, as the migration does for old rows.
    db.execute_sql("ALTER TABLE entry DISABLE TRIGGER entry_search_sync")
    copy("entry", ("id", "campaign_id", "unit_id", "owner_id", "route", "status", "track",
                   "themes", "title", "abstract", "background", "approach", "results",
                   "significance", "content_check", "version", "domain",
                   "created_at", "updated_at"), entries())  # fmt: skip
    db.execute_sql("DROP INDEX entry_search_doc_trgm")
    db.execute_sql(BACKFILL)
    db.execute_sql("SET maintenance_work_mem = '256MB'")
    db.execute_sql(INDEX)
    db.execute_sql("ALTER TABLE entry ENABLE TRIGGER entry_search_sync")
    for table in ("wechat_user", "unit", "entry"):
        db.execute_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                       f"(SELECT MAX(id) FROM {table}))")  # fmt: skip


if __name__ == "__main__":
    main()
