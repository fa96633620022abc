"""Assignment at the issue's scale: 2,000 entries × 60 experts, k = 3, caps 120, 7 domains
(the 2021 shares), 3% random declared conflicts, plus the structural ones (experts sitting
in recommending departments, same-region penalties).

Goals (issue 12): the solve ≤ 1 s; the whole job, reading the campaign from the database,
solving, checking and storing the draft run, ≤ 10 s. Publishing (writing the 6,000 live
pairs and queueing the notice) is timed beside it. Printed as ratios to the goals. It runs
on a scratch SQLite database (the embedded default) in a temporary folder.
"""

import random
import shutil
import tempfile
import time

ENTRIES, EXPERTS, K, CAP = 2000, 60, 3, 120
SHARES = (26, 20, 12, 13, 12, 11, 6)
CONFLICT_RATE = 0.03


def main() -> dict:
    import runtime
    from config import load_settings
    from models import db, upgrade_schema

    folder = tempfile.mkdtemp(prefix="bench-review-")
    environ = {
        "DATABASE_URL": f"sqlite:///{folder}/bench.db",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "LOG_LEVEL": "WARNING",
    }
    runtime.bootstrap(load_settings(environ))
    try:
        with db.connection_context():
            upgrade_schema()
            return _run()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run() -> dict:
    from campaign.definition import options, seed_default_campaign
    from campaign.review import runs
    from campaign.review.assignment import solve

    campaign, _ = seed_default_campaign()
    domains = [o.code for o in options(campaign, "domain")]
    _load(campaign, domains)
    instance = runs.build_instance(campaign, K)
    solves = []
    for _ in range(3):
        result = solve(instance)
        solves.append(result.solve_ms / 1000)
    solve_s = min(solves)
    started = time.perf_counter()
    run = runs.create_run(campaign, "bench")
    job_s = time.perf_counter() - started
    started = time.perf_counter()
    runs.publish(run, "bench")
    publish_s = time.perf_counter() - started
    covered = sum(1 for n in result.coverage.values() if n == K)
    print(
        f"review assignment benchmark ({ENTRIES:,} entries × {EXPERTS} experts, k={K}, "
        f"caps {CAP}, {len(domains)} domains, {CONFLICT_RATE:.0%} conflicts; SQLite)"
    )
    print(
        f"  solve (min-cost flow, best of 3)   {solve_s * 1000:8.0f} ms   "
        f"ratio to the 1 s goal: {solve_s / 1.0:.2f}"
    )
    print(
        f"  whole job (read, solve, store)     {job_s * 1000:8.0f} ms   "
        f"ratio to the 10 s goal: {job_s / 10.0:.2f}"
    )
    print(f"  publish (6,000 live pairs, notice) {publish_s * 1000:8.0f} ms")
    print(
        f"  entries with {K} experts: {covered:,}/{ENTRIES:,}; load spread (max − min): "
        f"{result.balance}; pairs {len(result.pairs):,}"
    )
    return {"solve_s": solve_s, "job_s": job_s, "publish_s": publish_s}


def _load(campaign, domains: list) -> None:
    from models import (
        Account,
        ConflictDeclaration,
        Department,
        Entry,
        ExpertProfile,
        Unit,
        WechatUser,
        db,
    )

    rng = random.Random(2021)
    regions = campaign.regions
    with db.atomic():
        departments = [
            Department.create(
                campaign=campaign,
                name=f"部门{n}",
                route=("org_dept", "industry_dept", "party_school")[n % 3],
                region=regions[n % len(regions)],
                invite_code=f"B{n}",
            ).id
            for n in range(40)
        ]
        WechatUser.insert_many(
            [{"app": "wxa", "openid": f"bench-{n}"} for n in range(ENTRIES)]
        ).execute()
        users = [u for (u,) in WechatUser.select(WechatUser.id).order_by(WechatUser.id).tuples()]
        Unit.insert_many(
            [
                {
                    "campaign": campaign,
                    "owner": u,
                    "name": f"单位{n}",
                    "region": rng.choice(regions),
                }
                for n, u in enumerate(users)
            ]
        ).execute()
        units = [u for (u,) in Unit.select(Unit.id).order_by(Unit.id).tuples()]
        rows = []
        for n, (user, unit) in enumerate(zip(users, units, strict=True)):
            department = rng.choice(departments) if rng.random() < 0.6 else None
            rows.append(
                {
                    "campaign": campaign,
                    "unit": unit,
                    "owner": user,
                    "title": f"案例{n}",
                    "track": "brand" if n % 5 == 0 else "case",
                    "domain": rng.choices(domains, SHARES)[0],
                    "route": "org_dept" if department else "online",
                    "department": department,
                    "status": "under_review",
                    "content_check": "pass",
                }
            )
        for start in range(0, len(rows), 500):
            Entry.insert_many(rows[start : start + 500]).execute()
        entries = list(Entry.select(Entry.id, Entry.domain).tuples())
        for j in range(EXPERTS):
            account = Account.create(
                username=f"bench-expert-{j}",
                password_hash="-",
                role="expert",
                display_name=f"专家{j}",
                campaign=campaign,
            )
            own = rng.sample(domains, rng.choice((1, 2, 3)))
            ExpertProfile.create(
                account=account,
                campaign=campaign,
                domains=own,
                cap=CAP,
                region=rng.choice(regions),
                department=rng.choice(departments) if j % 4 == 0 else None,
            )
            declared = [
                {"expert": account.id, "entry": entry_id, "kind": "declared"}
                for entry_id, domain in entries
                if domain in own and rng.random() < CONFLICT_RATE
            ]
            if declared:
                ConflictDeclaration.insert_many(declared).execute()


if __name__ == "__main__":
    main()
