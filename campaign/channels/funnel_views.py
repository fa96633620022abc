"""Funnels shaped for people: the campaign with its routes, sortable department and channel
tables, a department's own view, and the same as an Excel workbook.

Built on `campaign.channels.funnels` (the counting) and shared by the organizer API, the department
API and the export, so every screen shows the same numbers.
"""

import io

from campaign.channels.funnels import (
    STEP_NAMES,
    STEPS,
    conversion,
    daily,
    empty,
    overview_totals,
    step_counts,
    totals,
)
from campaign.definition import options
from campaign.entries.exports import safe_cell
from models import Campaign, Channel, Department

SORTABLE = (*STEP_NAMES, "name")


def rates(counts: dict[str, int]) -> dict[str, float | None]:
    return {step["step"]: step["rate"] for step in conversion(counts)}


def overview(campaign: Campaign) -> dict:
    """The whole campaign and each route."""
    whole, by_route = overview_totals(campaign)
    labels = {o.code: o.label for o in options(campaign, "route")}
    return {
        "campaign": conversion(whole),
        "routes": [
            {"route": code, "label": label, "steps": conversion(by_route.get(code, empty()))}
            for code, label in labels.items()
        ],
    }


def department_rows(
    campaign: Campaign, route: str | None = None, sort: str = "scans", descending: bool = True
) -> list[dict]:
    """Every department (zeros included) with its counts and step rates, sorted."""
    counts = totals(campaign, "department")
    query = _departments(campaign)
    if route:
        query = query.where(Department.route == route)
    rows = [_department_row(d, counts) for d in query.dicts()]
    if sort == "name":
        rows.sort(key=lambda r: r["department"]["name"], reverse=descending)
    else:
        rows.sort(key=lambda r: (r["counts"][sort], r["department"]["name"]), reverse=descending)
    return rows


def top_departments(campaign: Campaign, step: str, limit: int) -> list[dict]:
    """`department_rows(campaign, sort=step)[:limit]`, reading every department's count of
    that step only and the whole funnel of the `limit` shown (the dashboard's top ten)."""
    ranked = step_counts(campaign, "department", step)
    departments = list(_departments(campaign).dicts())
    departments.sort(key=lambda d: (ranked.get(d["id"], 0), d["name"]), reverse=True)
    shown = departments[:limit]
    counts = totals(campaign, "department", [d["id"] for d in shown])
    return [_department_row(d, counts) for d in shown]


def _departments(campaign: Campaign):
    """Only what is shown: not the sealed contact phone, which would be decrypted per row."""
    return Department.select(
        Department.id, Department.name, Department.route, Department.region, Department.active
    ).where(Department.campaign == campaign)


def _department_row(department: dict, counts: dict) -> dict:
    found = counts.get(department["id"], empty())
    return {"department": department, "counts": found, "rates": rates(found)}


def channel_rows(campaign: Campaign, department_id: int | None = None, route=None) -> list[dict]:
    query = Channel.select().where(Channel.campaign == campaign)
    if department_id is not None:
        query = query.where(Channel.department == department_id)
    if route:
        query = query.where(Channel.route == route)
    query = list(query.order_by(Channel.id))
    scoped = department_id is not None or route
    counts = totals(campaign, "channel", [c.id for c in query] if scoped else None)
    return [
        {
            "channel": {
                "id": c.id,
                "code": c.code,
                "label": c.label,
                "route": c.route,
                "department_id": c.department_id,
                "active": c.active,
            },  # fmt: skip
            "counts": counts.get(c.id, empty()),
            "rates": rates(counts.get(c.id, empty())),
        }
        for c in query
    ]


def department_view(department: Department) -> dict:
    """What a department's own users see: their funnel, each channel's, and by day."""
    campaign = department.campaign
    counts = totals(campaign, "department", [department.id]).get(department.id, empty())
    return {
        "department": {"id": department.id, "name": department.name, "route": department.route},
        "steps": conversion(counts),
        "channels": channel_rows(campaign, department_id=department.id),
        "daily": daily(campaign, "department", department.id),
    }


def workbook(campaign: Campaign) -> bytes:
    """总览, 推荐单位, 渠道 and 每日 sheets; numbers exactly as the API shows them."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    labels = [label for _, label in STEPS]
    summary = book.create_sheet("总览")
    summary.append(["范围", *labels])
    view = overview(campaign)
    summary.append(["全部", *[s["count"] for s in view["campaign"]]])
    for route in view["routes"]:
        summary.append([route["label"], *[s["count"] for s in route["steps"]]])
    departments = book.create_sheet("推荐单位")
    departments.append(["推荐单位", "征集方式", "地区", *labels, "扫码→提交转化率"])
    route_labels = {r["route"]: r["label"] for r in view["routes"]}
    for row in department_rows(campaign):
        counts, d = row["counts"], row["department"]
        submitted = counts["submitted"] / counts["scans"] if counts["scans"] else None
        departments.append(
            [safe_cell(d["name"]), route_labels.get(d["route"], d["route"]),
             safe_cell(d["region"]), *[counts[s] for s in STEP_NAMES], submitted]
        )  # fmt: skip
    channels = book.create_sheet("渠道")
    channels.append(["渠道码", "渠道名称", "征集方式", *labels])
    for row in channel_rows(campaign):
        c = row["channel"]
        channels.append([c["code"], safe_cell(c["label"]), route_labels.get(c["route"], c["route"]),
                         *[row["counts"][s] for s in STEP_NAMES]])  # fmt: skip
    days = book.create_sheet("每日")
    days.append(["日期", *labels])
    for day in daily(campaign, "campaign"):
        days.append([day["day"], *[day[s] for s in STEP_NAMES]])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
